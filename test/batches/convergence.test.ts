/**
 * Issue 7, the pathwise claim: for a fixed batch order, the memoryless iteration with the
 * pathwise M stays O(h²) close to the optimizer and without M only O(h): slope in [1.8, 2.3]
 * with M and [0.8, 1.3] without, on logistic regression and the MLP, with small batches and
 * with one example per batch, for two batch orders each.
 *
 * One example per batch uses smaller data sets (40 and 30 samples, so that an epoch fits the
 * horizon several times) and smaller steps: each step size reads a different stretch of the
 * order, and per-example gradients differ a lot, so the gaps only settle on h² below h ≈ 0.01.
 */
import { describe, expect, it } from 'vitest';
import { derive } from '../../src/derive/index.js';
import { loadOptimizer } from '../../src/numeric/compile.js';
import { createLogistic, createMlp } from '../../src/numeric/problems/index.js';
import { runBatchValidation } from '../../src/numeric/validate-batches.js';
import { validationParams } from '../../src/numeric/validate.js';
import type { FiniteSumProblem } from '../../src/numeric/types.js';
import { linearRules } from './helpers.js';

const SMALL_BATCH_HS = [0.02, 0.01, 0.005, 0.0025];
const PER_EXAMPLE_HS = [0.01, 0.005, 0.0025, 0.00125];

interface Case { readonly name: string; readonly problem: () => FiniteSumProblem; readonly hs: readonly number[]; readonly rules?: readonly string[] }
const CASES: readonly Case[] = [
  { name: 'logistic, 8 batches of 25', problem: () => createLogistic({ seed: 1, batches: 8 }), hs: SMALL_BATCH_HS },
  { name: 'logistic, one example per batch', problem: () => createLogistic({ seed: 1, samples: 40, batches: 40 }), hs: PER_EXAMPLE_HS },
  { name: 'mlp, 10 batches of 15', problem: () => createMlp({ seed: 1, batches: 10 }), hs: SMALL_BATCH_HS, rules: ['heavy-ball', 'qhm', 'two-timescale'] },
  { name: 'mlp, one example per batch', problem: () => createMlp({ seed: 1, samples: 30, batches: 30 }), hs: PER_EXAMPLE_HS, rules: ['nesterov', 'momentum-l2-inside', 'debiased-ema'] },
];

describe.each(linearRules().map(([r, hyper]) => [r.file, r, hyper] as const))('%s', (file, rule, fixed) => {
  const d = derive(rule, { exactN: true });
  const module = loadOptimizer(rule, d);
  const cases = CASES.filter((c) => !c.rules || c.rules.some((name) => file.includes(name)));

  it.each(cases.map((c) => [c.name, c] as const))('%s: two batch orders', (_, c) => {
    // the validation defaults (memory shortened to fit the horizon), then the rule's test values
    const hyper = { ...Object.fromEntries(validationParams(rule, d, c.hs, {}).map((p) => [p.name, p.value])), ...fixed };
    for (const orderSeed of [1, 2]) {
      const r = runBatchValidation({ module, problem: c.problem(), hs: c.hs, horizon: 2, hyper, orderSeed });
      const where = `order seed ${orderSeed}: gaps ${r.runs.map((x) => x.gap.pathwise.toExponential(2)).join(', ')}`;
      expect(r.truncation.droppedWeight).toBeLessThanOrEqual(1e-13);
      expect(r.slopes.pathwise, where).toBeGreaterThanOrEqual(1.8);
      expect(r.slopes.pathwise, where).toBeLessThanOrEqual(2.3);
      expect(r.slopes.none, where).toBeGreaterThanOrEqual(0.8);
      expect(r.slopes.none, where).toBeLessThanOrEqual(1.3);
      expect(r.ok).toBe(true);
    }
  });
});
