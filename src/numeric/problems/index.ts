/**
 * The test problems, by name, for the convergence-order experiments (docs/theory.md §8.2).
 *
 * Each has an exact gradient and an exact Hessian-vector product. Contract shared by all:
 * - `grad(θ, out)` and `hvp(θ, v, out)` write into `out` and return that same array; they
 *   allocate nothing, and a result stays valid until the caller overwrites `out`, so two
 *   calls with different `out` buffers give independent results. `out` must alias neither
 *   `θ` nor `v`. Internal work buffers are shared, so one problem is not reentrant.
 * - Everything is deterministic in the seeds: `seed` fixes the data (and the quartic's
 *   coefficients), `initial(seed)` the starting point; no Math.random anywhere.
 * - Scales: at `initial()` the gradient is O(0.1–1) per coordinate and λ_max(H) is O(1–10),
 *   so step sizes h ≈ 0.001–0.05 are stable over a horizon T = h·steps ≈ 1–2.
 */
import type { FiniteSumProblem, Problem } from '../types.js';
import { createLogistic } from './logistic.js';
import { createMlp } from './mlp.js';
import { createQuartic } from './quartic.js';
import { createLinearNet } from './linear-net.js';
import { createSensing } from './sensing.js';

export { createLogistic, type LogisticOptions } from './logistic.js';
export { createMlp, type MlpOptions } from './mlp.js';
export { createQuartic, type QuarticOptions } from './quartic.js';
export { createLinearNet, type LinearNetOptions } from './linear-net.js';
export { createSensing, type SensingOptions } from './sensing.js';

export type ProblemFactory = (opts?: { seed?: number }) => Problem;

/** The named problems with their default sizes. */
export const PROBLEMS: Record<string, ProblemFactory> = {
  quartic: (opts = {}) => createQuartic({ seed: opts.seed }),
  logistic: (opts = {}) => createLogistic({ seed: opts.seed }),
  mlp: (opts = {}) => createMlp({ seed: opts.seed }),
  'linear-net': (opts = {}) => createLinearNet({ seed: opts.seed }),
  sensing: (opts = {}) => createSensing({ seed: opts.seed }),
};

/** The problems that are means over samples, split into `batches` equal batches (docs/theory.md §7). */
export const FINITE_SUM_PROBLEMS: Record<string, (opts: { seed?: number; batches: number }) => FiniteSumProblem> = {
  logistic: (opts) => createLogistic(opts),
  mlp: (opts) => createMlp(opts),
};

/** The names of PROBLEMS, sorted. */
export function problemNames(): string[] {
  return Object.keys(PROBLEMS).sort();
}
