/**
 * Issue 4, test 4: Fréchet derivatives of matrix functions (Daleckii–Krein for powers, the
 * polar factor through its Gram matrix) against central finite differences, at random,
 * repeated and nearly repeated eigenvalues; and the divided differences at nearly equal
 * arguments against their Taylor series.
 */
import { describe, expect, it } from 'vitest';
import * as LA from '../../src/matrix/linalg.js';
import type { Mat } from '../../src/matrix/linalg.js';
import { mulberry32 } from '../../src/ir/random.js';

const rand = mulberry32(20261129);
const randn = () => Math.sqrt(-2 * Math.log(rand() + 1e-300)) * Math.cos(2 * Math.PI * rand());
const randomMat = (r: number, c: number): Mat => LA.mat(r, c, Float64Array.from({ length: r * c }, randn));

/** A random orthogonal matrix (Gram–Schmidt of a Gaussian one). */
function orthogonal(n: number): Mat {
  const q = randomMat(n, n).data;
  for (let j = 0; j < n; j++) {
    for (let k = 0; k < j; k++) {
      let d = 0;
      for (let i = 0; i < n; i++) d += q[i * n + j]! * q[i * n + k]!;
      for (let i = 0; i < n; i++) q[i * n + j] -= d * q[i * n + k]!;
    }
    let s = 0;
    for (let i = 0; i < n; i++) s += q[i * n + j]! ** 2;
    for (let i = 0; i < n; i++) q[i * n + j] /= Math.sqrt(s);
  }
  return LA.mat(n, n, q);
}

/** U diag(λ) Uᵀ with a random orthogonal U. */
function withSpectrum(lambda: readonly number[]): Mat {
  const n = lambda.length;
  const U = orthogonal(n);
  const D = LA.mat(n, n);
  lambda.forEach((l, i) => (D.data[i * n + i] = l));
  return LA.matmul(LA.matmul(U, D), LA.transpose(U));
}

const symmetric = (m: Mat) => LA.scale(0.5, LA.add(m, LA.transpose(m)));
const relErr = (a: Mat, b: Mat) => {
  let num = 0, den = 0;
  for (let i = 0; i < a.data.length; i++) { num = Math.max(num, Math.abs(a.data[i]! - b.data[i]!)); den = Math.max(den, Math.abs(b.data[i]!)); }
  return num / Math.max(den, 1e-3); // msign of a 1×1 matrix has derivative 0
};

/** Central difference of order 4 (Richardson): (8(f(t) − f(−t)) − (f(2t) − f(−2t)))/(12t). */
function fd(f: (t: number) => Mat, t: number): Mat {
  const a = LA.add(f(t), LA.scale(-1, f(-t)));
  const b = LA.add(f(2 * t), LA.scale(-1, f(-2 * t)));
  return LA.scale(1 / (12 * t), LA.add(LA.scale(8, a), LA.scale(-1, b)));
}

const SPECTRA: readonly [string, number[]][] = [
  ['distinct', [0.5, 1.3, 2.2, 4.0]],
  ['repeated', [1.5, 1.5, 1.5, 3.0]],
  ['nearly repeated (gap 1e-9)', [1.0, 1.0 + 1e-9, 2.0, 2.0 - 1e-10]],
  ['nearly repeated (gap 1e-6)', [0.7, 0.7 * (1 + 1e-6), 0.7 * (1 - 1e-6), 5.0]],
  ['ill-conditioned', [1e-3, 1.0, 10, 100]],
];

describe('D(A^p)[E] by Daleckii–Krein', () => {
  it.each(SPECTRA.flatMap(([name, l]) => [-0.25, -0.5, 0.5, 2, -1].map((p) => [name, l, p] as const)))('%s spectrum, p = %s', (_name, lambda, p) => {
    const A = withSpectrum(lambda);
    const Edir = symmetric(randomMat(lambda.length, lambda.length));
    const exact = LA.symPowDerivative(LA.symEig(A), p, Edir);
    const scaleT = 1e-3 * Math.min(...lambda);
    const numeric = fd((t) => LA.symPow(LA.symEig(LA.add(A, LA.scale(t, Edir))), p), scaleT);
    expect(relErr(exact, numeric)).toBeLessThan(1e-7);
  });

  it('A^p itself: A^(1/2)·A^(1/2) = A and A^(-1/4) four times is A^(-1)', () => {
    const A = withSpectrum([0.3, 1.1, 1.1, 7]);
    const e = LA.symEig(A);
    const h = LA.symPow(e, 0.5);
    expect(relErr(LA.matmul(h, h), A)).toBeLessThan(1e-13);
    const q = LA.symPow(e, -0.25);
    expect(relErr(LA.matmul(LA.matmul(q, q), LA.matmul(LA.matmul(q, q), A)), LA.identity(4))).toBeLessThan(1e-13);
  });
});

describe('divided differences (a^p − b^p)/(a − b)', () => {
  it.each([1e-6, 1e-8, 1e-12, 1e-15, 0])('agree with the Taylor series p·b^(p−1)(1 + (p−1)δ/2 + (p−1)(p−2)δ²/6) at a = b(1 + δ), δ = %s', (delta) => {
    for (const p of [-0.25, -0.5, 0.5, 3]) {
      const b = 1.7, a = b * (1 + delta);
      const series = p * b ** (p - 1) * (1 + ((p - 1) * delta) / 2 + ((p - 1) * (p - 2) * delta * delta) / 6);
      expect(Math.abs(LA.powDividedDifference(a, b, p) / series - 1)).toBeLessThan(1e-13);
    }
  });
  it('a naive quotient would not be accurate there (the test can fail)', () => {
    const b = 1.7, a = b * (1 + 1e-12), p = -0.25;
    const naive = (a ** p - b ** p) / (a - b);
    expect(Math.abs(naive / (p * b ** (p - 1)) - 1)).toBeGreaterThan(1e-6);
  });
});

describe('D msign(A)[E], the derivative of the orthogonal polar factor', () => {
  it.each([[4, 4], [5, 3], [3, 5], [1, 1], [4, 1]])('%i×%i', (r, c) => {
    const A = randomMat(r, c);
    const Edir = randomMat(r, c);
    const polar = (m: Mat) => LA.polar(m, LA.symEig(LA.polarGram(m)));
    const Q = polar(A);
    // msign(A) has orthonormal columns (tall) or rows (wide)
    const gram = r >= c ? LA.matmul(LA.transpose(Q), Q) : LA.matmul(Q, LA.transpose(Q));
    expect(relErr(gram, LA.identity(Math.min(r, c)))).toBeLessThan(1e-12);
    const exact = LA.polarDerivative(A, LA.symEig(LA.polarGram(A)), Edir);
    const numeric = fd((t) => polar(LA.add(A, LA.scale(t, Edir))), 1e-4);
    expect(relErr(exact, numeric)).toBeLessThan(1e-7);
  });
  it('at repeated singular values (A = 2·Q with Q orthogonal)', () => {
    const A = LA.scale(2, orthogonal(4));
    const Edir = randomMat(4, 4);
    const polar = (m: Mat) => LA.polar(m, LA.symEig(LA.polarGram(m)));
    const exact = LA.polarDerivative(A, LA.symEig(LA.polarGram(A)), Edir);
    expect(relErr(exact, fd((t) => polar(LA.add(A, LA.scale(t, Edir))), 1e-4))).toBeLessThan(1e-7);
  });
});

describe('symmetric eigendecomposition: Jacobi (n ≤ 32) and tridiagonal QR (larger)', () => {
  it.each([[5, 'distinct'], [40, 'distinct'], [40, 'clustered'], [90, 'distinct'], [90, 'clustered']] as const)('n = %i, %s eigenvalues: A = V Λ Vᵀ and VᵀV = I to rounding', (n, kind) => {
    const lambda = Array.from({ length: n }, (_, i) => (kind === 'clustered' ? 1 + Math.floor(i / 7) + 1e-12 * i : 0.1 + 3 * rand()));
    const A = withSpectrum(lambda);
    for (const eig of [LA.symEig, LA.symEigTridiagonal]) {
      const e = eig(A);
      const D = LA.mat(n, n);
      e.values.forEach((l, i) => (D.data[i * n + i] = l));
      expect(relErr(LA.matmul(LA.matmul(e.vectors, D), LA.transpose(e.vectors)), A)).toBeLessThan(1e-13);
      expect(relErr(LA.matmul(LA.transpose(e.vectors), e.vectors), LA.identity(n))).toBeLessThan(1e-13);
      expect([...e.values].sort((a, b) => a - b).map((x, i) => Math.abs(x - [...lambda].sort((a, b) => a - b)[i]!)).every((x) => x < 1e-12 * n)).toBe(true);
    }
  });
  it('D(A^(-1/4)) through the QR path (n = 40, clustered eigenvalues) against finite differences', () => {
    const A = withSpectrum(Array.from({ length: 40 }, (_, i) => 1 + Math.floor(i / 5)));
    const Edir = symmetric(randomMat(40, 40));
    const exact = LA.symPowDerivative(LA.symEig(A), -0.25, Edir);
    expect(relErr(exact, fd((t) => LA.symPow(LA.symEig(LA.add(A, LA.scale(t, Edir))), -0.25), 1e-3))).toBeLessThan(1e-7);
  });
});
