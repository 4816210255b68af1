/**
 * The interpretation (docs/matrix-optimizers.md §4), checked numerically: M = K[H[F]] with
 * H[F] = ∇θ Φ_ε(∇L) (Φ_ε the ε-perturbed nuclear norm, F = ∇Φ_ε(G)), and K a symmetric
 * linear map of fixed sign: Muon K = μ²/(1−μ)·D msign(G) ⪰ 0 (regularizing); Shampoo
 * K = β/(1−β)·(D F_ε(G) − L^(−1/4)(·)R^(−1/4)) ≺ 0 (anti-regularizing); one-sided ⪯ 0.
 */
import { describe, expect, it } from 'vitest';
import { deriveMatrix, type MatrixRegimeResult } from '../../src/matrix/derive.js';
import { operatorMatrix, perturbedNuclearNorm } from '../../src/matrix/operator.js';
import * as LA from '../../src/matrix/linalg.js';
import type { Mat } from '../../src/matrix/linalg.js';
import { mulberry32 } from '../../src/ir/random.js';
import { createSensing } from '../../src/numeric/problems/index.js';
import { loadMatrixRule } from './rules.js';

const rand = mulberry32(4242);
const randomMat = (r: number, c: number) => LA.mat(r, c, Float64Array.from({ length: r * c }, () => 2 * rand() - 1));
const SHAPES = [[3, 3], [4, 2], [2, 4]] as const;

/** Symmetry defect and the extreme eigenvalues of K relative to its largest |eigenvalue|. */
function spectrum(K: Mat): { asym: number; min: number; max: number } {
  const Kt = LA.transpose(K);
  let a = 0, m = 0;
  for (let i = 0; i < K.data.length; i++) { a = Math.max(a, Math.abs(K.data[i]! - Kt.data[i]!)); m = Math.max(m, Math.abs(K.data[i]!)); }
  const ev = LA.symEig(LA.scale(0.5, LA.add(K, Kt))).values;
  const big = Math.max(...ev.map(Math.abs));
  return { asym: a / m, min: Math.min(...ev) / big, max: Math.max(...ev) / big };
}

const fd = (f: (t: number) => Mat, t = 1e-5) => LA.scale(1 / (2 * t), LA.add(f(t), LA.scale(-1, f(-t))));
const maxAbsDiff = (a: Mat, b: Mat) => a.data.reduce((m, x, i) => Math.max(m, Math.abs(x - b.data[i]!)), 0);

describe('sign of the linear map K in M = K[H[F]] (random G, several ε)', () => {
  const [shampooD, muonD, oneD] = ['shampoo', 'muon', 'one-sided-shampoo'].map((n) => deriveMatrix(loadMatrixRule(n)).asymptotic) as [MatrixRegimeResult, MatrixRegimeResult, MatrixRegimeResult];
  it.each(SHAPES.flatMap(([r, c]) => [1e-6, 0.01, 1].map((eps) => [r, c, eps] as const)))('%i×%i, ε = %s', (r, c, eps) => {
    const params = { beta: 0.9, mu: 0.9, eps, n: 0 };
    for (let t = 0; t < 5; t++) {
      const G = randomMat(r, c);
      const shampoo = spectrum(operatorMatrix(shampooD, G, params));
      expect(shampoo.asym).toBeLessThan(1e-10);
      expect(shampoo.max).toBeLessThan(0); // negative definite: anti-regularizing
      const muon = spectrum(operatorMatrix(muonD, G, params));
      expect(muon.asym).toBeLessThan(1e-10);
      expect(muon.min).toBeGreaterThan(-1e-8); // positive semidefinite (to rounding): regularizing
      expect(muon.max).toBeGreaterThan(0.5);
      const one = spectrum(operatorMatrix(oneD, G, params));
      expect(one.asym).toBeLessThan(1e-10);
      expect(one.max).toBeLessThan(1e-8); // negative semidefinite (to rounding)
    }
  });
});

describe('the closed forms of K stated in the docs', () => {
  it('Muon: K = μ²/(1−μ) · D msign(G)', () => {
    const d = deriveMatrix(loadMatrixRule('muon'));
    const mu = 0.8, G = randomMat(3, 2), X = randomMat(3, 2);
    const M = operatorMatrix(d.asymptotic, G, { mu, n: 0 });
    const KX = LA.matmul(M, LA.mat(6, 1, X.data));
    const expected = LA.scale((mu * mu) / (1 - mu), LA.polarDerivative(G, LA.symEig(LA.polarGram(G)), X));
    expect(maxAbsDiff(LA.mat(3, 2, KX.data), expected)).toBeLessThan(1e-12);
  });

  it('Shampoo: K = β/(1−β)·(D F_ε(G) − L^(−1/4)(·)R^(−1/4)), F_ε(G) = L^(−1/4) G R^(−1/4), L = GGᵀ + εI, R = GᵀG + εI', () => {
    const d = deriveMatrix(loadMatrixRule('shampoo'));
    const beta = 0.7, eps = 0.05, G = randomMat(3, 4), X = randomMat(3, 4);
    const root = (A: Mat) => LA.symPow(LA.symEig(A), -0.25);
    const Fe = (A: Mat) => LA.matmul(LA.matmul(root(LA.add(LA.matmul(A, LA.transpose(A)), LA.scale(eps, LA.identity(3)))), A), root(LA.add(LA.matmul(LA.transpose(A), A), LA.scale(eps, LA.identity(4)))));
    const direct = LA.matmul(LA.matmul(root(LA.add(LA.matmul(G, LA.transpose(G)), LA.scale(eps, LA.identity(3)))), X), root(LA.add(LA.matmul(LA.transpose(G), G), LA.scale(eps, LA.identity(4)))));
    const expected = LA.scale(beta / (1 - beta), LA.add(fd((t) => Fe(LA.add(G, LA.scale(t, X)))), LA.scale(-1, direct)));
    const KX = LA.matmul(operatorMatrix(d.asymptotic, G, { beta, eps, n: 0 }), LA.mat(12, 1, X.data));
    expect(maxAbsDiff(LA.mat(3, 4, KX.data), expected)).toBeLessThan(1e-8);
  });

  it('F_ε = ∇Φ_ε(G) and H[F_ε] = ∇θ Φ_ε(∇L(θ)) (the gradient of the perturbed nuclear norm of the gradient)', () => {
    const eps = 0.05;
    const P = createSensing({ seed: 2 });
    const theta = P.initial(3);
    const G = LA.mat(4, 3, P.grad(theta, new Float64Array(P.dim)));
    const root = (A: Mat) => LA.symPow(LA.symEig(A), -0.25);
    const F = LA.matmul(LA.matmul(root(LA.add(LA.matmul(G, LA.transpose(G)), LA.scale(eps, LA.identity(4)))), G), root(LA.add(LA.matmul(LA.transpose(G), G), LA.scale(eps, LA.identity(3)))));
    const phiGrad = LA.mat(4, 3);
    const chain = LA.mat(4, 3);
    for (let j = 0; j < 12; j++) {
      const e = LA.mat(4, 3); e.data[j] = 1e-6;
      phiGrad.data[j] = (perturbedNuclearNorm(LA.add(G, e), eps) - perturbedNuclearNorm(LA.add(G, LA.scale(-1, e)), eps)) / 2e-6;
      const at = (s: number) => { const t = theta.slice(); t[j] += s; return perturbedNuclearNorm(LA.mat(4, 3, P.grad(t, new Float64Array(P.dim))), eps); };
      chain.data[j] = (at(1e-6) - at(-1e-6)) / 2e-6;
    }
    expect(maxAbsDiff(F, phiGrad)).toBeLessThan(1e-7);
    const HF = LA.mat(4, 3, P.hvp(theta, F.data, new Float64Array(P.dim)));
    expect(maxAbsDiff(HF, chain)).toBeLessThan(1e-6 * Math.max(1, ...HF.data.map(Math.abs)));
  });
});

describe('the interpretation the derivation reports (numeric, from the derivation alone)', () => {
  it.each([
    ['muon', 'positive semidefinite', 'regularizing'],
    ['shampoo', 'negative definite', 'anti-regularizing'],
    ['one-sided-shampoo', 'negative semidefinite', 'anti-regularizing'],
  ] as const)('%s: F is a gradient field, K is %s: %s', (name, definiteness, verdict) => {
    const it = deriveMatrix(loadMatrixRule(name)).interpretation;
    expect(it.fieldIsGradient).toBe(true);
    expect(it.operatorSymmetric).toBe(true);
    expect(it.definiteness).toBe(definiteness);
    expect(it.verdict).toBe(verdict);
  });

  it('a field that is not a gradient is not interpreted', async () => {
    const { parseRuleFile } = await import('../../src/parse/rule-file.js');
    const { isMatrixRule } = await import('../../src/ir/rule.js');
    // F(G) = c·G ∘ (G Gᵀ G): its Jacobian is not symmetric
    const r = parseRuleFile(`optimizer Twist\nshape matrix\nparam beta = 0.5 in (0, 1)\nstate b = beta * b + g\nupdate b .* (g * g' * g)\n`, 'twist.rule');
    if (!isMatrixRule(r)) throw new Error('not a matrix rule');
    const it = deriveMatrix(r).interpretation;
    expect(it.fieldIsGradient).toBe(false);
    expect(it.verdict).toBe('not analysed');
  });
});
