/**
 * Random-point identity checks: every rewrite (simplification, closed-form sum, limit) is
 * compared with its unrewritten form before it is trusted. A failure is an internal error
 * that names the rewrite; a wrong formula never reaches the user.
 */
import type { Expr } from '../ir/expr.js';
import { freeSymbols, size } from '../ir/expr.js';
import { evaluateWithError } from '../ir/eval.js';
import { InternalError } from '../ir/diagnostics.js';
import type { Domain } from '../ir/rule.js';
import { INDEX_SYMBOLS } from '../ir/intervals.js';
import { dict, own } from '../ir/dict.js';
import { mulberry32, shuffleInPlace } from '../ir/random.js';
import { ExpressionTooLarge } from './simplify.js';

/** A deterministic PRNG, so checks and outputs are reproducible. */
export const prng = mulberry32;

export interface SampleSpace {
  readonly domains: ReadonlyMap<string, Domain>;
  /** Extra constraints on index symbols: each maps to [min, max]. */
  readonly indexRange?: Readonly<Record<string, readonly [number, number]>>;
}

/**
 * A random point: parameters at well-separated places inside their domains (distinct
 * quantiles, so that two memory coefficients are never nearly equal, where closed forms are
 * ill-conditioned), g and θ away from 0, index symbols small integers.
 */
export function samplePoint(symbols: Iterable<string>, space: SampleSpace, rand: () => number): Record<string, number> {
  const env = dict<number>();
  const quantiles = shuffleInPlace([0.12, 0.3, 0.48, 0.66, 0.84], rand);
  let q = 0;
  for (const s of [...symbols].sort()) {
    const d = space.domains.get(s);
    if (d) {
      const lo = Number.isFinite(d.lo) ? d.lo : Number.isFinite(d.hi) ? d.hi - 2 : -1;
      const hi = Number.isFinite(d.hi) ? d.hi : lo + 2;
      env[s] = lo + (hi - lo) * (quantiles[q++ % quantiles.length]! + 0.06 * (rand() - 0.5));
    } else if (INDEX_SYMBOLS.has(s) || own(space.indexRange, s)) {
      const [a, b] = own(space.indexRange, s) ?? [0, 12];
      env[s] = a + Math.floor(rand() * (b - a + 1));
    } else {
      const mag = 0.2 + 1.5 * rand();
      env[s] = rand() < 0.5 ? -mag : mag;
    }
  }
  return env;
}

/** Shipped rules check at most about 2000 nodes. */
const MAX_CHECKED_NODES = 200_000;

const close = (a: number, b: number, tol: number) => Math.abs(a - b) <= tol * Math.max(1, Math.abs(a), Math.abs(b));

type CheckOptions = { points?: number; tol?: number; seed?: number; fix?: (env: Record<string, number>) => void };

/** Throws InternalError unless before ≡ after at `points` random points where both are finite. */
export function checkIdentity(name: string, before: Expr, after: Expr, space: SampleSpace, opts: CheckOptions = {}): void {
  const bad = counterexample(before, after, space, opts);
  if (bad) throw new InternalError(`rewrite '${name}' failed its random-point check at ${JSON.stringify(bad.env)}: ${bad.before} vs ${bad.after}`);
}

/**
 * A random point where before and after differ by more than rounding explains, or undefined.
 * `fix` pins symbols (e.g. integer bounds) for the comparison.
 */
export function counterexample(before: Expr, after: Expr, space: SampleSpace, opts: CheckOptions = {}): { env: Record<string, number>; before: number; after: number } | undefined {
  // evaluation walks the tree, not the shared DAG: its cost is the tree size, which nesting can make exponential
  const nodes = size(before) + size(after);
  if (nodes > MAX_CHECKED_NODES) throw new ExpressionTooLarge(`checking a rewrite would evaluate ${nodes} nodes, more than ${MAX_CHECKED_NODES}`);
  const syms = new Set([...freeSymbols(before), ...freeSymbols(after)]);
  const rand = prng(opts.seed ?? 12345);
  const points = opts.points ?? 6;
  const tol = opts.tol ?? 1e-9;
  let compared = 0;
  for (let i = 0; i < points * 4 && compared < points; i++) {
    const env = samplePoint(syms, space, rand);
    opts.fix?.(env);
    const [a, ea] = evaluateWithError(before, env);
    const [b, eb] = evaluateWithError(after, env);
    if (!Number.isFinite(a) || !Number.isFinite(b)) {
      if (Number.isFinite(a) !== Number.isFinite(b) && !Number.isNaN(a) && !Number.isNaN(b)) return { env, before: a, after: b };
      continue;
    }
    // a difference that rounding can explain is no evidence against the identity
    if (!close(a, b, tol) && Math.abs(a - b) > 16 * (ea + eb)) return { env, before: a, after: b };
    compared++;
  }
  return undefined;
}
