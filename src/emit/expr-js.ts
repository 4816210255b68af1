/**
 * Prints an Expr as a JavaScript (and TypeScript) expression over float64: Math.* for the
 * functions, `**` never (Math.pow is the form every target shares), exact integers and the
 * shortest round-trip decimal for other rationals. Symbols are renamed by the caller, so
 * no name from a rule file reaches the code unprefixed. Σ nodes become an inline loop.
 */
import type { Expr } from '../ir/expr.js';
import { splitCoefficient } from '../ir/expr.js';
import * as Q from '../ir/rational.js';

export type NameOf = (symbol: string) => string;

/** Binding levels: 1 sum, 2 product, 3 unary minus, 4 atom. */
interface Out { s: string; level: number }
const atom = (s: string): Out => ({ s, level: 4 });
const wrap = (o: Out, level: number) => (o.level < level ? `(${o.s})` : o.s);

function num(v: Q.Rational): Out {
  const x = Q.toNumber(v);
  const s = v.q === 1n ? v.p.toString() : String(x);
  return x < 0 ? { s, level: 3 } : atom(s);
}

/** Prints e; subexpressions in `bound` print as the name of the local that holds them. */
export function toJs(e: Expr, name: NameOf, bound?: ReadonlyMap<Expr, string>): string {
  return print(e, name, bound).s;
}

function print(e: Expr, name: NameOf, bound?: ReadonlyMap<Expr, string>): Out {
  const local = bound?.get(e);
  if (local) return atom(local);
  const p = (x: Expr) => print(x, name, bound);
  switch (e.kind) {
    case 'num': return num(e.value);
    case 'sym': return atom(name(e.name));
    case 'add': {
      let s = '';
      e.terms.forEach((t, i) => {
        const [c, rest] = splitCoefficient(t);
        const negative = Q.cmp(c, Q.ZERO) < 0;
        if (i > 0 && negative) {
          const magnitude = Q.neg(c);
          const body = rest.kind === 'num' ? num(magnitude).s : Q.isOne(magnitude) ? wrap(p(rest), 2) : `${num(magnitude).s} * ${wrap(p(rest), 3)}`;
          s += ` - ${body}`;
        } else s += i > 0 ? ` + ${wrap(p(t), 2)}` : wrap(p(t), 2);
      });
      return { s, level: 1 };
    }
    case 'mul': {
      const top: string[] = [];
      const bottom: string[] = [];
      for (const f of e.factors) {
        const local = bound?.get(f);
        if (local) top.push(local);
        else if (f.kind === 'pow' && f.exp.kind === 'num' && Q.cmp(f.exp.value, Q.ZERO) < 0) {
          bottom.push(wrap(powOut(f.base, Q.neg(f.exp.value), p), 4));
        } else top.push(wrap(p(f), 3));
      }
      let s = top.length ? top.join(' * ') : '1';
      if (bottom.length) s += ` / ${bottom.length === 1 ? bottom[0] : `(${bottom.join(' * ')})`}`;
      return { s, level: 2 };
    }
    case 'pow': {
      if (e.exp.kind === 'num') {
        if (Q.cmp(e.exp.value, Q.ZERO) < 0) return { s: `1 / ${wrap(powOut(e.base, Q.neg(e.exp.value), p), 4)}`, level: 2 };
        return powOut(e.base, e.exp.value, p);
      }
      return atom(`Math.pow(${p(e.base).s}, ${p(e.exp).s})`);
    }
    case 'call': {
      const fn = { abs: 'Math.abs', sign: 'Math.sign', exp: 'Math.exp', log: 'Math.log', tanh: 'Math.tanh' }[e.fn];
      return atom(`${fn}(${p(e.arg).s})`);
    }
    case 'sum': {
      // an inline loop; the index is a fresh local, so it shadows nothing of the caller's
      const i = name(e.index);
      return atom(`(() => { let acc = 0; for (let ${i} = ${p(e.lo).s}; ${i} <= ${p(e.hi).s}; ${i}++) acc += ${print(e.body, name).s}; return acc; })()`);
    }
  }
}

/** b^p for a positive rational p. */
function powOut(b: Expr, p: Q.Rational, printChild: (x: Expr) => Out): Out {
  const base = printChild(b);
  if (Q.eq(p, Q.ONE)) return base;
  if (p.p === 1n && p.q === 2n) return atom(`Math.sqrt(${base.s})`);
  if (p.q === 1n && p.p === 2n && base.level === 4) return { s: `${base.s} * ${base.s}`, level: 2 };
  return atom(`Math.pow(${base.s}, ${num(p).s})`);
}
