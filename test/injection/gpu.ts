/**
 * WebGPU in Node (Dawn, SwiftShader without a GPU) for the injection tests, as in
 * test/numeric/webgpu.test.ts: `gpu` is undefined when no adapter is found, and
 * `gpuMissing` says why. Under CI=true the tests that need it fail instead of skipping.
 */
import { existsSync } from 'node:fs';
import { afterAll } from 'vitest';
import { nodeGpu, SWIFTSHADER_ICD } from '../../src/numeric/webgpu-node.js';
import { openGpu, type GpuContext } from '../../src/numeric/webgpu-runner.js';
import { CI } from './browser.js';

// the Vulkan loader reads these when Dawn starts: SwiftShader unless the caller chose a driver
if (!process.env.VK_ICD_FILENAMES && existsSync(SWIFTSHADER_ICD)) process.env.VK_ICD_FILENAMES = SWIFTSHADER_ICD;
process.env.XDG_RUNTIME_DIR ??= '/tmp';

let context: GpuContext | undefined;
let why = '';
try {
  context = await openGpu(await nodeGpu());
  if (!context) why = `requestAdapter() found no adapter (VK_ICD_FILENAMES=${process.env.VK_ICD_FILENAMES ?? ''}); install Debian's chromium and libvulkan1 (docs/webgpu.md)`;
} catch (err) {
  why = `WebGPU did not start: ${(err as Error).message}`;
}
if (!context && !CI) console.warn(`skipping the WebGPU injection checks: ${why}`);
afterAll(() => context?.device.destroy());

export const gpu = context;
export const gpuMissing = `no WebGPU adapter: ${why}`;
