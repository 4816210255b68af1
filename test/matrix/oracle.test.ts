/**
 * Issue 4, test 1: M of each matrix rule, from the derivation's operator (evaluated by the
 * module), equals the oracle built from the definition of M (numeric derivatives of the
 * literal recursion) at random points: exact-n at n = 1 and 12, and
 * the asymptotic form at n = 300 with the decays capped at 0.7 (a³⁰⁰ < 1e-46).
 */
import { describe, expect, it } from 'vitest';
import { MATRIX_RULES, loadMatrixRule } from './rules.js';
import { deriveMatrix } from '../../src/matrix/derive.js';
import { loadMatrixOptimizer } from '../../src/matrix/module.js';
import { matrixOracleCorrection } from '../../src/numeric/matrix-oracle.js';
import * as LA from '../../src/matrix/linalg.js';
import type { Mat } from '../../src/matrix/linalg.js';
import { mulberry32 } from '../../src/ir/random.js';
import { toNumber } from '../../src/ir/rational.js';


/** L(W) = ¼‖W Wᵀ − A‖² + ⟨B, W⟩ (A symmetric): ∇L = (WWᵀ − A)W + B, H[V] = (VWᵀ + WVᵀ)W + (WWᵀ − A)V. */
function testLoss(rand: () => number, r: number, c: number) {
  const m = (rr: number, cc: number) => LA.mat(rr, cc, Float64Array.from({ length: rr * cc }, () => 2 * rand() - 1));
  const A0 = m(r, r);
  const A = LA.scale(0.5, LA.add(A0, LA.transpose(A0)));
  const B = m(r, c);
  const grad = (W: Mat) => LA.add(LA.matmul(LA.add(LA.matmul(W, LA.transpose(W)), LA.scale(-1, A)), W), B);
  const hvp = (W: Mat, V: Mat) => LA.add(LA.matmul(LA.add(LA.matmul(V, LA.transpose(W)), LA.matmul(W, LA.transpose(V))), W), LA.matmul(LA.add(LA.matmul(W, LA.transpose(W)), LA.scale(-1, A)), V));
  return { grad, hvp, theta: m(r, c) };
}

const maxRel = (a: Float64Array, b: Float64Array) => {
  let num = 0, den = 0;
  for (let i = 0; i < a.length; i++) { num = Math.max(num, Math.abs(a[i]! - b[i]!)); den = Math.max(den, Math.abs(b[i]!)); }
  return num / Math.max(den, 1e-6); // Muon's M vanishes for a 1×1 parameter (msign = sign)
};

describe.each(MATRIX_RULES)('%s: M equals the oracle from the definition', (name) => {
  const rule = loadMatrixRule(name);
  const d = deriveMatrix(rule);
  it.each([[3, 2, 1], [2, 3, 2], [3, 3, 3], [1, 1, 4]])('%i×%i, seed %i', (r, c, seed) => {
    const rand = mulberry32(seed * 1000 + name.length);
    const params: Record<string, number> = {};
    for (const p of rule.params) {
      const v = toNumber(p.value);
      params[p.name] = p.domain.hi === 1 ? 0.3 + 0.4 * rand() : Math.max(v, 0.05 + 0.3 * rand());
    }
    const { grad, hvp, theta } = testLoss(rand, r, c);
    const mod = loadMatrixOptimizer(d, [{ rows: r, cols: c }]);
    const G = grad(theta);
    const H = (v: Float64Array) => hvp(theta, LA.mat(r, c, v)).data;
    // exact n (for one-sided Shampoo, without bias correction, through the sums over past updates)
    for (const n of [1, 12]) {
      const symbolic = mod.correction(theta.data, G.data, H, params, n);
      const oracle = matrixOracleCorrection({ rule, params, grad, theta, n });
      expect(maxRel(symbolic, oracle.data)).toBeLessThan(1e-6);
    }
    const asym = mod.correction(theta.data, G.data, H, params);
    const oracleAsym = matrixOracleCorrection({ rule, params, grad, theta, n: 300 });
    expect(maxRel(asym, oracleAsym.data)).toBeLessThan(1e-6);
  });
});
