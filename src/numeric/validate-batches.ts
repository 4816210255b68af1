/**
 * The O(h²) claim on a batch path (docs/theory.md §7): for one fixed batch order π, the optimizer
 *   θₙ₊₁ = θₙ − h·F⁽ⁿ⁾(history of ∇L_{π(s)}(θ_s))                      (module.step)
 * against the pathwise memoryless iteration
 *   θ̃ₙ₊₁ = θ̃ₙ − h·(F⁽ⁿ⁾(θ̃ₙ) + h·M⁽ⁿ⁾(θ̃ₙ))   with F, M read on the batch history at θ̃ₙ,
 * and the same without M. The gap should scale like h² with the pathwise M, like h without.
 * Every step size reads the same order π(0), π(1), …, so the paths differ only in h.
 */
import { fitSlope, observedOrders } from './slopes.js';
import { PathwiseMemoryless, reshuffledOrder, type Truncation } from './batches.js';
import type { FiniteSumProblem, Hyper, OptimizerModule } from './types.js';
import { PASS_SLOPE, ord, progressEvery, sci, tableLines } from './validate.js';

export type BatchVariant = 'pathwise' | 'none';

export interface BatchValidationOptions {
  readonly module: OptimizerModule;
  readonly problem: FiniteSumProblem;
  readonly hs: readonly number[];
  readonly horizon: number;
  readonly hyper?: Partial<Hyper>;
  /** Seed of the starting point. */
  readonly seed?: number;
  /** Seed of the batch order (random reshuffling, one permutation per epoch). */
  readonly orderSeed?: number;
  /** Largest relative weight the lag truncation may drop. */
  readonly tol?: number;
  readonly onProgress?: (done: number, total: number) => void;
}

export interface BatchValidationResult {
  readonly problem: string;
  readonly dim: number;
  readonly batches: number;
  readonly seed: number;
  readonly orderSeed: number;
  readonly horizon: number;
  readonly hyper: Readonly<Record<string, number>>;
  readonly truncation: Truncation;
  readonly runs: readonly { readonly h: number; readonly steps: number; readonly gap: Record<BatchVariant, number> }[];
  readonly orders: Record<BatchVariant, number[]>;
  readonly slopes: Record<BatchVariant, number>;
  readonly ok: boolean;
  readonly reason: string;
  readonly seconds: number;
}

export function runBatchValidation(opts: BatchValidationOptions): BatchValidationResult {
  const { module, problem, horizon } = opts;
  const seed = opts.seed ?? 1, orderSeed = opts.orderSeed ?? 1;
  const hs = [...new Set(opts.hs)].sort((a, b) => b - a);
  if (hs.length < 2) throw new RangeError('give at least two distinct step sizes');
  // spread, not assignment: a parameter named __proto__ stays an own property
  const hyper: Record<string, number> = { ...module.defaults, ...Object.fromEntries(Object.entries(opts.hyper ?? {}).filter((e): e is [string, number] => e[1] !== undefined)) };
  const pathwise = new PathwiseMemoryless(module, problem, { hyper, regime: 'exact', ...(opts.tol !== undefined ? { tol: opts.tol } : {}) });
  const order = reshuffledOrder(problem.batches, orderSeed);
  const theta0 = problem.initial(seed);
  const dim = problem.dim;
  const total = hs.reduce((s, h) => s + Math.round(horizon / h), 0);
  const progress = progressEvery(total, opts.onProgress);
  const t0 = performance.now();
  const runs = hs.map((h) => {
    const steps = Math.round(horizon / h);
    const theta = theta0.slice(), grad = new Float64Array(dim);
    const state = module.init(dim, hyper);
    const tracks = { pathwise: theta0.slice(), none: theta0.slice() };
    const gap = { pathwise: 0, none: 0 };
    for (let n = 0; n < steps; n++) {
      module.step(theta, problem.batchGrad(order(n), theta, grad), state, h, hyper);
      for (const v of ['pathwise', 'none'] as const) {
        if (gap[v] === Infinity) continue;
        const t = tracks[v];
        pathwise.step(t, order, n, h, v === 'pathwise');
        let g = 0;
        for (let j = 0; j < dim; j++) {
          const dj = Math.abs(theta[j]! - t[j]!);
          if (!(dj <= g)) g = dj; // NaN propagates
        }
        gap[v] = Number.isFinite(g) ? Math.max(gap[v], g) : Infinity;
      }
      progress.tick();
    }
    return { h, steps, gap };
  });
  progress.finish();
  const gaps = (v: BatchVariant) => runs.map((r) => r.gap[v]);
  const orders = { pathwise: observedOrders(hs, gaps('pathwise')), none: observedOrders(hs, gaps('none')) };
  const slopes = { pathwise: fitSlope(hs, gaps('pathwise')), none: fitSlope(hs, gaps('none')) };
  const rounding = runs.every((r) => r.gap.pathwise <= 1e-12 * Math.max(1, ...Array.from(theta0, Math.abs)));
  const ok = rounding || slopes.pathwise >= PASS_SLOPE;
  const reason = rounding
    ? 'the memoryless iteration reproduces the optimizer up to rounding (no memory)'
    : ok
      ? `second order on this batch path: slope ${slopes.pathwise.toFixed(2)} with the pathwise M, ${slopes.none.toFixed(2)} without`
      : `slope ${slopes.pathwise.toFixed(2)} with the pathwise M is below ${PASS_SLOPE}: try smaller step sizes (--h) or a shorter horizon`;
  return {
    problem: problem.name, dim, batches: problem.batches, seed, orderSeed, horizon, hyper, truncation: pathwise.truncation,
    runs, orders, slopes, ok, reason, seconds: (performance.now() - t0) / 1000,
  };
}


/** The table: h, steps, both gaps and the observed orders; then slopes, truncation and verdict. */
export function formatBatchValidation(r: BatchValidationResult): string {
  const head = ['h', 'steps', 'gap pathwise M', 'gap no M', 'order pathwise', 'order no M'];
  const rows = r.runs.map((run, i) => [String(run.h), String(run.steps), sci(run.gap.pathwise), sci(run.gap.none), ord(r.orders.pathwise[i - 1]), ord(r.orders.none[i - 1])]);
  rows.push(['slope', '', '', '', ord(r.slopes.pathwise), ord(r.slopes.none)]);
  return [
    `${r.problem} (dim ${r.dim}, ${r.batches} batches, order seed ${r.orderSeed}, seed ${r.seed}, horizon ${r.horizon}, ${r.seconds.toFixed(2)} s)`,
    `lags kept: ${r.truncation.lags} (dropped relative weight ${r.truncation.droppedWeight.toExponential(1)})`,
    ...tableLines(head, rows),
    `${r.ok ? 'ok' : 'FAILED'}: ${r.reason}`,
  ].join('\n') + '\n';
}
