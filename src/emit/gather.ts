/** Gathering the loop-invariant coefficients of each varying monomial, so they are summed before the loop. */
import * as E from '../ir/expr.js';
import type { Expr } from '../ir/expr.js';
import type { RegimeResult } from '../derive/types.js';

/**
 * Σₖ cₖ·v = (Σₖ cₖ)·v: in every sum, the loop-invariant coefficients of each varying
 * monomial are gathered into one invariant factor, which `Bindings` hoists, so they are
 * added once, before the loop, in extended precision. Per coordinate those sums cancel: in
 * f32 always (AdaBelief's exact-n F adds a dozen invariant·g² terms of size 1 to a result of
 * size 10⁻³ and keeps no correct digit), in float64 for rates near 1.
 * Products distribute over a sum with one varying factor: c·(a·v + b) = (c·a)·v + c·b.
 */
export function gatherInvariantCoefficients(e: Expr, isVarying: (symbol: string) => boolean): Expr {
  const varying = new Map<Expr, boolean>();
  const isVar = (x: Expr): boolean => {
    let v = varying.get(x);
    if (v === undefined) varying.set(x, (v = [...E.freeSymbols(x)].some(isVarying)));
    return v;
  };
  const memo = new Map<Expr, Expr>();
  /** x as Σ coefficient·monomial, one entry per distinct monomial (E.ONE for the invariant part). */
  const linear = (x: Expr): [Expr, Expr][] => {
    if (!isVar(x)) return [[x, E.ONE]];
    let pairs: [Expr, Expr][];
    if (x.kind === 'add') pairs = x.terms.flatMap(linear);
    else if (x.kind === 'mul') {
      const c = E.mul(...x.factors.filter((f) => !isVar(f)));
      const vs = x.factors.filter(isVar);
      pairs = vs.length === 1 ? linear(vs[0]!).map(([k, v]): [Expr, Expr] => [E.mul(c, k), v]) : [[c, E.mul(...vs.map(norm))]];
    } else pairs = [[E.ONE, norm(x)]];
    const byMonomial = new Map<Expr, Expr[]>();
    for (const [k, v] of pairs) byMonomial.set(v, [...(byMonomial.get(v) ?? []), k]);
    return [...byMonomial].map(([v, ks]): [Expr, Expr] => [E.add(...ks), v]);
  };
  const norm = (x: Expr): Expr => {
    let out = memo.get(x);
    if (out) return out;
    if (!isVar(x) || x.kind === 'sum') out = x;
    else if (x.kind === 'add' || x.kind === 'mul') out = E.add(...linear(x).map(([k, v]) => E.mul(k, v)));
    else out = E.withChildren(x, E.children(x).map(norm));
    memo.set(x, out);
    return out;
  };
  return norm(e);
}

/** A regime with every F, field and weight gathered (g and θ vary): what the CPU-side targets print. */
export function gatherRegime(r: RegimeResult): RegimeResult {
  const varying = (sym: string) => sym === 'g' || sym === 'theta';
  const gather = (e: Expr) => gatherInvariantCoefficients(e, varying);
  return { ...r, F: gather(r.F), M: r.M.map((t) => ({ ...t, field: gather(t.field), weight: gather(t.weight) })) };
}
