/**
 * Prints an Expr as a mathjs expression that parses back to the same value: `-` and `/`
 * for negated terms and negative exponents, `sqrt(x)` for x^(1/2), exact integers and
 * integer fractions (never a lossy decimal), and `sumOver(s, lo, hi, body)` for Σ nodes,
 * which `mathjsWithSumOver()` (src/emit/mathjs-eval.ts) knows how to evaluate. Strict: a symbol mathjs would read
 * as something else (a keyword, one of the functions printed here) is refused.
 */
import type { Expr } from '../ir/expr.js';
import { FN_NAMES, freeSymbols } from '../ir/expr.js';
import { MATHJS_WORDS } from '../ir/rule.js';
import { asFraction, isSqrt, signedTerms } from './layout.js';
import { inSlot, PREC, printed, SLOT, type Printed } from './precedence.js';

/** Words mathjs parses as operators or constants (a rule cannot use them), and the functions this printer emits. */
const RESERVED = new Set([...MATHJS_WORDS, 'sqrt', ...FN_NAMES]);

/** The mathjs name of an IR symbol: the previous value `m@prev` of state m is `m_prev`. */
export function mathjsName(name: string): string {
  const out = name.endsWith('@prev') ? `${name.slice(0, -'@prev'.length)}_prev` : name;
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(out) || RESERVED.has(out))
    throw new Error(`internal: symbol '${name}' has no faithful mathjs spelling`);
  return out;
}

/** A string mathjs parses back to e (evaluate Σ nodes with `mathjsWithSumOver()`). */
export function toMathjs(e: Expr): string {
  // m@prev → m_prev must not merge two different symbols
  const seen = new Map<string, string>();
  for (const s of freeSymbols(e)) {
    const m = mathjsName(s);
    const other = seen.get(m);
    if (other !== undefined && other !== s) throw new Error(`internal: symbols '${other}' and '${s}' both print as '${m}' in mathjs`);
    seen.set(m, s);
  }
  return print(e).s;
}

function print(e: Expr): Printed {
  switch (e.kind) {
    case 'num': {
      const { p, q } = e.value;
      const s = q === 1n ? `${p}` : `${p}/${q}`;
      return printed(s, q === 1n && p >= 0n ? PREC.atom : PREC.product);
    }
    case 'sym': return printed(mathjsName(e.name), PREC.atom);
    case 'add': {
      // canonical order kept: mathjs then adds in the same order as `evaluate`
      const terms = signedTerms(e.terms, false);
      const s = terms.map((t, i) => {
        const m = inSlot(print(t.magnitude), SLOT.term);
        return i === 0 ? (t.negative ? `-${m}` : m) : `${t.negative ? ' - ' : ' + '}${m}`;
      }).join('');
      return printed(s, PREC.sum);
    }
    case 'mul': return fraction(e);
    case 'pow': {
      if (isSqrt(e)) return printed(`sqrt(${print(e.base).s})`, PREC.atom);
      if (asFraction(e).den.length) return fraction(e);
      return printed(`${inSlot(print(e.base), SLOT.base)}^${inSlot(print(e.exp), SLOT.exponent)}`, PREC.power);
    }
    case 'call': return printed(`${e.fn}(${print(e.arg).s})`, PREC.atom);
    case 'sum':
      return printed(`sumOver(${mathjsName(e.index)}, ${print(e.lo).s}, ${print(e.hi).s}, ${print(e.body).s})`, PREC.atom);
  }
}

/** ±(p/q)·Πnum/Πden as `-p * a * b / (q * c)`. */
function fraction(e: Expr): Printed {
  const f = asFraction(e);
  const top = [...(f.p !== 1n ? [`${f.p}`] : []), ...f.num.map((x) => inSlot(print(x), SLOT.factor))];
  const bottom = [...(f.q !== 1n ? [`${f.q}`] : []), ...f.den.map((x) => inSlot(print(x), SLOT.factor))];
  let s = top.length ? top.join(' * ') : '1';
  if (bottom.length) s += ` / ${bottom.length === 1 ? bottom[0] : `(${bottom.join(' * ')})`}`;
  if (f.negative) return printed(`-${s}`, PREC.product);
  return top.length === 1 && !bottom.length && f.num.length === 1 ? print(f.num[0]!) : printed(s, PREC.product);
}
