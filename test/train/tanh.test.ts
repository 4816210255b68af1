/** The training model's tanh against Math.tanh: a few units in the last place, edge cases exact. */
import { describe, expect, it } from 'vitest';
import { createRng } from '../../src/numeric/problems/random.js';
import { tanh, tanhInto } from '../../src/train/tanh.js';

describe('tanh', () => {
  const ulps = (x: number) => Math.abs(tanh(x) - Math.tanh(x)) / (Math.abs(Math.tanh(x)) * 2 ** -52);

  it('is within 4 ulp of Math.tanh from 1e-12 to saturation, on a grid and at random', () => {
    const rng = createRng(3);
    let worst = 0;
    for (let i = -25000; i <= 25000; i++) if (i !== 0) worst = Math.max(worst, ulps(i / 1000));
    for (let i = 0; i < 200000; i++) worst = Math.max(worst, ulps((rng.uniform() - 0.5) * 2 * 10 ** (14 * rng.uniform() - 12)));
    // where the reduction changes k, and around saturation
    for (let k = 1; k < 60; k++) for (const d of [-1e-12, 0, 1e-12]) worst = Math.max(worst, ulps(((k + 0.5) * Math.LN2) / 2 + d));
    expect(worst).toBeLessThan(4);
    expect(worst).toBeGreaterThan(0); // not Math.tanh itself
  });

  it('keeps the sign of zero, saturates to ±1 and passes NaN through', () => {
    expect(Object.is(tanh(0), 0)).toBe(true);
    expect(Object.is(tanh(-0), -0)).toBe(true);
    expect(tanh(5e-324)).toBe(5e-324);
    expect(tanh(1e-300)).toBe(1e-300);
    for (const x of [19.09, 19.1, 25, 1e300, Infinity]) {
      expect(tanh(x)).toBe(1);
      expect(tanh(-x)).toBe(-1);
    }
    expect(tanh(NaN)).toBeNaN();
  });
});

describe('tanhInto (WebAssembly SIMD, two lanes)', () => {
  it('gives the bits of tanh, for odd and even lengths and every special value', () => {
    const rng = createRng(11);
    const special = [0, -0, NaN, Infinity, -Infinity, 5e-324, -5e-324, 1e-300, 0.3465735902799726, 19.1, -19.1, 19.0999, 700, -1e308];
    for (const n of [0, 1, 2, 7, 1000, 1001]) {
      const A = Float64Array.from({ length: n }, (_, i) => (i < special.length ? special[i]! : (rng.uniform() - 0.5) * 10 ** (8 * rng.uniform() - 6)));
      const S = new Float64Array(n + 1).fill(42);
      tanhInto(A, S, n);
      const want = Float64Array.from(A, tanh);
      expect(Buffer.from(S.buffer, 0, n * 8)).toEqual(Buffer.from(want.buffer));
      expect(S[n]).toBe(42); // nothing past n
    }
  });
});
