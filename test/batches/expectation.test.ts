/**
 * Issue 7: the closed-form expectation over random reshuffling. At a fixed θ, the Monte-Carlo
 * mean of the pathwise M over independent reshufflings (random permutations and a random
 * position of step n in its epoch) must lie within a confidence interval that the test
 * computes from the sample standard deviation — around M_full + γ(m)·∇V, and (so that the test
 * can fail) not around M_full alone.
 */
import { describe, expect, it } from 'vitest';
import { derive } from '../../src/derive/index.js';
import { deriveBatches } from '../../src/derive/batches.js';
import { evaluate } from '../../src/ir/eval.js';
import { loadOptimizer } from '../../src/numeric/compile.js';
import { PathwiseMemoryless, reshuffledOrder } from '../../src/numeric/batches.js';
import { createLogistic } from '../../src/numeric/problems/index.js';
import { mulberry32 } from '../../src/ir/random.js';
import { linearRules } from './helpers.js';

const SAMPLES = 3000;
/** Family-wise level of the per-coordinate intervals (Bonferroni over coordinates). */
const ALPHA = 1e-3;

/** Φ⁻¹(p) for the standard normal, by bisection on an erfc accurate to 1.2e-7 (Numerical Recipes' erfcc). */
function normalQuantile(p: number): number {
  const erfc = (x: number) => {
    const z = Math.abs(x), t = 1 / (1 + 0.5 * z);
    const r = t * Math.exp(-z * z - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))));
    return x >= 0 ? r : 2 - r;
  };
  const cdf = (x: number) => 0.5 * erfc(-x / Math.SQRT2);
  let lo = -10, hi = 10;
  for (let i = 0; i < 100; i++) { const mid = (lo + hi) / 2; if (cdf(mid) < p) lo = mid; else hi = mid; }
  return (lo + hi) / 2;
}

describe.each(linearRules().filter(([r]) => !r.file.includes('debiased')).map(([r, hyper]) => [r.file, r, hyper] as const))('%s', (_, rule, hyper) => {
  const d = derive(rule, { exactN: true });
  const mod = loadOptimizer(rule, d);

  it.each([2, 4, 6])('m = %i: the Monte-Carlo mean of the pathwise M matches M_full + γ·∇V', (m) => {
    const problem = createLogistic({ samples: 24, features: 4, batches: m, seed: 7 });
    const dim = problem.dim;
    const theta = problem.initial(2);
    const g = problem.grad(theta, new Float64Array(dim));
    const full = mod.correction(theta, g, (v) => problem.hvp(theta, v, new Float64Array(dim)), hyper);
    // ∇V = 2((1/m)Σᵢ Hᵢ∇Lᵢ − H∇L), V = (1/m)Σᵢ‖∇Lᵢ − ∇L‖²
    const gradV = new Float64Array(dim);
    for (let i = 0; i < m; i++) {
      const hg = problem.batchHvp(i, theta, problem.batchGrad(i, theta, new Float64Array(dim)), new Float64Array(dim));
      for (let j = 0; j < dim; j++) gradV[j] += (2 / m) * hg[j]!;
    }
    const hg = problem.hvp(theta, g, new Float64Array(dim));
    for (let j = 0; j < dim; j++) gradV[j] -= 2 * hg[j]!;
    const b = deriveBatches(d, m);
    const env: Record<string, number> = { ...Object.fromEntries(rule.params.map((p) => [p.name, Number(p.valueText)])), ...hyper, [b.batchSymbol]: m };
    const gamma = evaluate(b.noiseCoefficient, env);
    const expected = full.map((x, j) => x + gamma * gradV[j]!);

    const pathwise = new PathwiseMemoryless(mod, problem, { regime: 'asymptotic', hyper });
    const rand = mulberry32(99 + m);
    const sum = new Float64Array(dim), sumSq = new Float64Array(dim);
    for (let r = 0; r < SAMPLES; r++) {
      const order = reshuffledOrder(m, r + 1, Math.floor(rand() * m));
      const { M } = pathwise.evaluate(theta, order, 0);
      for (let j = 0; j < dim; j++) { sum[j] += M[j]!; sumSq[j] += M[j]! * M[j]!; }
    }
    const z = normalQuantile(1 - ALPHA / (2 * dim));
    const halfWidth = (j: number) => {
      const mean = sum[j]! / SAMPLES;
      const variance = (sumSq[j]! - SAMPLES * mean * mean) / (SAMPLES - 1);
      return z * Math.sqrt(Math.max(variance, 0) / SAMPLES);
    };
    const inside = (target: Float64Array) => target.every((t, j) => Math.abs(sum[j]! / SAMPLES - t) <= halfWidth(j));
    expect(inside(expected)).toBe(true);
    // the noise term is resolved: without it the mean falls outside the interval
    expect(inside(full)).toBe(false);
  });
});
