// npm run bench:backends — ns per parameter of one optimizer step on the CPU backends, for
// AdamW, Lion and heavy-ball at dim 1e6 and 1e7: the generated TypeScript module
// (loadOptimizer), WebAssembly scalar and SIMD (loadWasmOptimizer, arrays in WebAssembly
// memory), a hand-written fused JS loop, and a memory floor measured in the same run: a
// WASM SIMD loop with AdamW's access pattern (read θ, g, m, v; write θ, m, v: 56 B/param)
// and trivial arithmetic. A triad probe is not a valid floor here (it pays write-allocate
// traffic AdamW does not; see the engineering notes). The bound of a rule is its bytes per
// parameter at the floor's bandwidth (AdamW 56 B, Lion and heavy-ball 40 B: read θ, g, m;
// write θ, m). Where python3 with numpy is present, a vectorized numpy AdamW step is timed
// in a subprocess as the peer. Goals: best CPU backend ≤ 1.5× the bound, ≥ 3× faster than
// numpy, WASM SIMD not slower than the TS module. ROUNDS=… sets the rounds (median).
import { readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { parseRule, derive } from '../dist/index.js';
import { loadOptimizer } from '../dist/numeric/compile.js';
import { loadWasmOptimizer } from '../dist/numeric/wasm-loader.js';
import { encodeModule, I } from '../dist/emit/wasm-binary.js';
import { HAND } from './hand-written.mjs';

const ROUNDS = Number(process.env.ROUNDS ?? 7);
const DIMS = (process.env.DIMS ?? '1e6,1e7').split(',').map(Number);
const H = 1e-3;
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const RULES = {
  adamw: { file: 'rules/adamw.rule', bytes: 56, hyper: { beta1: 0.9, beta2: 0.999, eps: 1e-8, lambda: 0.01 } },
  lion: { file: 'rules/lion.rule', bytes: 40, hyper: { beta1: 0.9, beta2: 0.99, lambda: 0.01 } },
  'heavy-ball': { file: 'rules/heavy-ball.rule', bytes: 40, hyper: { beta: 0.9 } },
};


/**
 * The floor: floor(pt, pg, pm, pv, len) in WASM SIMD, AdamW's access pattern with one add per
 * stream — m += g, v += g, θ += m + v (values stay finite over the rounds: g is tiny).
 */
function floorKernel(dim) {
  const [pt, pg, pm, pv, len, i, end, gl, ml, vl] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9];
  const addr = (p) => [I.localGet(p), I.localGet(i), I.i32Add()];
  const body = [
    I.localGet(len), I.i32Const(3), I.i32Shl(), I.localSet(end), I.i32Const(0), I.localSet(i),
    I.block(), I.loop(), I.localGet(i), I.localGet(end), I.i32GeU(), I.brIf(1),
    ...addr(pg), I.v128Load(), I.localSet(gl),
    ...addr(pm), I.v128Load(), I.localGet(gl), I.f64x2Add(), I.localSet(ml),
    ...addr(pv), I.v128Load(), I.localGet(gl), I.f64x2Add(), I.localSet(vl),
    ...addr(pm), I.localGet(ml), I.v128Store(),
    ...addr(pv), I.localGet(vl), I.v128Store(),
    ...addr(pt), ...addr(pt), I.v128Load(), I.localGet(ml), I.localGet(vl), I.f64x2Add(), I.f64x2Mul(), I.v128Store(),
    I.localGet(i), I.i32Const(16), I.i32Add(), I.localSet(i), I.br(0), I.end(), I.end(),
  ];
  const bytes = encodeModule({ imports: [], funcs: [{ name: 'floor', type: { params: ['i32', 'i32', 'i32', 'i32', 'i32'], results: [] }, locals: ['i32', 'i32', 'v128', 'v128', 'v128'], body }] });
  const { floor, memory } = new WebAssembly.Instance(new WebAssembly.Module(bytes)).exports;
  memory.grow(Math.ceil((4 * 8 * dim + 64) / 65536));
  const ptrs = [16, 16 + 8 * dim, 16 + 16 * dim, 16 + 24 * dim];
  const views = ptrs.map((p) => new Float64Array(memory.buffer, p, dim));
  views[0].fill(1); views[1].fill(1e-300); // θ·(m+v) with tiny values: finite, no denormal slowdown (m, v stay 0 + tiny·k)
  return () => floor(ptrs[0], ptrs[1], ptrs[2], ptrs[3], dim);
}

function numpyAdamW(dim) {
  const script = `
import time, numpy as np
n = ${dim}
theta = np.sin(np.arange(n, dtype=np.float64)); g = 0.1*np.cos(np.arange(n, dtype=np.float64))
m = np.zeros(n); v = np.zeros(n)
b1, b2, eps, wd, lr = 0.9, 0.999, 1e-8, 0.01, 1e-3
def step(t):
    global theta, m, v
    m = b1*m + (1-b1)*g
    v = b2*v + (1-b2)*g*g
    mhat = m/(1-b1**t); vhat = v/(1-b2**t)
    theta = theta - lr*(mhat/(np.sqrt(vhat)+eps) + wd*theta)
for t in range(1, 4): step(t)
ts = []
for t in range(4, 4+${ROUNDS}):
    t0 = time.perf_counter(); step(t); ts.append(time.perf_counter()-t0)
ts.sort(); print(ts[len(ts)//2]*1e9/n)
`;
  const r = spawnSync('python3', ['-c', script], { encoding: 'utf8' });
  if (r.status !== 0) return undefined;
  const x = Number(r.stdout.trim());
  return Number.isFinite(x) ? x : undefined;
}

const fmt = (x) => (x === undefined ? '—' : x.toFixed(2));
for (const dim of DIMS) {
  // the floor first, in its own memory, released before the optimizers allocate
  let floorNs;
  {
    const run = floorKernel(dim);
    for (let k = 0; k < 3; k++) run();
    const ts = [];
    for (let r = 0; r < ROUNDS; r++) { const t0 = performance.now(); run(); ts.push(((performance.now() - t0) * 1e6) / dim); }
    floorNs = median(ts);
  }
  const gbps = 56 / floorNs; // bytes per ns = GB/s
  const numpy = numpyAdamW(dim);
  console.log(`\ndim ${dim.toExponential(0)}: floor (AdamW access pattern, WASM SIMD) ${floorNs.toFixed(2)} ns/param = ${gbps.toFixed(1)} GB/s; numpy AdamW ${fmt(numpy)} ns/param`);
  console.log('rule        bound  TS      WASM    SIMD    hand    best/bound  best vs numpy  SIMD/TS');
  for (const [key, { file, bytes, hyper }] of Object.entries(RULES)) {
    const rule = parseRule(readFileSync(file, 'utf8'), file);
    const d = derive(rule, { exactN: true });
    const tsMod = loadOptimizer(rule, d);
    const wMod = loadWasmOptimizer(rule, d);
    const init = (a) => { for (let i = 0; i < a.length; i++) a[i] = Math.sin(i); return a; };
    const gInit = (a) => { for (let i = 0; i < a.length; i++) a[i] = 0.1 * Math.cos(i); return a; };
    // TS and hand: ordinary arrays; WASM: arrays in WebAssembly memory (alloc), so a step copies nothing
    const tsTheta = init(new Float64Array(dim)), tsGrad = gInit(new Float64Array(dim)), tsState = tsMod.init(dim);
    const handTheta = init(new Float64Array(dim)), handGrad = gInit(new Float64Array(dim)), handState = tsMod.init(dim);
    const wState = wMod.init(dim);
    const sState = wMod.init(dim);
    let wTheta = wMod.alloc(dim), wGrad = wMod.alloc(dim), sTheta = wMod.alloc(dim), sGrad = wMod.alloc(dim);
    [wTheta, wGrad, sTheta, sGrad] = [wTheta, wGrad, sTheta, sGrad].map((a) => wMod.refresh(a));
    for (const s of [wState, sState]) for (const k of Object.keys(s.arrays)) s.arrays[k] = wMod.refresh(s.arrays[k]);
    init(wTheta); gInit(wGrad); init(sTheta); gInit(sGrad);
    let handN = 0;
    const cases = {
      TS: () => tsMod.step(tsTheta, tsGrad, tsState, H, hyper),
      WASM: () => wMod.stepScalar(sTheta, sGrad, sState, H, hyper),
      SIMD: () => wMod.step(wTheta, wGrad, wState, H, hyper),
      hand: () => HAND[key](handTheta, handGrad, handState.arrays, handN++, H, hyper),
    };
    const times = Object.fromEntries(Object.keys(cases).map((k) => [k, []]));
    for (let w = 0; w < 3; w++) for (const f of Object.values(cases)) f(); // JIT, first touch
    for (let r = 0; r < ROUNDS; r++) {
      for (const [k, f] of Object.entries(cases)) { const t0 = performance.now(); f(); times[k].push(((performance.now() - t0) * 1e6) / dim); }
    }
    const med = Object.fromEntries(Object.entries(times).map(([k, v]) => [k, median(v)]));
    const bound = bytes / gbps;
    const [bestName, best] = Object.entries(med).sort((a, b) => a[1] - b[1])[0];
    const vsNumpy = key === 'adamw' && numpy !== undefined ? `${(numpy / best).toFixed(1)}× faster` : '—';
    console.log(`${key.padEnd(11)} ${fmt(bound).padEnd(6)} ${fmt(med.TS).padEnd(7)} ${fmt(med.WASM).padEnd(7)} ${fmt(med.SIMD).padEnd(7)} ${fmt(med.hand).padEnd(7)} ${(best / bound).toFixed(2)}× (${bestName})`.padEnd(78) + ` ${vsNumpy.padEnd(14)} ${(med.SIMD / med.TS).toFixed(2)}`);
  }
}
console.log('\ngoals: best/bound ≤ 1.5; AdamW best ≥ 3× faster than numpy; SIMD/TS ≤ 1.');
