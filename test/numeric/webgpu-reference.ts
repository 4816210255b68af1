/**
 * The float64 side of the WGSL parity check (Node only): the TypeScript module on the
 * inputs of webgpu-harness.ts, and the comparison with the tolerances stated there.
 */
import * as E from '../../src/ir/expr.js';
import type { Rule } from '../../src/ir/rule.js';
import type { Derivation, RegimeResult } from '../../src/derive/types.js';
import { loadOptimizer } from '../../src/numeric/compile.js';
import { CASE, EVAL_BUDGET, hvp, inputs, regimes, STEP_BUDGET, U, type Case, type Results } from './webgpu-harness.js';

interface Reference {
  step: Float64Array;
  /** S = maxᵢ(|θ₀ᵢ| + h·Σₜ|Uₜᵢ|): the size of the trajectory. */
  stepScale: number;
  direction: Record<string, Float64Array>;
  correction: Record<string, Float64Array>;
  memoryless: Record<string, Float64Array>;
  memorylessScale: Record<string, number>;
}

const nOf = (regime: string) => (regime === 'asymptotic' ? undefined : Number(regime.slice(2)));

export function runReference(rule: Rule, d: Derivation, c: Case = CASE): Reference {
  const mod = loadOptimizer(rule, d);
  const { theta0, grads, g } = inputs(c);
  const trajectory = (advance: (theta: Float64Array, t: number) => void, steps: number) => {
    const theta = Float64Array.from(theta0);
    const size = theta0.map(Math.abs);
    for (let t = 0; t < steps; t++) {
      const before = Float64Array.from(theta);
      advance(theta, t);
      for (let i = 0; i < c.dim; i++) size[i] += Math.abs(before[i]! - theta[i]!); // h·|Uₜᵢ|
    }
    return { theta, scale: Math.max(...size) };
  };
  const state = mod.init(c.dim);
  const step = trajectory((theta, t) => mod.step(theta, Float64Array.from(grads[t]!), state, c.h), c.steps);
  const ref: Reference = { step: step.theta, stepScale: step.scale, direction: {}, correction: {}, memoryless: {}, memorylessScale: {} };
  const G = Float64Array.from(g);
  const T0 = Float64Array.from(theta0);
  for (const regime of regimes(c)) {
    const n = nOf(regime);
    if (n !== undefined && (!d.exactN || 'unavailable' in d.exactN)) continue;
    ref.direction[regime] = mod.direction(T0, G, {}, n);
    ref.correction[regime] = mod.correction(T0, G, hvp, {}, n);
    const ml = trajectory((theta, t) => mod.memorylessStep(theta, Float64Array.from(grads[t]!), hvp, c.h, {}, n), c.memorylessSteps);
    ref.memoryless[regime] = ml.theta;
    ref.memorylessScale[regime] = ml.scale;
  }
  return ref;
}

export interface Check { what: string; err: number; tol: number }

const maxAbsDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return a.length === b.length ? m : Infinity;
};
const maxAbs = (a: ArrayLike<number>) => Math.max(0, ...Array.from(a, Math.abs));

/** Every comparison with its error and tolerance (absolute); functions not on the GPU are left out. */
export function compare(d: Derivation, gpu: Results, ref: Reference, c: Case = CASE): Check[] {
  const out: Check[] = [{ what: `step ×${c.steps}`, err: maxAbsDiff(gpu.step, ref.step), tol: STEP_BUDGET * c.steps * U * ref.stepScale }];
  for (const regime of regimes(c)) {
    const r: RegimeResult | undefined = regime === 'asymptotic' ? d.asymptotic : d.exactN && !('unavailable' in d.exactN) ? d.exactN : undefined;
    if (!r) continue;
    const kF = E.size(r.F);
    const kM = r.M.reduce((k, t) => k + E.size(t.weight) + E.size(t.field), 0);
    const dir = gpu.direction[regime];
    if (dir) out.push({ what: `direction ${regime}`, err: maxAbsDiff(dir, ref.direction[regime]!), tol: EVAL_BUDGET * kF * U * maxAbs(ref.direction[regime]!) });
    const corr = gpu.correction[regime];
    if (corr) out.push({ what: `correction ${regime}`, err: maxAbsDiff(corr, ref.correction[regime]!), tol: EVAL_BUDGET * Math.max(kM, 1) * U * maxAbs(ref.correction[regime]!) });
    const ml = gpu.memoryless[regime];
    // per step: the θ update (STEP_BUDGET) and one evaluation of F + h·M
    if (ml) out.push({ what: `memorylessStep ×${c.memorylessSteps} ${regime}`, err: maxAbsDiff(ml, ref.memoryless[regime]!), tol: (STEP_BUDGET + EVAL_BUDGET * (kF + kM)) * c.memorylessSteps * U * ref.memorylessScale[regime]! });
  }
  return out;
}

/** One line per check: error, tolerance and their ratio. */
export const describeChecks = (checks: readonly Check[]) =>
  checks.map((k) => `${k.what}: |Δ| ${k.err.toExponential(2)} ≤ ${k.tol.toExponential(2)} (${(k.err / k.tol).toFixed(3)} of the bound)`).join('\n');
