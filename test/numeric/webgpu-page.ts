/**
 * The page side of the browser test (bundled by esbuild in webgpu-browser.test.ts): runs the
 * shared harness on navigator.gpu and hands the results back as plain data.
 */
import type { WgslModule } from '../../src/emit/wgsl.js';
import { openGpu } from '../../src/numeric/webgpu-runner.js';
import { runOnGpu, type Case, type Results } from './webgpu-harness.js';

async function runCases(modules: readonly WgslModule[], c: Case): Promise<{ adapter: string; results: Results[] }> {
  if (!('gpu' in navigator)) throw new Error(`navigator.gpu is missing (secure context: ${isSecureContext})`);
  const ctx = await openGpu(navigator.gpu);
  if (!ctx) throw new Error('navigator.gpu.requestAdapter() returned null');
  try {
    const results: Results[] = [];
    for (const m of modules) results.push(await runOnGpu(ctx.device, m, c));
    return { adapter: ctx.adapterName, results };
  } finally {
    ctx.device.destroy();
  }
}

(globalThis as unknown as { runCases: typeof runCases }).runCases = runCases;
