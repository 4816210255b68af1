/**
 * How every printer lays a canonical expression out on the page: a sum as signed terms
 * (a + (−1)·b prints as a − b) and a product as a fraction (a·b^(−1) prints as a/b).
 * Shared by the printers so that they agree on structure and differ only in notation.
 */
import * as E from '../ir/expr.js';
import type { Expr } from '../ir/expr.js';
import * as Q from '../ir/rational.js';

/** A term with its sign pulled out: term = (negative ? −1 : 1) · magnitude. */
export interface SignedTerm {
  readonly negative: boolean;
  readonly magnitude: Expr;
}

/** True when e is written with a leading minus: a negative number or a negative coefficient. */
export function hasNegativeSign(e: Expr): boolean {
  if (e.kind === 'add') return e.terms.every(hasNegativeSign);
  const [c] = E.splitCoefficient(e);
  return Q.cmp(c, Q.ZERO) < 0;
}

/** −e, distributing over a sum so that −(−1 − n) prints as 1 + n. */
export function negate(e: Expr): Expr {
  return e.kind === 'add' ? E.add(...e.terms.map(negate)) : E.neg(e);
}

export function signedTerm(t: Expr): SignedTerm {
  return hasNegativeSign(t) && t.kind !== 'add' ? { negative: true, magnitude: negate(t) } : { negative: false, magnitude: t };
}

/**
 * The terms of a sum with signs pulled out. With `readable`, the human printers' order:
 * a constant goes last when it has the sign of every other term (n + 1, −g − 1), and
 * otherwise the first positive term leads (1 − β rather than −β + 1). Without it the
 * canonical order is kept, so mathjs adds in the same order as `evaluate`.
 */
export function signedTerms(terms: readonly Expr[], readable: boolean): SignedTerm[] {
  const out = terms.map(signedTerm);
  if (!readable) return out;
  const [first, ...rest] = out;
  if (first && terms[0]!.kind === 'num' && rest.length && rest.every((t) => t.negative === first.negative)) return [...rest, first];
  if (out[0]?.negative) {
    const i = out.findIndex((t) => !t.negative);
    if (i > 0) out.unshift(...out.splice(i, 1));
  }
  return out;
}

/**
 * A product as  ±(p/q) · Π num / Π den  with p, q > 0 and every denominator factor
 * carrying a positive exponent: β·(1 − β)^(−3) has num [β], den [(1 − β)³].
 */
export interface Fraction {
  readonly negative: boolean;
  readonly p: bigint;
  readonly q: bigint;
  readonly num: readonly Expr[];
  readonly den: readonly Expr[];
}

export function asFraction(e: Expr): Fraction {
  const factors = e.kind === 'mul' ? e.factors : [e];
  let negative = false;
  let p = 1n;
  let q = 1n;
  const num: Expr[] = [];
  const den: Expr[] = [];
  for (const f of factors) {
    if (f.kind === 'num') {
      negative = f.value.p < 0n;
      p = negative ? -f.value.p : f.value.p;
      q = f.value.q;
    } else if (f.kind === 'pow' && hasNegativeSign(f.exp)) {
      den.push(E.pow(f.base, negate(f.exp)));
    } else {
      num.push(f);
    }
  }
  return { negative, p, q, num, den };
}

/** True for a pow that prints as a root: x^(1/2). */
export const isSqrt = (e: Expr): boolean =>
  e.kind === 'pow' && e.exp.kind === 'num' && Q.eq(e.exp.value, Q.rat(1, 2));

/** k when n = 10^k with k ≥ 4 (printed as a power of ten by the human-facing printers). */
export function powerOfTen(n: bigint): number | undefined {
  if (n < 10000n) return undefined;
  const s = n.toString();
  return /^10+$/.test(s) ? s.length - 1 : undefined;
}
