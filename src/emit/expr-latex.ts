/**
 * Prints an Expr as LaTeX for display math (KaTeX-compatible commands only): negative
 * exponents collected into \frac denominators, \sqrt, \lvert…\rvert, \operatorname{sign},
 * Greek parameter names with digit subscripts, and a coordinate subscript on g and θ.
 */
import type * as E from '../ir/expr.js';
import type { Expr } from '../ir/expr.js';
import { isZero, kroneckerEquation } from '../ir/expr.js';
import * as Q from '../ir/rational.js';
import { asFraction, hasNegativeSign, powerOfTen, signedTerms } from './layout.js';
import { latexName } from './names.js';
import { PREC, printed, SLOT, type Prec, type Printed } from './precedence.js';

export interface LatexOptions {
  /** Subscript for the coordinate-wise symbols g and theta (default 'j'); null prints them bare. */
  readonly coordinate?: string | null;
  /**
   * Time-step notation for a rule's own equations: g → g_n, θ → θ_n, a state s → s_{n+1}
   * (its new value) and s@prev → s_n. Without it s@prev prints as s_{n-1}.
   */
  readonly step?: { readonly states: readonly string[] };
}

const COORDINATE_WISE = new Set(['g', 'theta']);

export function toLatex(e: Expr, opts: LatexOptions = {}): string {
  return new LatexPrinter(opts).print(e).s;
}

/** The LaTeX of a symbol name under the options (also used for bare names in documents). */
export function latexSymbol(name: string, opts: LatexOptions = {}): string {
  const coordinate = opts.coordinate === undefined ? 'j' : opts.coordinate;
  const arg = name.endsWith('@arg');
  if (arg) return latexName(name.slice(0, -'@arg'.length));
  if (name.endsWith('@prev')) return latexName(name.slice(0, -'@prev'.length), [opts.step ? 'n' : 'n-1']);
  if (opts.step) {
    if (COORDINATE_WISE.has(name)) return latexName(name, ['n']);
    if (opts.step.states.includes(name)) return latexName(name, ['n+1']);
  }
  return latexName(name, COORDINATE_WISE.has(name) && coordinate ? [coordinate] : []);
}

/** Parentheses that grow with tall content (fractions, roots, sums). */
export function paren(s: string): string {
  return /\\(frac|sqrt|sum)/.test(s) ? `\\left(${s}\\right)` : `(${s})`;
}

function wrap(p: Printed, slot: Prec): string {
  return p.prec < slot ? paren(p.s) : p.s;
}

function integer(n: bigint): Printed {
  const k = powerOfTen(n);
  return k === undefined ? printed(`${n}`, PREC.atom) : printed(`10^{${k}}`, PREC.power);
}

class LatexPrinter {
  private readonly bound: string[] = [];
  constructor(private readonly opts: LatexOptions) {}

  print(e: Expr): Printed {
    switch (e.kind) {
      case 'num': {
        const { p, q } = e.value;
        const a = p < 0n ? -p : p;
        // \frac is not an atom: as a power's base it needs parentheses
        const m = q === 1n ? integer(a) : printed(`\\frac{${a}}{${q}}`, PREC.power);
        return p < 0n ? printed(`-${m.s}`, PREC.product) : m;
      }
      // a summation index is a bare name even where a state of the same name would get a step
      case 'sym': return printed(this.bound.includes(e.name) ? latexName(e.name) : latexSymbol(e.name, this.opts), PREC.atom);
      case 'add': {
        const s = signedTerms(e.terms, true).map((t, i) => {
          const m = wrap(this.print(t.magnitude), SLOT.term);
          return i === 0 ? (t.negative ? `-${m}` : m) : `${t.negative ? ' - ' : ' + '}${m}`;
        }).join('');
        return printed(s, PREC.sum);
      }
      case 'mul': return this.fraction(e);
      case 'pow': {
        if (isZero(e.base)) {
          // a Kronecker factor (decay 0) as the Iverson bracket of its equation
          const [lhs, rhs] = kroneckerEquation(e.exp);
          return printed(`[${this.print(lhs).s} = ${this.print(rhs).s}]`, PREC.atom);
        }
        return asFraction(e).den.length ? this.fraction(e) : this.power(e.base, e.exp);
      }
      case 'call': return this.call(e);
      case 'sum': {
        const index = latexName(e.index);
        this.bound.push(e.index);
        // a body with a leading minus would read as a subtraction from the Σ
        const body = wrap(this.print(e.body), hasNegativeSign(e.body) ? SLOT.factor : SLOT.term);
        this.bound.pop();
        return printed(`\\sum_{${index}=${this.print(e.lo).s}}^{${this.print(e.hi).s}} ${body}`, PREC.sum);
      }
    }
  }

  private call(e: E.Call): Printed {
    const a = this.print(e.arg).s;
    switch (e.fn) {
      case 'abs': return printed(/\\(frac|sum)/.test(a) ? `\\left\\lvert ${a}\\right\\rvert` : `\\lvert ${a}\\rvert`, PREC.atom);
      case 'sign': return printed(`\\operatorname{sign}${paren(a)}`, PREC.atom);
      // e^{x} binds like a power: (e^{x})^{2}
      case 'exp': return printed(`e^{${a}}`, PREC.power);
      case 'log': return printed(`\\log${paren(a)}`, PREC.atom);
      case 'tanh': return printed(`\\tanh${paren(a)}`, PREC.atom);
    }
  }

  private power(base: Expr, exp: Expr): Printed {
    const b = this.print(base);
    if (exp.kind === 'num' && Q.eq(exp.value, Q.rat(1, 2))) return printed(`\\sqrt{${b.s}}`, PREC.power);
    // a rational exponent stays inline (x^{3/2}); a \frac in a superscript is hard to read
    const x = exp.kind === 'num' && exp.value.q !== 1n ? `${exp.value.p}/${exp.value.q}` : this.print(exp).s;
    return printed(`${wrap(b, SLOT.base)}^{${x}}`, PREC.power);
  }

  /** ±(p/q)·Πnum/Πden as ±\frac{p·num}{q·den}. */
  private fraction(e: Expr): Printed {
    const f = asFraction(e);
    const top = this.factors(f.p, f.num);
    const bottom = this.factors(f.q, f.den);
    let m: Printed;
    if (bottom) m = printed(`\\frac{${top ?? '1'}}{${bottom}}`, PREC.power);
    else if (f.p === 1n && f.num.length === 1) m = this.print(f.num[0]!);
    else m = printed(top ?? '1', f.num.length === 0 ? integer(f.p).prec : PREC.product);
    return f.negative ? printed(`-${m.s}`, PREC.product) : m;
  }

  /** A juxtaposed product; \cdot only where juxtaposition would merge digits (2 \cdot 3^{n}). */
  private factors(c: bigint, xs: readonly Expr[]): string | undefined {
    // alone in a numerator or denominator a factor needs no parentheses: \frac{β}{1 - β}
    const alone = c === 1n && xs.length === 1;
    const parts = [...(c !== 1n ? [integer(c).s] : []), ...xs.map((x) => {
      const p = this.print(x);
      // a Σ inside a product is parenthesized: it would otherwise swallow the factors after it
      return p.prec < SLOT.factor && !alone ? paren(p.s) : p.s;
    })];
    if (parts.length === 0) return undefined;
    return parts.reduce((acc, s) => `${acc}${/^\d/.test(s) ? ' \\cdot ' : ' '}${s}`);
  }
}

/** e as a factor of a juxtaposed product: parenthesized when it is a sum or carries a sign. */
export function toLatexFactor(e: Expr, opts: LatexOptions = {}): string {
  return wrap(new LatexPrinter(opts).print(e), SLOT.factor);
}
