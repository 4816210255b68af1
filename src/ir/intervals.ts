/**
 * Sound interval bounds of an expression over the parameters' domains (g and θ unbounded,
 * n and lags non-negative integers). Used to prove decay (|a| < 1), convergence of infinite
 * sums (|r| < 1) and the sign of coefficients. An unknown is (−∞, ∞), never a guess.
 */
import type { Expr } from './expr.js';
import { toNumber } from './rational.js';
import type { Domain } from './rule.js';

export interface Interval {
  readonly lo: number;
  readonly hi: number;
  /** Whether lo (hi) is attained. */
  readonly loIn: boolean;
  readonly hiIn: boolean;
}

export type Domains = ReadonlyMap<string, Interval>;

export const ALL: Interval = { lo: -Infinity, hi: Infinity, loIn: false, hiIn: false };
const point = (v: number): Interval => ({ lo: v, hi: v, loIn: true, hiIn: true });
const NONNEG_INT: Interval = { lo: 0, hi: Infinity, loIn: true, hiIn: false };

export const fromDomain = (d: Domain): Interval => ({ lo: d.lo, hi: d.hi, loIn: !d.loOpen && Number.isFinite(d.lo), hiIn: !d.hiOpen && Number.isFinite(d.hi) });

import { INDEX_SYMBOLS } from './expr.js';
export { INDEX_SYMBOLS };

type Cand = { v: number; in: boolean };
function hull(cs: Cand[]): Interval {
  let lo = Infinity, hi = -Infinity, loIn = false, hiIn = false;
  for (const c of cs) {
    if (Number.isNaN(c.v)) return ALL;
    if (c.v < lo) { lo = c.v; loIn = c.in; } else if (c.v === lo) loIn = loIn || c.in;
    if (c.v > hi) { hi = c.v; hiIn = c.in; } else if (c.v === hi) hiIn = hiIn || c.in;
  }
  return { lo, hi, loIn: loIn && Number.isFinite(lo), hiIn: hiIn && Number.isFinite(hi) };
}
// 0·∞ = 0: a bound that is a limit of products with a vanishing factor
const times = (a: number, b: number) => (a === 0 || b === 0 ? 0 : a * b);

function addI(a: Interval, b: Interval): Interval {
  return { lo: a.lo + b.lo, hi: a.hi + b.hi, loIn: a.loIn && b.loIn, hiIn: a.hiIn && b.hiIn };
}
function mulI(a: Interval, b: Interval): Interval {
  return hull([
    { v: times(a.lo, b.lo), in: a.loIn && b.loIn }, { v: times(a.lo, b.hi), in: a.loIn && b.hiIn },
    { v: times(a.hi, b.lo), in: a.hiIn && b.loIn }, { v: times(a.hi, b.hi), in: a.hiIn && b.hiIn },
  ]);
}
function recip(a: Interval): Interval {
  if (a.lo > 0 || (a.lo === 0 && !a.loIn)) return { lo: a.hi === Infinity ? 0 : 1 / a.hi, hi: a.lo === 0 ? Infinity : 1 / a.lo, loIn: a.hiIn, hiIn: a.loIn && a.lo !== 0 };
  if (a.hi < 0 || (a.hi === 0 && !a.hiIn)) {
    const r = recip({ lo: -a.hi, hi: -a.lo, loIn: a.hiIn, hiIn: a.loIn });
    return { lo: -r.hi, hi: -r.lo, loIn: r.hiIn, hiIn: r.loIn };
  }
  // contains 0 (a.e. never hit at a random point, but no bound follows)
  if (a.lo === 0) return { lo: a.hi === Infinity ? 0 : 1 / a.hi, hi: Infinity, loIn: a.hiIn, hiIn: false };
  if (a.hi === 0) return { lo: -Infinity, hi: a.lo === -Infinity ? 0 : 1 / a.lo, loIn: false, hiIn: a.loIn };
  return ALL;
}
function absI(a: Interval): Interval {
  if (a.lo >= 0) return a;
  if (a.hi <= 0) return { lo: -a.hi, hi: -a.lo, loIn: a.hiIn, hiIn: a.loIn };
  const hi = Math.max(-a.lo, a.hi);
  return { lo: 0, hi, loIn: true, hiIn: hi === -a.lo ? a.loIn : a.hiIn };
}
function monotone(a: Interval, f: (x: number) => number, increasing: boolean): Interval {
  const lo = { v: f(a.lo), in: a.loIn };
  const hi = { v: f(a.hi), in: a.hiIn };
  return increasing ? { lo: lo.v, hi: hi.v, loIn: lo.in, hiIn: hi.in } : { lo: hi.v, hi: lo.v, loIn: hi.in, hiIn: lo.in };
}

/** tanh is increasing onto (−1, 1): ±1 is never attained, though Math.tanh of a large finite x rounds to it. */
function tanhI(a: Interval): Interval {
  const m = monotone(a, Math.tanh, true);
  return { ...m, loIn: m.loIn && Math.abs(m.lo) < 1, hiIn: m.hiIn && Math.abs(m.hi) < 1 };
}

export function bound(e: Expr, domains: Domains): Interval {
  switch (e.kind) {
    case 'num': return point(toNumber(e.value));
    case 'sym': return domains.get(e.name) ?? (INDEX_SYMBOLS.has(e.name) ? NONNEG_INT : ALL);
    case 'add': return e.terms.map((t) => bound(t, domains)).reduce(addI);
    case 'mul': return e.factors.map((t) => bound(t, domains)).reduce(mulI);
    case 'call': {
      const a = bound(e.arg, domains);
      switch (e.fn) {
        case 'abs': return absI(a);
        case 'sign': return hull([{ v: Math.sign(a.lo), in: true }, { v: Math.sign(a.hi), in: true }]);
        case 'exp': return monotone(a, Math.exp, true);
        case 'log': return a.lo >= 0 ? monotone(a, Math.log, true) : ALL;
        case 'tanh': return tanhI(a);
      }
      return ALL;
    }
    case 'sum': return ALL;
    case 'pow': {
      const b = bound(e.base, domains);
      if (e.exp.kind === 'num') {
        const p = toNumber(e.exp.value);
        if (Number.isInteger(p)) {
          const k = Math.abs(p);
          const base = k % 2 === 0 ? absI(b) : b;
          const pos = monotone(base, (x) => Math.pow(x, k), true);
          return p > 0 ? pos : recip(pos);
        }
        // fractional powers are real only for b ≥ 0
        const nb = b.lo < 0 ? { lo: 0, hi: Math.max(0, b.hi), loIn: true, hiIn: b.hiIn } : b;
        return monotone(nb, (x) => Math.pow(x, p), p > 0);
      }
      const x = bound(e.exp, domains);
      if (b.lo < 0 || (b.lo === 0 && b.loIn)) return b.lo >= 0 ? { lo: 0, hi: Infinity, loIn: true, hiIn: false } : ALL;
      // b > 0: b^x = exp(x·ln b) is monotone in each argument, so the extremes sit at corners
      const c = (bv: number, bi: boolean, xv: number, xi: boolean): Cand => ({ v: Math.exp(times(xv, Math.log(bv))), in: bi && xi });
      return hull([c(b.lo, b.loIn, x.lo, x.loIn), c(b.lo, b.loIn, x.hi, x.hiIn), c(b.hi, b.hiIn, x.lo, x.loIn), c(b.hi, b.hiIn, x.hi, x.hiIn)]);
    }
  }
}

export const isPositive = (i: Interval) => i.lo > 0 || (i.lo === 0 && !i.loIn);
export const isNegative = (i: Interval) => i.hi < 0 || (i.hi === 0 && !i.hiIn);
export const isNonNegative = (i: Interval) => i.lo >= 0;
export const isNonPositive = (i: Interval) => i.hi <= 0;
/** |x| < 1 throughout. */
export const isContraction = (i: Interval) => (i.lo > -1 || (i.lo === -1 && !i.loIn)) && (i.hi < 1 || (i.hi === 1 && !i.hiIn));

/** Whether 1 may lie in the interval. */
export const mayBeOne = (i: Interval) => (i.lo < 1 || (i.lo === 1 && i.loIn)) && (i.hi > 1 || (i.hi === 1 && i.hiIn));
