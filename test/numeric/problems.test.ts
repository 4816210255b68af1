// The test problems checked against finite differences of their own loss (the oracle needs
// nothing but L): ∇L against central differences of L, H·v against central differences of ∇L,
// plus symmetry of H, the buffer contract, determinism and the scales the experiments rely on.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { PROBLEMS, problemNames, createLogistic, createMlp, createQuartic } from '../../src/numeric/problems/index.js';
import { createRng } from '../../src/numeric/problems/random.js';
import type { Problem } from '../../src/numeric/types.js';

const EPS = 1e-5; // central differences: truncation O(ε²), roundoff O(1e-16/ε) ≈ 1e-11

const dot = (a: Float64Array, b: Float64Array) => a.reduce((s, x, i) => s + x * b[i]!, 0);
const maxAbs = (a: ArrayLike<number>) => Math.max(...Array.from(a, Math.abs));

/** ‖actual − expected‖∞ ≤ rtol·‖expected‖∞. */
function expectRelClose(actual: Float64Array, expected: Float64Array, rtol: number) {
  expect(actual.length).toBe(expected.length);
  const err = maxAbs(actual.map((a, i) => a - expected[i]!));
  expect(err).toBeLessThanOrEqual(rtol * maxAbs(expected));
}

/** A random point near the problem's start: initial(seed) + N(0, 0.3²) per coordinate. */
function randomPoint(P: Problem, seed: number): Float64Array {
  const r = createRng(1000 + seed);
  return P.initial(seed).map((x) => x + 0.3 * r.normal());
}

function randomVector(dim: number, seed: number): Float64Array {
  const r = createRng(2000 + seed);
  return Float64Array.from({ length: dim }, () => r.normal());
}

/** (L(θ + εeᵢ) − L(θ − εeᵢ))/(2ε) for every i. */
function fdGrad(P: Problem, theta: Float64Array): Float64Array {
  const t = theta.slice();
  return Float64Array.from(theta, (x, i) => {
    t[i] = x + EPS;
    const up = P.loss(t);
    t[i] = x - EPS;
    const down = P.loss(t);
    t[i] = x;
    return (up - down) / (2 * EPS);
  });
}

/** (∇L(θ + εv) − ∇L(θ − εv))/(2ε). */
function fdHvp(P: Problem, theta: Float64Array, v: Float64Array): Float64Array {
  const up = P.grad(theta.map((x, i) => x + EPS * v[i]!), new Float64Array(P.dim));
  const down = P.grad(theta.map((x, i) => x - EPS * v[i]!), new Float64Array(P.dim));
  return up.map((u, i) => (u - down[i]!) / (2 * EPS));
}

/** Largest |λ| of H(θ) by power iteration with the problem's own hvp. */
function spectralRadius(P: Problem, theta: Float64Array): number {
  let v = randomVector(P.dim, 7);
  const hv = new Float64Array(P.dim);
  let lambda = 0;
  for (let it = 0; it < 300; it++) {
    P.hvp(theta, v, hv);
    lambda = Math.sqrt(dot(hv, hv) / dot(v, v));
    v = hv.map((x) => x / lambda);
  }
  return lambda;
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('problem registry', () => {
  it('names the five problems, sorted', () => {
    expect(problemNames()).toEqual(['linear-net', 'logistic', 'mlp', 'quartic', 'sensing']);
    for (const name of problemNames()) expect(PROBLEMS[name]!().name).toBe(name);
  });

  it('default sizes', () => {
    expect(PROBLEMS.quartic!().dim).toBe(10);
    expect(PROBLEMS.logistic!().dim).toBe(10);
    expect(PROBLEMS.mlp!().dim).toBe(12 * 4 + 12 + 3 * 12 + 3);
  });

  it('rejects bad sizes and mismatched buffers', () => {
    expect(() => createQuartic({ dim: 0 })).toThrow(RangeError);
    expect(() => createQuartic({ rho: 1 })).toThrow(RangeError);
    expect(() => createLogistic({ samples: 0 })).toThrow(RangeError);
    expect(() => createMlp({ hidden: 2.5 })).toThrow(RangeError);
    expect(() => createMlp({ classes: 1 })).toThrow(RangeError);
    for (const name of problemNames()) {
      const P = PROBLEMS[name]!();
      const theta = P.initial();
      expect(() => P.loss(new Float64Array(P.dim + 1))).toThrow(RangeError);
      expect(() => P.grad(theta, new Float64Array(P.dim - 1))).toThrow(RangeError);
      expect(() => P.hvp(theta, new Float64Array(P.dim + 1), new Float64Array(P.dim))).toThrow(RangeError);
    }
  });
});

describe.each(problemNames())('%s', (name) => {
  const P = PROBLEMS[name]!({ seed: 3 });

  it.each([1, 2, 3])('∇L equals central differences of L (point %i)', (seed) => {
    const theta = randomPoint(P, seed);
    expectRelClose(P.grad(theta, new Float64Array(P.dim)), fdGrad(P, theta), 1e-6);
  });

  it.each([1, 2, 3])('H·v equals central differences of ∇L (point %i)', (seed) => {
    const theta = randomPoint(P, seed);
    const v = randomVector(P.dim, seed);
    expectRelClose(P.hvp(theta, v, new Float64Array(P.dim)), fdHvp(P, theta, v), 1e-6);
  });

  it.each([1, 2, 3])('H is symmetric: uᵀHv = vᵀHu (point %i)', (seed) => {
    const theta = randomPoint(P, seed);
    const u = randomVector(P.dim, 10 + seed), v = randomVector(P.dim, 20 + seed);
    const uHv = dot(u, P.hvp(theta, v, new Float64Array(P.dim)));
    const vHu = dot(v, P.hvp(theta, u, new Float64Array(P.dim)));
    expect(Math.abs(uHv - vHu)).toBeLessThanOrEqual(1e-12 * Math.max(Math.abs(uHv), 1));
  });

  it('grad and hvp return `out`, and a kept result survives later calls', () => {
    const theta = randomPoint(P, 4);
    const v1 = randomVector(P.dim, 31), v2 = randomVector(P.dim, 32);
    const out1 = new Float64Array(P.dim), out2 = new Float64Array(P.dim), gOut = new Float64Array(P.dim);
    const r1 = P.hvp(theta, v1, out1);
    const kept = r1.slice();
    const r2 = P.hvp(theta, v2, out2);
    expect(r1).toBe(out1);
    expect(r2).toBe(out2);
    expect(P.grad(theta, gOut)).toBe(gOut);
    expect(out1).toEqual(kept); // untouched by the second hvp and by grad
    expect(maxAbs(out2.map((x, i) => x - kept[i]!))).toBeGreaterThan(0);
    // linearity: H(v₁ + v₂) = Hv₁ + Hv₂, checked through fresh calls
    const sum = P.hvp(theta, v1.map((x, i) => x + v2[i]!), new Float64Array(P.dim));
    expectRelClose(sum, out1.map((x, i) => x + out2[i]!), 1e-12);
    // `out` is fully overwritten, whatever it held
    const dirty = new Float64Array(P.dim).fill(123);
    expect(P.hvp(theta, v1, dirty)).toEqual(kept);
    expect(P.grad(theta, new Float64Array(P.dim).fill(-7))).toEqual(gOut);
  });

  it('is deterministic in its seeds and never calls Math.random', () => {
    const spy = vi.spyOn(Math, 'random');
    const a = PROBLEMS[name]!({ seed: 5 }), b = PROBLEMS[name]!({ seed: 5 }), c = PROBLEMS[name]!({ seed: 6 });
    expect(a.initial(2)).toEqual(b.initial(2));
    expect(a.initial(2)).not.toEqual(a.initial(3));
    const theta = a.initial(2);
    expect(a.loss(theta)).toBe(b.loss(theta));
    expect(a.loss(theta)).not.toBe(c.loss(theta));
    expect(spy).not.toHaveBeenCalled();
  });

  it.each([0, 1, 2])('scales at initial(%i): gradient O(0.1–1), λ_max(H) O(1–10)', (seed) => {
    const theta = P.initial(seed);
    const g = P.grad(theta, new Float64Array(P.dim));
    const rms = Math.sqrt(dot(g, g) / P.dim);
    expect(rms).toBeGreaterThan(0.03);
    expect(maxAbs(g)).toBeLessThan(5);
    const lambda = spectralRadius(P, theta);
    expect(lambda).toBeGreaterThan(0.5);
    expect(lambda).toBeLessThan(20);
  });
});

describe('problem specifics', () => {
  it('quartic: minimum 0 at θ = 0, and H(0) is positive definite', () => {
    const P = createQuartic({ seed: 1 });
    const zero = new Float64Array(P.dim);
    expect(P.loss(zero)).toBe(0);
    expect(maxAbs(P.grad(zero, new Float64Array(P.dim)))).toBe(0);
    for (let s = 0; s < 5; s++) {
      const v = randomVector(P.dim, 40 + s);
      expect(dot(v, P.hvp(zero, v, new Float64Array(P.dim)))).toBeGreaterThan(0);
    }
  });

  it('logistic: loss and gradient stay finite for huge logits', () => {
    const P = createLogistic({ seed: 2 });
    const theta = new Float64Array(P.dim).fill(1e3);
    expect(Number.isFinite(P.loss(theta))).toBe(true);
    for (const x of P.grad(theta, new Float64Array(P.dim))) expect(Number.isFinite(x)).toBe(true);
    for (const x of P.hvp(theta, theta, new Float64Array(P.dim))) expect(Number.isFinite(x)).toBe(true);
  });

  it('mlp: custom sizes pack as [W₁, b₁, W₂, b₂] and still match finite differences', () => {
    const P = createMlp({ samples: 20, inputs: 3, hidden: 5, classes: 4, seed: 9 });
    expect(P.dim).toBe(5 * 3 + 5 + 4 * 5 + 4);
    const theta = randomPoint(P, 8), v = randomVector(P.dim, 8);
    expectRelClose(P.grad(theta, new Float64Array(P.dim)), fdGrad(P, theta), 1e-6);
    expectRelClose(P.hvp(theta, v, new Float64Array(P.dim)), fdHvp(P, theta, v), 1e-6);
  });

  it('mlp: uniform prediction at zero weights gives loss log C', () => {
    const P = createMlp({ classes: 3 });
    expect(P.loss(new Float64Array(P.dim))).toBeCloseTo(Math.log(3), 14);
  });
});
