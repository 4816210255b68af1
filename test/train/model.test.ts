/** The training MLP: gradient and R-operator HVP against central differences, for each activation. */
import { describe, expect, it } from 'vitest';
import { createRng } from '../../src/numeric/problems/random.js';
import { ACTIVATIONS, createMlp } from '../../src/train/model.js';
import { jsKernelFactory } from '../../src/train/kernels.js';
import { tinySparse } from './fixtures.js';

describe.each(ACTIVATIONS)('MLP with %s', (activation) => {
  const { x, y } = tinySparse(12, 9, 3, 5);
  const mlp = createMlp({ inputs: 9, hidden: 6, classes: 3, activation }, 12, jsKernelFactory);
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
  it('WebAssembly and JavaScript give the same bits for the loss, gradient and HVP', async () => {
    const { wasmKernelFactory } = await import('../../src/train/wasm-kernels.js');
    const { x, y } = tinySparse(20, 11, 4, 8);
    const shape = { inputs: 11, hidden: 6, classes: 4, activation: 'tanh' as const };
    const a = createMlp(shape, 20, jsKernelFactory), b = createMlp(shape, 20, wasmKernelFactory());
    const theta = a.init(5), rows = Int32Array.from([1, 3, 4, 9, 12, 19]);
    const v = Float64Array.from({ length: a.dim }, (_, i) => Math.cos(3 * i));
    const ga = new Float64Array(a.dim), gb = new Float64Array(a.dim);
    expect(b.lossGrad(theta, x, y, rows, gb)).toBe(a.lossGrad(theta, x, y, rows, ga));
    expect(Buffer.from(gb.buffer)).toEqual(Buffer.from(ga.buffer));
    const ha = a.hvp(v, new Float64Array(a.dim)), hb = b.hvp(v, new Float64Array(a.dim));
    expect(Buffer.from(hb.buffer)).toEqual(Buffer.from(ha.buffer));
    expect(ha.some((t) => t !== 0)).toBe(true);
  });
});
