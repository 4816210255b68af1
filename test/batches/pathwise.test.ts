/**
 * Issue 7: the pathwise correction on a batch history. The generated history weights and the
 * pathwise assembly (src/numeric/batches.ts) against the oracle, which runs the rule's literal
 * recursion with the batch gradient of each step and differentiates with respect to every
 * past iterate (no closed form involved), for several batch orders; and m = 1 against the
 * full-batch derivation.
 */
import { describe, expect, it } from 'vitest';
import { derive } from '../../src/derive/index.js';
import { deriveBatches } from '../../src/derive/batches.js';
import { RuleError } from '../../src/ir/diagnostics.js';
import { loadOptimizer } from '../../src/numeric/compile.js';
import { oracleBatchCorrection, oracleBatchDirection } from '../../src/numeric/oracle.js';
import { PathwiseMemoryless, reshuffledOrder } from '../../src/numeric/batches.js';
import { createLogistic } from '../../src/numeric/problems/index.js';
import { loadRule } from '../derive/helpers.js';
import { batchHessians, linearRules } from './helpers.js';

const maxRel = (a: Float64Array, b: Float64Array) => {
  let scale = 0, diff = 0;
  for (let i = 0; i < a.length; i++) { scale = Math.max(scale, Math.abs(b[i]!)); diff = Math.max(diff, Math.abs(a[i]! - b[i]!)); }
  return diff / Math.max(scale, 1e-300);
};

describe.each(linearRules().map(([r, hyper]) => [r.file, r, hyper] as const))('%s', (_, rule, hyper) => {
  const d = derive(rule, { exactN: true });
  const mod = loadOptimizer(rule, d);
  const problem = createLogistic({ samples: 24, features: 4, batches: 4, seed: 3 });
  const theta = problem.initial(5);
  const grads = Array.from({ length: 4 }, (_, b) => problem.batchGrad(b, theta, new Float64Array(4)));
  const hessians = batchHessians(problem, theta);

  it.each([[0, 0], [1, 2], [2, 3]])('pathwise F and M equal the oracle (order seed %i, phase %i)', (seed, phase) => {
    const order = reshuffledOrder(4, seed, phase);
    const pathwise = new PathwiseMemoryless(mod, problem, { regime: 'exact', hyper });
    for (const n of [0, 1, 6, 13]) {
      const { F, M } = pathwise.evaluate(theta, order, n);
      const input = { rule, params: hyper, theta, batchGrads: grads, batchHessians: hessians, order: Array.from({ length: n + 1 }, (_, s) => order(s)), n };
      expect(maxRel(F, oracleBatchDirection(input))).toBeLessThan(1e-12);
      if (n === 0) expect(M.every((x) => x === 0)).toBe(true);
      else expect(maxRel(M, oracleBatchCorrection(input))).toBeLessThan(1e-10);
    }
  });

  it('one batch (m = 1) is the full-batch derivation, in both regimes', () => {
    const full = createLogistic({ samples: 24, features: 4, batches: 1, seed: 3 });
    const order = reshuffledOrder(1, 0);
    const g = full.grad(theta, new Float64Array(4));
    const hvp = (v: Float64Array) => full.hvp(theta, v, new Float64Array(4));
    for (const regime of ['exact', 'asymptotic'] as const) {
      const pathwise = new PathwiseMemoryless(mod, full, { regime, hyper });
      for (const n of [3, 40, 400]) {
        const { F, M } = pathwise.evaluate(theta, order, n);
        const at = regime === 'exact' ? n : undefined;
        expect(maxRel(F, mod.direction(theta, g, hyper, at))).toBeLessThan(1e-12);
        expect(maxRel(M, mod.correction(theta, g, hvp, hyper, at))).toBeLessThan(1e-10);
      }
    }
  });

  it('derive --batches: the full-batch weight equals the derivation\'s M', () => {
    const b = deriveBatches(d, 4);
    expect(b.asymptotic.lagG).toBe(d.asymptotic.lagWeightG);
    expect(Number.isFinite(b.noiseCoefficientValue)).toBe(true);
  });
});

describe('rules whose memory is not linear in the gradients', () => {
  it.each(['rules/adam.rule', 'rules/rmsprop.rule', 'rules/lion-k.rule', 'rules/adabelief.rule', 'rules/signum.rule'])('%s: a located error that says where the algebra stops', (file) => {
    const rule = loadRule(file);
    const d = derive(rule);
    let err: unknown;
    try { deriveBatches(d, 4); } catch (e) { err = e; }
    expect(err).toBeInstanceOf(RuleError);
    const msg = (err as RuleError).message;
    expect(msg).toMatch(new RegExp(`^${file.replace('.', '\\.')}:\\d+:\\d+: `));
    expect(msg).toContain('is not linear in');
    expect(msg).toContain('no closed form in per-batch gradients');
    expect(loadOptimizer(rule, d).historyWeights).toBeUndefined();
  });
});
