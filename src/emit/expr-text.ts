/**
 * Prints an Expr as one line of Unicode for terminals: β₁, ε, θ, √(…), |g|, sign(g), ·,
 * a true minus sign −, and superscript digits for integer powers: β/(1 − β)³.
 */
import type * as E from '../ir/expr.js';
import type { Expr } from '../ir/expr.js';
import { isZero, kroneckerEquation } from '../ir/expr.js';
import * as Q from '../ir/rational.js';
import { asFraction, hasNegativeSign, powerOfTen, signedTerms } from './layout.js';
import { superscriptInt, textName } from './names.js';
import { inSlot, PREC, printed, SLOT, type Printed } from './precedence.js';

export interface TextOptions {
  /** Subscript for the coordinate-wise symbols g and theta (default none), e.g. 'j' → gⱼ. */
  readonly coordinate?: string | null;
}

const COORDINATE_WISE = new Set(['g', 'theta']);

export function toText(e: Expr, opts: TextOptions = {}): string {
  return new TextPrinter(opts).print(e).s;
}

/** The Unicode of a symbol name: beta1 → β₁, m@prev → prev(m) (the rule language's spelling). */
export function textSymbol(name: string, opts: TextOptions = {}): string {
  if (name.endsWith('@arg')) return textName(name.slice(0, -'@arg'.length));
  if (name.endsWith('@prev')) return `prev(${textName(name.slice(0, -'@prev'.length))})`;
  return textName(name, COORDINATE_WISE.has(name) && opts.coordinate ? [opts.coordinate] : []);
}

function integer(n: bigint): Printed {
  const k = powerOfTen(n);
  return k === undefined ? printed(`${n}`, PREC.atom) : printed(`10${superscriptInt(BigInt(k))}`, PREC.power);
}

class TextPrinter {
  private readonly bound: string[] = [];
  constructor(private readonly opts: TextOptions) {}

  print(e: Expr): Printed {
    switch (e.kind) {
      case 'num': {
        const { p, q } = e.value;
        const a = p < 0n ? -p : p;
        const m = q === 1n ? integer(a) : printed(`${a}/${q}`, PREC.product);
        return p < 0n ? printed(`−${m.s}`, PREC.product) : m;
      }
      case 'sym': return printed(this.bound.includes(e.name) ? textName(e.name) : textSymbol(e.name, this.opts), PREC.atom);
      case 'add': {
        const s = signedTerms(e.terms, true).map((t, i) => {
          const m = inSlot(this.print(t.magnitude), SLOT.term);
          return i === 0 ? (t.negative ? `−${m}` : m) : `${t.negative ? ' − ' : ' + '}${m}`;
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
        this.bound.push(e.index);
        // a body with a leading minus would read as a subtraction from the Σ
        const body = inSlot(this.print(e.body), hasNegativeSign(e.body) ? SLOT.factor : SLOT.term);
        this.bound.pop();
        return printed(`Σ[${textName(e.index)}=${this.print(e.lo).s}..${this.print(e.hi).s}] ${body}`, PREC.sum);
      }
    }
  }

  private call(e: E.Call): Printed {
    const a = this.print(e.arg).s;
    switch (e.fn) {
      case 'abs': return printed(`|${a}|`, PREC.atom);
      case 'sign': return printed(`sign(${a})`, PREC.atom);
      case 'exp': return printed(`exp(${a})`, PREC.atom);
      case 'log': return printed(`log(${a})`, PREC.atom);
      case 'tanh': return printed(`tanh(${a})`, PREC.atom);
    }
  }

  private power(base: Expr, exp: Expr): Printed {
    const b = this.print(base);
    // √ binds like a power: (√x)ⁿ, never √xⁿ
    if (exp.kind === 'num' && Q.eq(exp.value, Q.rat(1, 2))) return printed(`√${inSlot(b, PREC.atom)}`, PREC.power);
    if (exp.kind === 'num' && exp.value.q === 1n && exp.value.p > 0n && exp.value.p < 100n)
      return printed(`${inSlot(b, SLOT.base)}${superscriptInt(exp.value.p)}`, PREC.power);
    return printed(`${inSlot(b, SLOT.base)}^${inSlot(this.print(exp), SLOT.exponent)}`, PREC.power);
  }

  /** ±(p/q)·Πnum/Πden as ±p·a·b/(q·c). */
  private fraction(e: Expr): Printed {
    const f = asFraction(e);
    const top = this.factors(f.p, f.num);
    const bottom = this.factors(f.q, f.den);
    let m: Printed;
    if (bottom) m = printed(`${top?.s ?? '1'}/${bottom.count > 1 ? `(${bottom.s})` : bottom.s}`, PREC.product);
    else if (f.p === 1n && f.num.length === 1) m = this.print(f.num[0]!);
    else m = printed(top?.s ?? '1', f.num.length === 0 ? integer(f.p).prec : PREC.product);
    return f.negative ? printed(`−${m.s}`, PREC.product) : m;
  }

  private factors(c: bigint, xs: readonly Expr[]): { s: string; count: number } | undefined {
    const parts = [...(c !== 1n ? [integer(c).s] : []), ...xs.map((x) => inSlot(this.print(x), SLOT.factor))];
    return parts.length ? { s: parts.join('·'), count: parts.length } : undefined;
  }
}

/** e as a factor of a product: parenthesized when it is a sum or carries a sign. */
export function toTextFactor(e: Expr, opts: TextOptions = {}): string {
  return inSlot(new TextPrinter(opts).print(e), SLOT.factor);
}
