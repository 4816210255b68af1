/**
 * Seeded random expression trees for printer tests. Arguments of sqrt, log and fractional
 * powers are built positive by construction, divisors are bounded away from zero, and exp
 * sees bounded arguments, so every tree evaluates to a finite real number.
 */
import * as E from '../../src/ir/expr.js';
import type { Expr } from '../../src/ir/expr.js';
import type { Env } from '../../src/ir/eval.js';
import { mulberry32 } from '../../src/ir/random.js';

/** A seeded PRNG (never Math.random in tests). */
export const rng = mulberry32;

const SIGNED = ['g', 'theta', 'm@prev'];
const POSITIVE = ['beta1', 'beta2', 'eps', 'lambda', 'nu1'];

export function randomEnv(r: () => number): Env {
  const sgn = () => (r() < 0.5 ? -1 : 1);
  return {
    g: sgn() * (0.1 + 2 * r()), theta: sgn() * (0.1 + 2 * r()), 'm@prev': sgn() * (0.1 + r()),
    beta1: 0.5 + 0.49 * r(), beta2: 0.5 + 0.49 * r(), eps: 1e-3 + 0.1 * r(), lambda: 0.01 + r(), nu1: 0.1 + r(),
    n: 1 + Math.floor(10 * r()),
  };
}

export class ExprGen {
  constructor(private readonly r: () => number) {}

  private pick<T>(xs: readonly T[]): T { return xs[Math.floor(this.r() * xs.length)]!; }
  private int(lo: number, hi: number) { return lo + Math.floor(this.r() * (hi - lo + 1)); }

  private rational(): Expr {
    const q = this.pick([1, 1, 2, 3, 4, 10, 100000000]);
    return E.num(this.int(1, 9), q);
  }

  /** Strictly positive at every point of `randomEnv`, and at least ~1e-3. */
  pos(depth: number): Expr {
    if (depth <= 0) return this.r() < 0.6 ? E.sym(this.pick(POSITIVE)) : this.rational();
    switch (this.int(0, 7)) {
      case 0: return E.add(this.pos(depth - 1), this.pos(depth - 1));
      case 1: return E.mul(this.pos(depth - 1), this.pos(depth - 1));
      case 2: return E.div(this.pos(depth - 1), this.pos(depth - 1));
      case 3: return E.sqrt(this.pos(depth - 1));
      case 4: return E.add(E.abs(this.any(depth - 1)), E.sym('eps'));
      case 5: return E.call('exp', this.small(depth - 1));
      case 6: return E.pow(this.pos(depth - 1), E.num(this.int(-3, 3) || 1, this.pick([1, 2, 3])));
      default: return E.sub(E.ONE, E.pow(E.sym(this.pick(['beta1', 'beta2'])), E.add(E.sym('n'), E.ONE)));
    }
  }

  /** Bounded in magnitude (for exp). */
  small(depth: number): Expr {
    const leaf = this.r() < 0.5 ? E.sym(this.pick(SIGNED)) : E.sym(this.pick(POSITIVE));
    return depth <= 0 || this.r() < 0.5 ? leaf : E.mul(E.num(this.int(-3, 3) || 1, 4), E.call('sign', this.any(depth - 1)), leaf);
  }

  any(depth: number): Expr {
    if (depth <= 0) {
      const c = this.int(0, 3);
      if (c === 0) return this.rational();
      if (c === 1) return E.neg(this.rational());
      return E.sym(this.pick(c === 2 ? SIGNED : POSITIVE));
    }
    switch (this.int(0, 10)) {
      case 0: case 1: return E.add(this.any(depth - 1), this.any(depth - 1));
      case 2: return E.sub(this.any(depth - 1), this.any(depth - 1));
      case 3: case 4: return E.mul(this.any(depth - 1), this.any(depth - 1));
      case 5: return E.div(this.any(depth - 1), this.pos(depth - 1));
      case 6: return E.pow(this.any(depth - 1), E.num(this.int(2, 3)));
      case 7: return E.call(this.pick(['abs', 'sign', 'tanh'] as const), this.any(depth - 1));
      case 8: return this.r() < 0.5 ? E.call('log', this.pos(depth - 1)) : E.call('exp', this.small(depth - 1));
      case 9: return E.pow(this.pos(depth - 1), this.r() < 0.5 ? E.num(1, 2) : E.sym('n'));
      default: {
        // Σ_{s=0}^{hi} body(s): the body must read s or the constructor folds it
        const s = E.sym('s');
        return E.sum('s', E.num(this.int(0, 2)), this.r() < 0.5 ? E.sym('n') : E.num(this.int(2, 5)), E.mul(this.any(depth - 1), E.pow(E.sym(this.pick(['beta1', 'beta2'])), s)));
      }
    }
  }
}
