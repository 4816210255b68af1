/**
 * Issue 4, test 2: for each matrix rule on both matrix problems, the memoryless iteration
 * with M stays O(h²) close to the optimizer and without M only O(h): log–log slope in
 * [1.8, 2.3] with M and [0.8, 1.3] without, at the validation defaults (docs/validate.md).
 */
import { describe, expect, it } from 'vitest';
import { deriveMatrix } from '../../src/matrix/derive.js';
import { loadMatrixOptimizer } from '../../src/matrix/module.js';
import { PROBLEMS } from '../../src/numeric/problems/index.js';
import { matrixRuleFacts, matrixValidationParams, runValidation } from '../../src/numeric/validate.js';
import { MATRIX_RULES, loadMatrixRule } from './rules.js';

const HS = [0.02, 0.01, 0.005, 0.0025];

describe.each(MATRIX_RULES)('%s', (name) => {
  const d = deriveMatrix(loadMatrixRule(name));
  const mod = loadMatrixOptimizer(d);
  const hyper = Object.fromEntries(matrixValidationParams(d, HS, {}).map((p) => [p.name, p.value]));
  const facts = matrixRuleFacts(d, hyper);

  it.each(['sensing', 'linear-net'])('on %s', (problem) => {
    const r = runValidation({ module: mod, problem: PROBLEMS[problem]!({ seed: 1 }), hs: HS, horizon: 2, hyper, seed: 1, facts });
    const slopes = JSON.stringify(r.slopes);
    expect(r.slopes.exact, slopes).toBeGreaterThanOrEqual(1.8);
    expect(r.slopes.exact, slopes).toBeLessThanOrEqual(2.3);
    expect(r.slopes.none, slopes).toBeGreaterThanOrEqual(0.8);
    expect(r.slopes.none, slopes).toBeLessThanOrEqual(1.3);
    expect(r.verdict.ok).toBe(true);
  });
});
