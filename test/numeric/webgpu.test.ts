/**
 * WGSL kernels on WebGPU in Node (Dawn; SwiftShader on a machine without a GPU) against the
 * float64 TypeScript module, for every shipped rule: 100 steps, direction and correction
 * (asymptotic and exact n), 10 memoryless steps, within the f32 tolerances stated and
 * justified in webgpu-harness.ts. Under CI=true a missing adapter fails; elsewhere the
 * GPU part is skipped with the reason.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { existsSync, readdirSync } from 'node:fs';
import { derive } from '../../src/derive/index.js';
import { emitWgsl, wgslKernels } from '../../src/emit/wgsl.js';
import { toWgsl, WgslUnsupportedError } from '../../src/emit/expr-wgsl.js';
import * as E from '../../src/ir/expr.js';
import { nodeGpu, SWIFTSHADER_ICD } from '../../src/numeric/webgpu-node.js';
import { openGpu, type GpuContext } from '../../src/numeric/webgpu-runner.js';
import { loadRule, isMatrixRuleFile } from '../derive/helpers.js';
import { CASE, runOnGpu } from './webgpu-harness.js';
import { compare, describeChecks, runReference } from './webgpu-reference.js';

const CI = process.env.CI !== undefined && process.env.CI !== '' && process.env.CI !== 'false';
// the Vulkan loader reads these when Dawn starts: SwiftShader unless the caller chose a driver
if (!process.env.VK_ICD_FILENAMES && existsSync(SWIFTSHADER_ICD)) process.env.VK_ICD_FILENAMES = SWIFTSHADER_ICD;
process.env.XDG_RUNTIME_DIR ??= '/tmp';

let ctx: GpuContext | undefined;
let why = '';
try {
  ctx = await openGpu(await nodeGpu());
  if (!ctx) why = `requestAdapter() found no adapter (VK_ICD_FILENAMES=${process.env.VK_ICD_FILENAMES ?? ''}); install Debian's chromium and libvulkan1 (docs/webgpu.md)`;
} catch (err) {
  why = `WebGPU did not start: ${(err as Error).message}`;
}
if (!ctx && !CI) console.warn(`skipping the WebGPU parity tests: ${why}`);

afterAll(() => ctx?.device.destroy());

const RULES = readdirSync('rules').filter((f) => f.endsWith('.rule') && !isMatrixRuleFile(`rules/${f}`)).sort();

describe('WGSL printer', () => {
  it('prints f32 literals and integer powers without pow()', () => {
    const x = E.sym('x');
    const name = (s: string) => s;
    expect(toWgsl(E.add(E.num(1), E.mul(E.num(-3, 2), E.pow(x, E.num(3)))), name)).toBe('1.0f - 1.5f * ipow(x, 3u)');
    expect(toWgsl(E.pow(x, E.num(-3, 2)), name)).toBe('1.0f / ipow(sqrt(x), 3u)');
    expect(toWgsl(E.div(E.sign(x), E.num(10)), name)).toBe('0.1f * sign(x)');
    // the builtin tanh may overflow to NaN for a large argument; ±15 is far into f32's ±1
    expect(toWgsl(E.tanh(E.mul(E.num(2), x)), name)).toBe('tanh(clamp(2.0f * x, -15.0f, 15.0f))');
  });
  it('refuses a sum with no closed form, and a number beyond f32', () => {
    const k = E.sym('k');
    expect(() => toWgsl(E.sum('k', E.num(0), E.sym('n'), E.pow(E.sym('b'), k)), (s) => s)).toThrow(WgslUnsupportedError);
    expect(() => toWgsl(E.num(10n ** 40n), (s) => s)).toThrow(/no f32 value/);
  });
  it.each(RULES)('%s: every kernel is one entry point, and what WGSL cannot print is marked unavailable with the reason', (file) => {
    const rule = loadRule(`rules/${file}`);
    const m = emitWgsl(rule, derive(rule, { exactN: true }));
    for (const [, k] of wgslKernels(m)) {
      expect(k.code.match(/@compute/g)).toHaveLength(1);
      expect(k.code).not.toMatch(/\*\*|Math\./);
      expect(k.uniforms.slice(0, 2)).toEqual(['h', 'n']);
    }
    if (!('unavailable' in m.exact) && 'unavailable' in m.exact.correction) expect(m.exact.correction.unavailable).toMatch(/sum with no closed form/);
  });
});

describe('WebGPU adapter', () => {
  it.skipIf(!CI && !ctx)('is found (required under CI)', () => {
    if (!ctx) expect.fail(`CI=true but no WebGPU adapter: ${why}`);
    console.log(`WebGPU adapter: ${ctx.adapterName}`);
    expect(ctx.adapterName).not.toBe('');
  });
});

describe.skipIf(!ctx).each(RULES)('WGSL on WebGPU (Node) against the float64 module: %s', (file) => {
  it('step ×100, direction, correction, memorylessStep ×10 within the f32 tolerances', async () => {
    const rule = loadRule(`rules/${file}`);
    const d = derive(rule, { exactN: true });
    const gpu = await runOnGpu(ctx!.device, emitWgsl(rule, d), CASE);
    const checks = compare(d, gpu, runReference(rule, d, CASE));
    const failed = checks.filter((k) => !(k.err <= k.tol));
    expect(failed, `${rule.name} on ${ctx!.adapterName}:\n${describeChecks(checks)}`).toEqual([]);
    expect(checks.length).toBeGreaterThanOrEqual(4);
  });
});
