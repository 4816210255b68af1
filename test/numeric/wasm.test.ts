/**
 * The WebAssembly optimizer against the TypeScript module on every shipped rule: the step
 * over 100 steps (SIMD pairs and the scalar tail: odd dimensions), direction and correction
 * (exact n and asymptotic), the memoryless step; arrays in WebAssembly memory (no copies)
 * and ordinary arrays (copied); the emitted ES module; Math.sign's edge cases.
 */
import { describe, expect, it } from 'vitest';
import { readdirSync } from 'node:fs';
import { derive } from '../../src/derive/index.js';
import { loadOptimizer } from '../../src/numeric/compile.js';
import { loadWasmOptimizer, type WasmOptimizerModule } from '../../src/numeric/wasm-loader.js';
import { emitWasm, emitWat } from '../../src/emit/wasm.js';
import type { OptimizerModule } from '../../src/numeric/types.js';
import type { Rule } from '../../src/ir/rule.js';
import { parseRule } from '../../src/parse/rule-file.js';
import { loadRule, mulberry32, randomParams, isMatrixRuleFile } from '../derive/helpers.js';

const RULES = readdirSync('rules').filter((f) => f.endsWith('.rule') && !isMatrixRuleFile(`rules/${f}`)).sort();
/** The shipped rules, and one whose kernels call the imported Math.tanh. */
const CASES: [string, Rule][] = [
  ...RULES.map((f): [string, Rule] => [f, loadRule(`rules/${f}`)]),
  ['tanh-momentum.rule', parseRule('optimizer TanhMomentum\nparam beta = 0.9 in (0, 1)\nparam c = 2 in (0, inf)\nstate m = beta*m + (1-beta)*g\nupdate tanh(c*m)/c\n', 'tanh-momentum.rule')],
];

/** Largest elementwise relative difference (a difference at an exact 0 counts as relative to 1e-300). */
function maxElementRel(a: Float64Array, b: Float64Array): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    if (Object.is(a[i], b[i])) continue;
    m = Math.max(m, Math.abs(a[i]! - b[i]!) / Math.max(Math.abs(a[i]!), Math.abs(b[i]!), 1e-300));
  }
  return m;
}

const randomArray = (rand: () => number, dim: number, scale = 1) => Float64Array.from({ length: dim }, () => scale * (2 * rand() - 1));

/** A symmetric tridiagonal Hessian: (Hv)ᵢ = 2vᵢ − ½(vᵢ₋₁ + vᵢ₊₁); a fresh output each call. */
const tridiagonalHvp = (v: Float64Array) =>
  Float64Array.from(v, (x, i) => 2 * x - 0.5 * ((i > 0 ? v[i - 1]! : 0) + (i + 1 < v.length ? v[i + 1]! : 0)));

/** 100 steps of both modules on the quadratic L = ½|θ|² + noise, returning θ and the states of each. */
function run(ts: OptimizerModule, wasm: WasmOptimizerModule, dim: number, hyper: Record<string, number>, seed: number, inWasm: boolean, scalar = false) {
  const rand = mulberry32(seed);
  const theta0 = randomArray(rand, dim);
  const tsTheta = theta0.slice();
  const tsState = ts.init(dim);
  let wTheta = inWasm ? wasm.alloc(dim) : new Float64Array(dim);
  wTheta.set(theta0);
  let wGrad = inWasm ? wasm.alloc(dim) : new Float64Array(dim);
  const wState = wasm.init(dim);
  if (!inWasm) for (const k of Object.keys(wState.arrays)) wState.arrays[k] = new Float64Array(dim);
  if (inWasm) { wTheta = wasm.refresh(wTheta); wGrad = wasm.refresh(wGrad); }
  for (let k = 0; k < 100; k++) {
    const noise = randomArray(rand, dim, 0.3);
    if (k % 10 === 3) noise[0] = -tsTheta[0]!; // g = 0 exactly in one coordinate now and then (sign(0))
    const g = Float64Array.from(tsTheta, (x, i) => x + noise[i]!);
    ts.step(tsTheta, g, tsState, 0.01, hyper);
    for (let i = 0; i < dim; i++) wGrad[i] = wTheta[i]! + noise[i]!;
    (scalar ? wasm.stepScalar : wasm.step)(wTheta, wGrad, wState, 0.01, hyper);
  }
  expect(wState.n).toBe(tsState.n);
  return { tsTheta, wTheta, tsState, wState };
}

describe.each(CASES)('WebAssembly module for %s', (file, rule) => {
  const d = derive(rule, { exactN: true });
  const ts = loadOptimizer(rule, d);
  const wasm = loadWasmOptimizer(rule, d);
  const hyper = randomParams(rule, mulberry32(file.length * 31));

  it.each([
    [7, true, false], [7, false, false], [1025, true, false], [1025, false, false], [7, true, true], [1025, true, true],
  ])('step equals the TypeScript step over 100 steps (dim %i, arrays in memory %s, scalar %s)', (dim, inWasm, scalar) => {
    const r = run(ts, wasm, dim, hyper, dim * 7 + (inWasm ? 1 : 0), inWasm, scalar);
    expect(maxElementRel(r.tsTheta, r.wTheta)).toBeLessThanOrEqual(1e-14);
    for (const k of Object.keys(r.tsState.arrays)) expect(maxElementRel(r.tsState.arrays[k]!, r.wState.arrays[k]!)).toBeLessThanOrEqual(1e-14);
  });

  it.each([7, 1025])('direction, correction and the memoryless step agree (exact n and asymptotic, dim %i)', (dim) => {
    const rand = mulberry32(dim + file.length);
    const theta = randomArray(rand, dim);
    const g = randomArray(rand, dim);
    g[1] = 0; // sign(0), |0|
    const exactAvailable = d.exactN !== undefined && !('unavailable' in d.exactN);
    for (const n of exactAvailable ? [undefined, 0, 3, 40] : [undefined]) {
      expect(maxElementRel(ts.direction(theta, g, hyper, n), wasm.direction(theta, g, hyper, n))).toBeLessThanOrEqual(1e-13);
      expect(maxElementRel(ts.correction(theta, g, tridiagonalHvp, hyper, n), wasm.correction(theta, g, tridiagonalHvp, hyper, n))).toBeLessThanOrEqual(1e-13);
      const a = theta.slice(), b = theta.slice();
      ts.memorylessStep(a, g, tridiagonalHvp, 0.05, hyper, n);
      wasm.memorylessStep(b, g, tridiagonalHvp, 0.05, hyper, n);
      expect(maxElementRel(a, b)).toBeLessThanOrEqual(1e-13);
    }
    // in place, arrays in WebAssembly memory
    const wt = wasm.alloc(dim), wg = wasm.alloc(dim), out = wasm.alloc(dim);
    const [t2, g2, o2] = [wasm.refresh(wt), wasm.refresh(wg), wasm.refresh(out)];
    t2.set(theta); g2.set(g);
    wasm.directionInto(t2, g2, o2, hyper);
    expect(maxElementRel(ts.direction(theta, g, hyper), wasm.refresh(out))).toBeLessThanOrEqual(1e-13);
    wasm.correctionInto(t2, g2, tridiagonalHvp, o2, hyper);
    expect(maxElementRel(ts.correction(theta, g, tridiagonalHvp, hyper), wasm.refresh(out))).toBeLessThanOrEqual(1e-13);
  });
});

describe('WebAssembly memory and the emitted module', () => {
  const rule = loadRule('rules/adamw.rule');
  const d = derive(rule, { exactN: true });

  it('a state detached by memory growth is refreshed by step; refresh gives the values', () => {
    const wasm = loadWasmOptimizer(rule, d);
    const ts = loadOptimizer(rule, d);
    const dim = 9;
    const theta = wasm.alloc(dim);
    theta.set(Float64Array.from({ length: dim }, (_, i) => i - 4));
    const state = wasm.init(dim);
    const big = wasm.alloc(1 << 17); // 1 MiB: grows the memory, detaching every view above
    expect(big.length).toBe(1 << 17);
    expect(theta.length).toBe(0);
    const ref = Float64Array.from({ length: dim }, (_, i) => i - 4);
    const refState = ts.init(dim);
    const grad = Float64Array.from({ length: dim }, (_, i) => Math.cos(i));
    ts.step(ref, grad, refState, 0.1);
    wasm.step(theta, grad, state, 0.1); // detached alloc'd θ: still its region
    expect(maxElementRel(ref, wasm.refresh(theta))).toBe(0);
    expect(state.arrays['m']!.length).toBe(dim);
    expect(maxElementRel(refState.arrays['m']!, state.arrays['m']!)).toBe(0);
  });

  it('emitWasm is a self-contained ES module with the same results; emitWat shows the f64x2 loop', async () => {
    const source = emitWasm(rule, d);
    expect(source).not.toMatch(/\bimport\b/);
    const mod = (await import(`data:text/javascript;base64,${Buffer.from(source).toString('base64')}`)) as WasmOptimizerModule;
    const ts = loadOptimizer(rule, d);
    const a = Float64Array.from({ length: 11 }, (_, i) => Math.sin(i)), b = a.slice();
    const sa = ts.init(11), sb = mod.init(11);
    for (let k = 0; k < 5; k++) {
      const g = Float64Array.from(a, (x, i) => x + Math.cos(i * k));
      ts.step(a, g, sa, 0.01);
      mod.step(b, g, sb, 0.01);
    }
    expect(maxElementRel(a, b)).toBe(0);
    const wat = emitWat(rule, d);
    expect(wat).toMatch(/\(func \(export "step"\)/);
    expect(wat).toMatch(/f64x2\.sqrt/);
    expect(wat).toMatch(/v128\.store/);
  });
});
