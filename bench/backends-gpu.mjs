// node bench/backends-gpu.mjs [--rule adamw] [--dim 1e8] [--steps 50] [--bandwidth 4800]
// ms per f32 step of a generated WGSL optimizer on the WebGPU adapter present (Dawn through
// the `webgpu` package), against the memory-bandwidth bound: an f32 AdamW step reads θ, g,
// m, v and writes θ, m, v, 28 bytes per parameter; --bandwidth is the card's peak in GB/s
// (H100 SXM 3350, H200 4800, A100 80GB 2039). Run `npm run build` first (it reads dist/).
// Without a GPU, SwiftShader: VK_ICD_FILENAMES=/usr/lib/chromium/vk_swiftshader_icd.json XDG_RUNTIME_DIR=/tmp.
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { parseRule, derive } from '../dist/index.js';
import { emitWgsl } from '../dist/emit/wgsl.js';
import { nodeGpu } from '../dist/numeric/webgpu-node.js';
import { openGpu, createGpuOptimizer } from '../dist/numeric/webgpu-runner.js';

const { values: a } = parseArgs({ options: { rule: { type: 'string', default: 'adamw' }, dim: { type: 'string', default: '1e6' }, steps: { type: 'string', default: '20' }, bandwidth: { type: 'string' } } });
const dim = Math.round(Number(a.dim));
const steps = Number(a.steps);
const file = `rules/${a.rule}.rule`;
const rule = parseRule(readFileSync(file, 'utf8'), file);
const m = emitWgsl(rule, derive(rule));
const ctx = await openGpu(await nodeGpu());
if (!ctx) throw new Error('no WebGPU adapter (docs/webgpu.md)');
const opt = await createGpuOptimizer(ctx.device, m, dim);
const chunk = 1 << 22; // fill θ and g without one 400 MB host array
const fill = (write, f) => { for (let o = 0; o < dim; o += chunk) { const x = new Float32Array(Math.min(chunk, dim - o)); for (let i = 0; i < x.length; i++) x[i] = f(o + i); write(x, o); } };
const q = ctx.device.queue;
fill((x, o) => q.writeBuffer(opt.buffers.theta, 4 * o, x), (i) => Math.sin(i));
fill((x, o) => q.writeBuffer(opt.buffers.grad, 4 * o, x), (i) => Math.cos(i));
opt.step(1e-3); // warm-up: pipeline and first touch of every page
await opt.finish();
const t0 = performance.now();
for (let s = 0; s < steps; s++) opt.step(1e-3);
await opt.finish();
const ms = (performance.now() - t0) / steps;
const bytes = 4 * (2 + 2 * m.states.length + 1) * dim; // read θ, g, states; write θ, states
const gbs = bytes / (ms * 1e6);
console.log(`${rule.name} f32 step on "${ctx.adapterName}", dim ${dim.toExponential(0)}: ${ms.toFixed(3)} ms/step, ${((ms * 1e6) / dim).toFixed(3)} ns/param, ${gbs.toFixed(1)} GB/s effective (${bytes / dim} B/param)`);
if (a.bandwidth) {
  const boundMs = bytes / (Number(a.bandwidth) * 1e6);
  console.log(`bandwidth bound at ${a.bandwidth} GB/s: ${boundMs.toFixed(3)} ms/step; measured / bound = ${(ms / boundMs).toFixed(2)}`);
}
opt.destroy();
ctx.device.destroy();
process.exit(0);
