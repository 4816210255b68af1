/**
 * The WGSL parity check shared by the Node test (Dawn) and the browser test (Chromium): the
 * same seeded inputs run through the GPU kernels (`runOnGpu`, bundled into the page as it
 * is) and through the float64 TypeScript module (`runReference`), then `compare` applies
 * the f32 tolerances below.
 *
 * Tolerances. Inputs (θ₀, every gₜ, the HVP's vectors) are f32 values fed to both sides,
 * so the difference is the kernels' f32 arithmetic alone. u = 2⁻²⁴ is the f32 unit
 * roundoff. WGSL guarantees at most 2.5 ULP (= 5u relative) for division and inherits a
 * few ULP for sqrt (1/inverseSqrt), exp and log; we budget 5u per IR node.
 * - step, N steps: the error in θ adds up step by step (the states' recurrences are
 *   contractions, |decay| < 1, so their errors do not grow geometrically). Per step and
 *   coordinate we budget 32u: the state updates and the update expression (≈ 6 nodes at
 *   5u) plus the θ subtraction. Hence |θ_gpu − θ_ref| ≤ 32·N·u·S with
 *   S = maxᵢ(|θ₀ᵢ| + h·Σₜ|Uₜᵢ|), the size of the trajectory (Uₜ the f64 update).
 *   For N = 100: 1.9e-4·S. Rounding errors add like a random walk in practice, so the
 *   observed error is far below; a wrong formula gives errors of order h·N·|ΔU|.
 * - direction, correction: one evaluation of a K-node expression, K = size(F), or
 *   Σₜ size(wₜ) + size(fieldₜ) for M; with 5u per node and a condition of at most 8 at the
 *   seeded points (g bounded away from 0, |θ| ≤ 1, default parameters, and an HVP with
 *   cond(H) ≤ 3), |out_gpu − out_ref| ≤ 40·K·u·maxᵢ|out_ref|.
 * - memorylessStep, N steps: as step, with the update F + h·M.
 * The exact-sign rules (Lion, Signum) are exact only while no sign argument falls within
 * the f32 error of 0; on these seeded inputs none does.
 */
import { mulberry32 } from '../../src/ir/random.js';
import type { WgslModule } from '../../src/emit/wgsl.js';
import { createGpuOptimizer } from '../../src/numeric/webgpu-runner.js';

export const U = 2 ** -24;
export const STEP_BUDGET = 32;
export const EVAL_BUDGET = 40;

export interface Case {
  readonly dim: number;
  readonly steps: number;
  readonly memorylessSteps: number;
  readonly h: number;
  readonly seed: number;
  /** Step indices for the exact finite-n direction and correction. */
  readonly exactN: readonly number[];
}

export const CASE: Case = { dim: 256, steps: 100, memorylessSteps: 10, h: 0.01, seed: 5, exactN: [3, 40] };

/** Seeded f32 inputs: θ₀ in [−1, 1], gradients with |g| in [0.3, 1.3] (away from 0, where identities hold a.e.). */
export function inputs(c: Case) {
  const rand = mulberry32(c.seed);
  const f32 = (x: number) => Math.fround(x);
  const theta0 = Array.from({ length: c.dim }, () => f32(2 * rand() - 1));
  const grad = () => Array.from({ length: c.dim }, () => f32((rand() < 0.5 ? -1 : 1) * (0.3 + rand())));
  const grads = Array.from({ length: Math.max(c.steps, c.memorylessSteps) }, grad);
  return { theta0, grads, g: grads[0]! };
}

/** H = tridiag(0.5, 2, 0.5): symmetric, eigenvalues in (1, 3), so cond(H) < 3. */
export function hvp(v: ArrayLike<number>): Float64Array {
  const out = new Float64Array(v.length);
  for (let i = 0; i < v.length; i++) out[i] = 2 * v[i]! + 0.5 * ((i > 0 ? v[i - 1]! : 0) + (i + 1 < v.length ? v[i + 1]! : 0));
  return out;
}

/** What both sides compute; `null` where the function is not available on the GPU. */
export interface Results {
  step: number[];
  direction: Record<string, number[] | null>;
  correction: Record<string, number[] | null>;
  memoryless: Record<string, number[] | null>;
}

/** Regimes to check: 'asymptotic' and 'n=<k>' for each exact n. */
export const regimes = (c: Case) => ['asymptotic', ...c.exactN.map((n) => `n=${n}`)];
const nOf = (regime: string) => (regime === 'asymptotic' ? undefined : Number(regime.slice(2)));

/** Whether the module has a WGSL form of fn in that regime. */
export function available(m: WgslModule, regime: string, fn: 'direction' | 'correction' | 'memorylessStep'): boolean {
  const r = regime === 'asymptotic' ? m.asymptotic : m.exact;
  return !('unavailable' in r) && !('unavailable' in r[fn]);
}

/** Runs the case on the GPU (Node or browser). */
export async function runOnGpu(device: GPUDevice, m: WgslModule, c: Case): Promise<Results> {
  const { theta0, grads, g } = inputs(c);
  const opt = await createGpuOptimizer(device, m, c.dim);
  try {
    const res: Results = { step: [], direction: {}, correction: {}, memoryless: {} };
    opt.writeTheta(theta0);
    for (let t = 0; t < c.steps; t++) {
      opt.writeGrad(grads[t]!);
      opt.step(c.h);
    }
    res.step = [...(await opt.readTheta())];
    for (const regime of regimes(c)) {
      const n = nOf(regime);
      opt.writeTheta(theta0);
      opt.writeGrad(g);
      res.direction[regime] = available(m, regime, 'direction') ? [...(await opt.direction({}, n))] : null;
      res.correction[regime] = available(m, regime, 'correction') ? [...(await opt.correction(hvp, {}, n))] : null;
      if (available(m, regime, 'memorylessStep') && available(m, regime, 'correction')) {
        for (let t = 0; t < c.memorylessSteps; t++) {
          opt.writeGrad(grads[t]!);
          await opt.memorylessStep(hvp, c.h, {}, n);
        }
        res.memoryless[regime] = [...(await opt.readTheta())];
      } else res.memoryless[regime] = null;
    }
    await opt.finish();
    return res;
  } finally {
    opt.destroy();
  }
}
