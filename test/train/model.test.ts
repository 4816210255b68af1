/** The training MLP: gradient and R-operator HVP against central differences, for each activation. */
import { describe, expect, it } from 'vitest';
import { createRng } from '../../src/numeric/problems/random.js';
import { ACTIVATIONS, createMlp } from '../../src/train/model.js';
import type { SparseRows } from '../../src/train/data.js';
import { jsKernelFactory, PRECISIONS } from '../../src/train/kernels.js';
import { wasmKernelFactory } from '../../src/train/wasm-kernels.js';
import { tinySparse } from './fixtures.js';

describe.each(ACTIVATIONS)('MLP with %s', (activation) => {
  const { x, y } = tinySparse(12, 9, 3, 5);
  const mlp = createMlp({ inputs: 9, hidden: 6, classes: 3, activation, precision: 'f64' }, 12, jsKernelFactory);
  const rows = Int32Array.from([0, 2, 3, 5, 7, 8, 11]);
  const theta = mlp.init(3);
  const rng = createRng(9);
  for (let i = 0; i < theta.length; i++) theta[i] += 0.3 * rng.normal();
  const grad = new Float64Array(mlp.dim);
  const lossAt = (t: Float64Array) => mlp.lossGrad(t, x, y, rows, new Float64Array(mlp.dim));

  it('gradient matches central differences', () => {
    mlp.lossGrad(theta, x, y, rows, grad);
    const e = 1e-6;
    for (const i of [0, 5, 40, mlp.dim - 20, mlp.dim - 1]) {
      const tp = theta.slice(), tm = theta.slice();
      tp[i] += e; tm[i] -= e;
      expect(grad[i]).toBeCloseTo((lossAt(tp) - lossAt(tm)) / (2 * e), 7);
    }
  });

  it('hvp matches the difference of gradients', () => {
    const v = Float64Array.from({ length: mlp.dim }, () => rng.normal());
    const e = 1e-6;
    const g = (t: Float64Array) => { const out = new Float64Array(mlp.dim); mlp.lossGrad(t, x, y, rows, out); return out; };
    const gp = g(theta.map((t, i) => t + e * v[i]!)), gm = g(theta.map((t, i) => t - e * v[i]!));
    mlp.lossGrad(theta, x, y, rows, grad);
    const hv = mlp.hvp(v, new Float64Array(mlp.dim));
    let maxErr = 0, scale = 0;
    for (let i = 0; i < mlp.dim; i++) {
      maxErr = Math.max(maxErr, Math.abs(hv[i]! - (gp[i]! - gm[i]!) / (2 * e)));
      scale = Math.max(scale, Math.abs(hv[i]!));
    }
    expect(scale).toBeGreaterThan(1e-3);
    expect(maxErr / scale).toBeLessThan(1e-6);
  });

  it('evaluate agrees with lossGrad on all rows and does not disturb the hvp cache', () => {
    const all = Int32Array.from({ length: 12 }, (_, i) => i);
    const l = mlp.lossGrad(theta, x, y, all, grad);
    const v = Float64Array.from({ length: mlp.dim }, (_, i) => Math.sin(i));
    const before = mlp.hvp(v, new Float64Array(mlp.dim));
    const ev = mlp.evaluate(theta, x, y);
    expect(ev.loss).toBeCloseTo(l, 12);
    expect(ev.accuracy).toBeGreaterThanOrEqual(0);
    expect(mlp.hvp(v, new Float64Array(mlp.dim))).toEqual(before);
  });
});

describe('kernels', () => {
  const dense = (x: SparseRows) => {
    const X = new Float64Array(x.rows * x.cols);
    for (let r = 0; r < x.rows; r++) for (let k = x.rowPtr[r]!; k < x.rowPtr[r + 1]!; k++) X[r * x.cols + x.colIdx[k]!] = x.values[k]!;
    return X;
  };
  const rng = createRng(4);
  const randomArray = (n: number) => Float64Array.from({ length: n }, () => rng.normal());
  const bits = (a: Float64Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);

  // small tiles and blocks so that several tiles, scalar tails and blocks all occur
  const factories = { small: wasmKernelFactory({ tileVectors: 2, blockBytes: 64 }), default: wasmKernelFactory() };
  it.each(PRECISIONS.flatMap((p) => [1, 3, 4, 10, 37].flatMap((K) => (['small', 'default'] as const).map((f) => [p, K, f] as const))))(
    '%s, rows of %d, %s tiles: WebAssembly equals JavaScript bitwise and the dense product closely',
    (precision, K, tiles) => {
      const { x } = tinySparse(40, 13, 2, K);
      const wasm = factories[tiles](K, precision), js = jsKernelFactory(K, precision);
      const tol = precision === 'f32' ? 1e-5 : 1e-13;
      const W = randomArray(x.cols * K), X = dense(x);
      // the full selection twice (the cached transpose), then a subset, then the full one again
      for (const rows of [Int32Array.from({ length: 40 }, (_, i) => i), null, Int32Array.from([3, 1, 4, 15, 9, 26, 5, 35, 8, 39]), null]) {
        const sel = rows ?? Int32Array.from({ length: 40 }, (_, i) => i);
        const out0 = randomArray(sel.length * K), D = randomArray(sel.length * K), G0 = randomArray(x.cols * K);
        const a = out0.slice(), b = out0.slice();
        js.spmm(x, sel, W, a, K);
        wasm.spmm(x, sel, W, b, K);
        expect(bits(b)).toEqual(bits(a));
        // with a starting row: out's old contents (NaN here) are not read
        const init = randomArray(K), c = new Float64Array(sel.length * K).fill(NaN), d = c.slice();
        js.spmm(x, sel, W, c, K, init);
        wasm.spmm(x, sel, W, d, K, init);
        expect(bits(d)).toEqual(bits(c));
        for (let r = 0; r < sel.length; r++)
          for (let j = 0; j < K; j++) {
            let s = init[j]!;
            for (let col = 0; col < x.cols; col++) s += X[sel[r]! * x.cols + col]! * W[col * K + j]!;
            expect(Math.abs(c[r * K + j]! - s)).toBeLessThan(tol * (1 + Math.abs(s)) * 10);
          }
        const g1 = G0.slice(), g2 = G0.slice();
        js.spmmT(x, sel, D, g1, K);
        wasm.spmmT(x, sel, D, g2, K);
        expect(bits(g2)).toEqual(bits(g1));
        // against the dense definition
        let err = 0, scale = 0;
        for (let r = 0; r < sel.length; r++)
          for (let j = 0; j < K; j++) {
            let s = out0[r * K + j]!;
            for (let c = 0; c < x.cols; c++) s += X[sel[r]! * x.cols + c]! * W[c * K + j]!;
            err = Math.max(err, Math.abs(a[r * K + j]! - s));
            scale = Math.max(scale, Math.abs(s));
          }
        for (let c = 0; c < x.cols; c++)
          for (let j = 0; j < K; j++) {
            let s = G0[c * K + j]!;
            for (let r = 0; r < sel.length; r++) s += X[sel[r]! * x.cols + c]! * D[r * K + j]!;
            err = Math.max(err, Math.abs(g1[c * K + j]! - s));
            scale = Math.max(scale, Math.abs(s));
          }
        expect(err / scale).toBeLessThan(tol);
        if (precision === 'f32') expect(a.every((t) => t === Math.fround(t))).toBe(true);
      }
    },
  );

  it.each(PRECISIONS)('%s: WebAssembly and JavaScript give the same bits for the loss, gradient and HVP', (precision) => {
    const { x, y } = tinySparse(20, 11, 4, 8);
    const shape = { inputs: 11, hidden: 6, classes: 4, activation: 'tanh' as const, precision };
    const a = createMlp(shape, 20, jsKernelFactory), b = createMlp(shape, 20, wasmKernelFactory());
    const theta = a.init(5), rows = Int32Array.from([1, 3, 4, 9, 12, 19]);
    const v = Float64Array.from({ length: a.dim }, (_, i) => Math.cos(3 * i));
    const ga = new Float64Array(a.dim), gb = new Float64Array(a.dim);
    expect(b.lossGrad(theta, x, y, rows, gb)).toBe(a.lossGrad(theta, x, y, rows, ga));
    expect(bits(gb)).toEqual(bits(ga));
    const ha = a.hvp(v, new Float64Array(a.dim)), hb = b.hvp(v, new Float64Array(a.dim));
    expect(bits(hb)).toEqual(bits(ha));
    expect(ha.some((t) => t !== 0)).toBe(true);
  });

  it('single precision changes the gradient and HVP only at single-precision rounding', () => {
    const { x, y } = tinySparse(30, 17, 4, 2);
    const shape = { inputs: 17, hidden: 9, classes: 4, activation: 'softplus' as const };
    const a = createMlp({ ...shape, precision: 'f64' }, 30, wasmKernelFactory()), b = createMlp({ ...shape, precision: 'f32' }, 30, wasmKernelFactory());
    const theta = a.init(7), rows = Int32Array.from({ length: 30 }, (_, i) => i);
    const ga = new Float64Array(a.dim), gb = new Float64Array(a.dim);
    expect(b.lossGrad(theta, x, y, rows, gb)).toBeCloseTo(a.lossGrad(theta, x, y, rows, ga), 5);
    const v = Float64Array.from({ length: a.dim }, (_, i) => Math.sin(i));
    const ha = a.hvp(v, new Float64Array(a.dim)), hb = b.hvp(v, new Float64Array(a.dim));
    const relMax = (p: Float64Array, q: Float64Array) => {
      let e = 0, s = 0;
      for (let i = 0; i < p.length; i++) { e = Math.max(e, Math.abs(p[i]! - q[i]!)); s = Math.max(s, Math.abs(p[i]!)); }
      return e / s;
    };
    expect(relMax(ga, gb)).toBeLessThan(1e-5);
    expect(relMax(ha, hb)).toBeLessThan(1e-5);
    expect(relMax(ga, gb)).toBeGreaterThan(0); // it did compute in single precision
  });
});
