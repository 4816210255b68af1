// npm run bench:train — time per full-batch training step of `memloss train` (the MLP's
// forward/backward through the WebAssembly SIMD kernels, then the generated AdamW `step`)
// against a hand-written loop in the same process: a dense forward/backward over
// Float64Array written the natural way, then the hand-written fused AdamW loop. Also the
// same training code with the JavaScript kernels, and with double-precision products
// (f64x2) beside the default single precision (f32x4). Interleaved rounds, medians.
// Data: the first IMAGES Fashion-MNIST training images (28×28, or 14×14 with DOWNSAMPLE=2).
import { readFileSync } from 'node:fs';
import { loadOptimizer } from '../dist/numeric/compile.js';
import { parseRule, derive } from '../dist/index.js';
import { loadDataSet } from '../dist/train/data.js';
import { createMlp } from '../dist/train/model.js';
import { jsKernelFactory } from '../dist/train/kernels.js';
import { wasmKernelFactory } from '../dist/train/wasm-kernels.js';
import { HAND } from './hand-written.mjs';
import { loadavg } from 'node:os';

const IMAGES = Number(process.env.IMAGES ?? 2000);
const DOWNSAMPLE = Number(process.env.DOWNSAMPLE ?? 1);
const ROUNDS = Number(process.env.ROUNDS ?? 5);
const DIR = process.env.DATA ?? '/usr/share/datasets/fashion-mnist';
const K = 128;
const hyper = { beta1: 0.9, beta2: 0.999, eps: 1e-8, lambda: 0.01 };
const h = 1e-3;
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const ds = loadDataSet({ dir: DIR, train: IMAGES, test: 1, downsample: DOWNSAMPLE });
const { x, y } = ds.train;
const P = ds.inputs, C = ds.classes, m = IMAGES;
const rows = Int32Array.from({ length: m }, (_, i) => i);
const file = 'rules/adamw.rule';
const rule = parseRule(readFileSync(file, 'utf8'), file);
const mod = loadOptimizer(rule, derive(rule, { exactN: true }));

/** The training code of `memloss train`: one full-batch gradient and one generated step. */
function generatedLoop(kernels, precision) {
  const mlp = createMlp({ inputs: P, hidden: K, classes: C, activation: 'tanh', precision }, m, kernels);
  const theta = mlp.init(1), grad = new Float64Array(mlp.dim), state = mod.init(mlp.dim);
  return () => {
    mlp.lossGrad(theta, x, y, rows, grad);
    mod.step(theta, grad, state, h, hyper);
  };
}

/** Hand-written: dense images, W₁ as k×p (one dot product per hidden unit), the fused AdamW loop. */
function handWrittenLoop() {
  const X = new Float64Array(m * P);
  for (let r = 0; r < m; r++) for (let k = x.rowPtr[r]; k < x.rowPtr[r + 1]; k++) X[r * P + x.colIdx[k]] = x.values[k];
  const dim = K * P + K + C * K + C, W1 = 0, B1 = K * P, W2 = B1 + K, B2 = W2 + C * K;
  const theta = new Float64Array(dim).map((_, i) => (i < B1 ? Math.sin(i) / Math.sqrt(P) : i >= W2 && i < B2 ? Math.cos(i) / Math.sqrt(K) : 0));
  const grad = new Float64Array(dim), s = { m: new Float64Array(dim), v: new Float64Array(dim) };
  const hid = new Float64Array(K), p = new Float64Array(C), dh = new Float64Array(K);
  let n = 0;
  return () => {
    grad.fill(0);
    for (let r = 0; r < m; r++) {
      const xo = r * P;
      for (let j = 0; j < K; j++) {
        let a = theta[B1 + j];
        for (let q = 0, w = W1 + j * P; q < P; q++) a += theta[w + q] * X[xo + q];
        hid[j] = Math.tanh(a);
      }
      let mx = -Infinity;
      for (let c = 0; c < C; c++) {
        let o = theta[B2 + c];
        for (let j = 0, w = W2 + c * K; j < K; j++) o += theta[w + j] * hid[j];
        p[c] = o;
        if (o > mx) mx = o;
      }
      let z = 0;
      for (let c = 0; c < C; c++) z += p[c] = Math.exp(p[c] - mx);
      dh.fill(0);
      for (let c = 0; c < C; c++) {
        const d = (p[c] / z - (c === y[r] ? 1 : 0)) / m;
        grad[B2 + c] += d;
        for (let j = 0, w = W2 + c * K; j < K; j++) { grad[w + j] += d * hid[j]; dh[j] += d * theta[w + j]; }
      }
      for (let j = 0; j < K; j++) {
        const da = dh[j] * (1 - hid[j] * hid[j]);
        grad[B1 + j] += da;
        for (let q = 0, w = W1 + j * P; q < P; q++) grad[w + q] += da * X[xo + q];
      }
    }
    HAND.adamw(theta, grad, s, n++, h, hyper);
  };
}

const tiling = process.env.TILE ? { tileVectors: Number(process.env.TILE), blockBytes: Number(process.env.BLOCK ?? 131072) } : {};
const loops = {
  'hand-written (dense JS)': handWrittenLoop(),
  'memloss train, JS kernels, f64': generatedLoop(jsKernelFactory, 'f64'),
  'memloss train, WebAssembly f64x2': generatedLoop(wasmKernelFactory(tiling), 'f64'),
  'memloss train, WebAssembly f32x4 (default)': generatedLoop(wasmKernelFactory(tiling), 'f32'),
};
const times = Object.fromEntries(Object.keys(loops).map((k) => [k, []]));
for (const f of Object.values(loops)) f(); // warm-up
for (let r = 0; r < ROUNDS; r++)
  for (const [k, f] of Object.entries(loops)) {
    const t0 = performance.now();
    f();
    times[k].push(performance.now() - t0);
  }
const base = median(times['hand-written (dense JS)']);
console.log(`${m} images, MLP ${P}-${K}-${C}, full batch, ${ROUNDS} rounds; load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
for (const [k, ts] of Object.entries(times)) {
  const t = median(ts);
  console.log(`${k.padEnd(42)} ${t.toFixed(1).padStart(8)} ms/step   ${(t / base).toFixed(3)}× the hand-written loop (speed-up ${(base / t).toFixed(1)}×)`);
}
