/**
 * Issue 4, test 3: Shampoo against the coordinate-wise rule it reduces to. On a loss that
 * depends only on the diagonal of a square W, G is diagonal, GGᵀ = GᵀG = diag(g²), and
 * Shampoo's update is gᵢ/√(vᵢ + ε): RMSProp with bias correction and ε inside the root.
 * There its M (an operator through Daleckii–Krein) must equal that rule's M (derived by the
 * scalar engine) on the diagonal and vanish off it; a 1×1 Shampoo is that rule exactly.
 */
import { describe, expect, it } from 'vitest';
import { parseRule } from '../../src/parse/rule-file.js';
import { derive } from '../../src/derive/index.js';
import { loadOptimizer } from '../../src/numeric/compile.js';
import { deriveMatrix } from '../../src/matrix/derive.js';
import { loadMatrixOptimizer } from '../../src/matrix/module.js';
import { createQuartic } from '../../src/numeric/problems/index.js';
import { loadMatrixRule } from './rules.js';

const RMSPROP_INSIDE = `optimizer RMSProp, eps inside the root, bias-corrected
param beta = 0.99 in (0, 1)
param eps = 1e-6 in (0, inf)
state v = beta * v + (1 - beta) * g^2
update g / sqrt(v / (1 - beta^(n+1)) + eps)
`;

const d = 3;
const shampoo = loadMatrixOptimizer(deriveMatrix(loadMatrixRule('shampoo')), [{ rows: d, cols: d }]);
const scalarRule = parseRule(RMSPROP_INSIDE, 'rmsprop-inside.rule');
const rms = loadOptimizer(scalarRule, derive(scalarRule, { exactN: true }));
const q = createQuartic({ dim: d, seed: 5 });

/** L(W) = quartic(diag W): the gradient and HVP live on the diagonal. */
const diagOf = (W: Float64Array) => Float64Array.from({ length: d }, (_, i) => W[i * d + i]!);
const onDiag = (x: Float64Array) => { const W = new Float64Array(d * d); for (let i = 0; i < d; i++) W[i * d + i] = x[i]!; return W; };
const gradW = (W: Float64Array) => onDiag(q.grad(diagOf(W), new Float64Array(d)));
const hvpW = (W: Float64Array) => (V: Float64Array) => onDiag(q.hvp(diagOf(W), diagOf(V), new Float64Array(d)));

describe('Shampoo on a loss of the diagonal equals RMSProp with eps inside the root', () => {
  const hyper = { beta: 0.6, eps: 0.05 };
  const W = onDiag(q.initial(2));
  W[1] = 0.3; W[d + 2] = -0.7; // off-diagonal entries: the loss does not see them
  const w = diagOf(W);

  it.each([undefined, 0, 7, 40])('M (n = %s) on the diagonal, zero off it', (n) => {
    const Mm = shampoo.correction(W, gradW(W), hvpW(W), hyper, n);
    const Ms = rms.correction(w, q.grad(w, new Float64Array(d)), (v) => q.hvp(w, v, new Float64Array(d)), hyper, n);
    for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) {
      if (i === j) expect(Math.abs(Mm[i * d + i]! - Ms[i]!)).toBeLessThan(1e-12 * Math.max(1, Math.abs(Ms[i]!)));
      else expect(Math.abs(Mm[i * d + j]!)).toBeLessThan(1e-13);
    }
    if (n !== 0) expect(Math.max(...Ms.map(Math.abs))).toBeGreaterThan(1e-3); // a non-trivial M (at n = 0 there is no past)
  });

  it('F and the trajectory agree over 30 steps', () => {
    const a = W.slice(), b = w.slice();
    const sa = shampoo.init(d * d), sb = rms.init(d);
    for (let n = 0; n < 30; n++) {
      const ga = gradW(a), gb = q.grad(b, new Float64Array(d));
      const Fa = shampoo.direction(a, ga, hyper, n), Fb = rms.direction(b, gb, hyper, n);
      for (let i = 0; i < d; i++) expect(Math.abs(Fa[i * d + i]! - Fb[i]!)).toBeLessThan(1e-12);
      shampoo.step(a, ga, sa, 0.05, hyper);
      rms.step(b, gb, sb, 0.05, hyper);
    }
    for (let i = 0; i < d; i++) expect(Math.abs(a[i * d + i]! - b[i]!)).toBeLessThan(1e-12);
    expect(a[1]).toBe(0.3); // untouched off the diagonal
  });
});

describe('a 1×1 Shampoo is that coordinate-wise rule', () => {
  const one = loadMatrixOptimizer(deriveMatrix(loadMatrixRule('shampoo')), [{ rows: 1, cols: 1 }]);
  const p = createQuartic({ dim: 1, seed: 9 });
  const hyper = { beta: 0.7, eps: 0.01 };
  it('step, direction, correction and memorylessStep agree to rounding', () => {
    const a = p.initial(1), b = a.slice(), c = a.slice(), e = a.slice();
    const sa = one.init(1), sb = rms.init(1);
    const hvpAt = (t: Float64Array) => (v: Float64Array) => p.hvp(t, v, new Float64Array(1));
    for (let n = 0; n < 25; n++) {
      const ga = p.grad(a, new Float64Array(1)), gb = p.grad(b, new Float64Array(1));
      one.step(a, ga, sa, 0.03, hyper);
      rms.step(b, gb, sb, 0.03, hyper);
      expect(Math.abs(a[0]! - b[0]!)).toBeLessThan(1e-14);
      const gc = p.grad(c, new Float64Array(1)), ge = p.grad(e, new Float64Array(1));
      for (const m of [undefined, n]) {
        expect(Math.abs(one.correction(c, gc, hvpAt(c), hyper, m)[0]! - rms.correction(c, gc, hvpAt(c), hyper, m)[0]!)).toBeLessThan(1e-12);
      }
      one.memorylessStep(c, gc, hvpAt(c), 0.03, hyper, n);
      rms.memorylessStep(e, ge, hvpAt(e), 0.03, hyper, n);
      expect(Math.abs(c[0]! - e[0]!)).toBeLessThan(1e-13);
    }
  });
});
