// The oracle checked against closed forms worked out by hand (docs/theory.md §3, §5), never against
// project code: it is itself the reference for the symbolic engine.
import { describe, expect, it } from 'vitest';
import { parseRule } from '../../src/parse/rule-file.js';
import { oracleCorrection, oracleDirection, type OracleInput } from '../../src/numeric/oracle.js';
import { mulberry32 } from '../../src/ir/random.js';


/** A random point: θ, g in [-1, 1]^d and a symmetric H. */
function point(seed: number, d = 3) {
  const r = mulberry32(seed);
  const u = () => 2 * r() - 1;
  const theta = Float64Array.from({ length: d }, u), g = Float64Array.from({ length: d }, u);
  const hessian = new Float64Array(d * d);
  for (let i = 0; i < d; i++) for (let j = 0; j <= i; j++) hessian[i * d + j] = hessian[j * d + i] = u();
  return { theta, g, hessian };
}

const matvec = (H: Float64Array, x: ArrayLike<number>) =>
  Float64Array.from(x, (_, i) => Array.from(x).reduce((acc, xj, j) => acc + H[i * x.length + j]! * xj, 0));
const scale = (c: number, x: ArrayLike<number>) => Float64Array.from(x, (v) => c * v);
const add = (x: ArrayLike<number>, y: ArrayLike<number>) => Float64Array.from(x, (v, i) => v + y[i]!);

/** ‖actual − expected‖∞ ≤ rtol·‖expected‖∞ (or rtol absolutely when expected is tiny). */
function expectClose(actual: Float64Array, expected: ArrayLike<number>, rtol: number) {
  expect(actual.length).toBe(expected.length);
  const norm = Math.max(1e-300, ...Array.from(expected, Math.abs));
  const err = Math.max(...Array.from(actual, (a, i) => Math.abs(a - expected[i]!)));
  expect(err).toBeLessThanOrEqual(rtol * Math.max(norm, 1));
}

const HB = parseRule('optimizer HB\nparam beta = 0.9 in (0, 1)\nstate m = beta * m + g\nupdate m');
const GD = parseRule('optimizer GD\nupdate g');
const EMA_WD = parseRule(
  'optimizer EMA-WD\nparam beta = 0.9 in (0, 1)\nparam lambda = 0.1 in [0, inf)\n' +
  'state m = beta*m + (1-beta)*(g + lambda*theta)\nupdate m');
const PREV = parseRule(
  'optimizer Prev\nparam beta = 0.9 in (0, 1)\nparam beta1 = 0.8 in (0, 1)\n' +
  'state m = beta*m + (1-beta)*g\nupdate beta1*prev(m) + (1-beta1)*g');

describe('oracle: heavy-ball', () => {
  it('F^(n) = (1 − β^{n+1})/(1 − β)·g at exact finite n', () => {
    const p = point(1);
    for (const n of [0, 1, 5, 40]) {
      expectClose(oracleDirection({ rule: HB, n, ...p }), scale((1 - 0.9 ** (n + 1)) / 0.1, p.g), 1e-13);
    }
  });

  it('M → β/(1 − β)³·Hg for large n (β = 0.5, n = 200)', () => {
    for (const seed of [2, 3, 4]) {
      const p = point(seed);
      expectClose(oracleCorrection({ rule: HB, params: { beta: 0.5 }, n: 200, ...p }), scale(0.5 / 0.125, matvec(p.hessian, p.g)), 1e-12);
    }
  });

  it('exact n = 3: M = Σ_k β^k·H·D_k with D_k = Σ_{s=n−k}^{n−1} F^(s)', () => {
    const p = point(5), b = 0.9, n = 3;
    const Fs = (s: number) => (1 - b ** (s + 1)) / (1 - b); // F^(s) = Fs(s)·g
    let coef = 0; // M = coef·Hg
    for (let k = 1; k <= n; k++) {
      let Dk = 0;
      for (let s = n - k; s <= n - 1; s++) Dk += Fs(s);
      coef += b ** k * Dk;
    }
    expectClose(oracleCorrection({ rule: HB, n, ...p }), scale(coef, matvec(p.hessian, p.g)), 1e-13);
  });
});

describe('oracle: memoryless and weight-decay rules', () => {
  it('plain GD: F = g and M = 0 exactly', () => {
    const p = point(6);
    expectClose(oracleDirection({ rule: GD, n: 7, ...p }), p.g, 0);
    for (const v of oracleCorrection({ rule: GD, n: 7, ...p })) expect(Math.abs(v)).toBe(0);
  });

  it('EMA of g + λθ: M → β/(1 − β)·(HF + λF), F = g + λθ', () => {
    const b = 0.5, lam = 0.3;
    for (const seed of [7, 8]) {
      const p = point(seed);
      const F = add(p.g, scale(lam, p.theta));
      const expected = scale(b / (1 - b), add(matvec(p.hessian, F), scale(lam, F)));
      expectClose(oracleCorrection({ rule: EMA_WD, params: { beta: b, lambda: lam }, n: 200, ...p }), expected, 1e-12);
    }
  });
});

describe('oracle: prev()', () => {
  it('update reads the previous value of m', () => {
    const p = point(9), b = 0.9, b1 = 0.8;
    const at = (n: number) => oracleDirection({ rule: PREV, n, ...p });
    expectClose(at(0), scale(1 - b1, p.g), 1e-15); // m_0 = 0
    expectClose(at(1), scale(b1 * (1 - b) + (1 - b1), p.g), 1e-15); // m_1 = (1−β)g
    expectClose(at(2), scale(b1 * (1 - b * b) + (1 - b1), p.g), 1e-15); // m_2 = (1−β²)g
  });

  it('M → β1/(1 − β)·Hg for large n (weights β1(1−β)β^{k−1} on g_{n−k}, k ≥ 1)', () => {
    const p = point(10);
    const got = oracleCorrection({ rule: PREV, params: { beta: 0.5, beta1: 0.9 }, n: 200, ...p });
    expectClose(got, scale(0.9 / 0.5, matvec(p.hessian, p.g)), 1e-12);
  });
});

describe('oracle: nonlinear rule through a helper function', () => {
  // Smoothed signum with weight decay, unrolled by hand below and differentiated by central
  // differences with one Richardson step: checks the oracle's chain rule through fn, sqrt, ^, /.
  const rule = parseRule(
    'optimizer SS\nparam beta = 0.7 in (0, 1)\nparam lambda = 0.05 in [0, inf)\nparam delta = 0.3 in (0, inf)\n' +
    'fn phi(x) = x / sqrt(x^2 + delta^2)\nstate m = beta * m + (1 - beta) * g\nupdate phi(m) + lambda * theta');
  const b = 0.7, lam = 0.05, del = 0.3;
  /** Coordinate j's update at step n given its gradient and iterate histories. */
  const hand = (gs: number[], ths: number[]) => {
    let m = 0;
    for (const gk of gs) m = b * m + (1 - b) * gk;
    return m / Math.sqrt(m * m + del * del) + lam * ths[ths.length - 1]!;
  };

  it('matches a hand-unrolled finite-difference derivative at n = 6', () => {
    const p = point(11), n = 6, d = 3;
    const Fs = Array.from({ length: n }, (_, s) => Array.from({ length: d }, (_, j) =>
      hand(Array(s + 1).fill(p.g[j]), Array(s + 1).fill(p.theta[j]))));
    expectClose(oracleDirection({ rule, n: 2, ...p }), Fs[2]!, 1e-14);
    // Δθ_s = Σ_{t=s}^{n−1} F^(t), Δg_s = HΔθ_s.
    const dTh = Array.from({ length: n + 1 }, (_, s) => Array.from({ length: d }, (_, j) => {
      let acc = 0;
      for (let t = s; t < n; t++) acc += Fs[t]![j]!;
      return acc;
    }));
    const dG = dTh.map((v) => Array.from(matvec(p.hessian, v)));
    const Fn = (eps: number) => Array.from({ length: d }, (_, j) =>
      hand(dG.map((v) => p.g[j]! + eps * v[j]!), dTh.map((v) => p.theta[j]! + eps * v[j]!)));
    const cd = (eps: number) => Fn(eps).map((v, j) => (v - Fn(-eps)[j]!) / (2 * eps));
    const e = 1e-3, c1 = cd(e), c2 = cd(2 * e);
    const richardson = c1.map((v, j) => (4 * v - c2[j]!) / 3);
    expectClose(oracleCorrection({ rule, n, ...p }), richardson, 1e-9);
  });
});

describe('oracle: interface', () => {
  const ADAM = parseRule(
    'optimizer Adam\nparam beta1 = 0.9 in (0, 1)\nparam beta2 = 0.999 in (0, 1)\nparam eps = 1e-8 in [0, inf)\n' +
    'state m = beta1 * m + (1 - beta1) * g\nstate v = beta2 * v + (1 - beta2) * g^2\n' +
    'update m / (1 - beta1^(n+1)) / (sqrt(v / (1 - beta2^(n+1))) + eps)');

  it('n = 3000, d = 3 runs both calls well under 0.5 s', () => {
    const input: OracleInput = { rule: ADAM, n: 3000, ...point(12) };
    const t0 = performance.now();
    const F = oracleDirection(input), M = oracleCorrection(input);
    expect(performance.now() - t0).toBeLessThan(500);
    // Bias-corrected Adam: F = g/(|g| + ε) on a constant history, for every n (docs/theory.md §3).
    expectClose(F, Array.from(input.g, (x) => x / (Math.abs(x) + 1e-8)), 1e-12);
    for (const v of M) expect(Number.isFinite(v)).toBe(true);
  });

  it('rejects unknown parameters and malformed inputs', () => {
    const p = point(13);
    expect(() => oracleDirection({ rule: HB, params: { gamma: 1 }, n: 1, ...p })).toThrow(/no parameter 'gamma'/);
    expect(() => oracleDirection({ rule: HB, n: -1, ...p })).toThrow(/n must be/);
    expect(() => oracleCorrection({ rule: HB, n: 1, ...p, hessian: new Float64Array(4) })).toThrow(/hessian/);
  });
});
