// npm run bench:matrix — Shampoo's `step` and `memorylessStep` (the generated module
// derivations/shampoo/shampoo.ts, and the in-memory one for comparison) on one square r×r
// parameter, ms per step, beside the floor: one symmetric
// eigendecomposition of an r×r matrix (Shampoo's step needs two, L and R; the memoryless
// step two as well, shared between F and M). Rounds per size: 3, 3 and 1 (1024 is slow in JS).
import { readFileSync } from 'node:fs';
import { parseRuleFile, deriveMatrix } from '../dist/index.js';
import { loadMatrixOptimizer } from '../dist/numeric/index.js';
import { symEig, mat, matmul, transpose } from '../dist/matrix/linalg.js';
import { transformSync } from 'esbuild';

// the generated module, its types stripped; its runtime import memloss/linalg is dist/matrix/linalg.js
const runtime = new URL('../dist/matrix/linalg.js', import.meta.url).href;
const js = transformSync(readFileSync('derivations/shampoo/shampoo.ts', 'utf8'), { loader: 'ts', format: 'esm' }).code.replace('"memloss/linalg"', JSON.stringify(runtime));
const generated = await import(`data:text/javascript;base64,${Buffer.from(js).toString('base64')}`);

const file = 'rules/shampoo.rule';
const d = deriveMatrix(parseRuleFile(readFileSync(file, 'utf8'), file));
const hyper = { beta: 0.99, eps: 1e-6 };
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const time = (f) => { const t0 = performance.now(); f(); return performance.now() - t0; };
const sizes = (process.env.SIZES ?? '64,256,1024').split(',').map(Number);

console.log('size     eig (floor)   step    ratio   memorylessStep   ratio   | in memory: step   memorylessStep');
for (const r of sizes) {
  const rounds = r >= 1024 ? 1 : 3;
  const mod = generated.forShapes([{ rows: r, cols: r }]);
  const mem = loadMatrixOptimizer(d).forShapes([{ rows: r, cols: r }]);
  const theta = Float64Array.from({ length: r * r }, (_, i) => Math.sin(i));
  const grad = Float64Array.from({ length: r * r }, (_, i) => Math.cos(1.3 * i) * 0.1);
  const G = mat(r, r, grad);
  const gram = matmul(G, transpose(G));
  const state = mod.init(r * r), memState = mem.init(r * r);
  const hvp = (v) => v; // H = I: the module's own work, not a problem's HVP
  if (r < 1024) { symEig(gram); mod.step(theta, grad, state, 1e-3, hyper); } // warm-up
  const eig = [], step = [], mless = [], memStep = [], memMless = [];
  for (let k = 0; k < rounds; k++) {
    eig.push(time(() => symEig(gram)));
    step.push(time(() => mod.step(theta, grad, state, 1e-3, hyper)));
    mless.push(time(() => mod.memorylessStep(theta, grad, hvp, 1e-3, hyper, 100)));
    if (r < 1024) {
      memStep.push(time(() => mem.step(theta, grad, memState, 1e-3, hyper)));
      memMless.push(time(() => mem.memorylessStep(theta, grad, hvp, 1e-3, hyper, 100)));
    }
  }
  const e = median(eig), s = median(step), m = median(mless);
  console.log(`${String(r).padEnd(8)} ${e.toFixed(1).padStart(10)} ms ${s.toFixed(1).padStart(8)} ms ${(s / e).toFixed(2).padStart(6)}× ${m.toFixed(1).padStart(12)} ms ${(m / e).toFixed(2).padStart(7)}×   | ${memStep.length ? `${median(memStep).toFixed(1).padStart(8)} ms ${median(memMless).toFixed(1).padStart(12)} ms` : '(skipped at 1024)'}`);
}
