/**
 * The WGSL kernels in a real browser: a page served on 127.0.0.1 (a secure context, which
 * WebGPU needs) runs the runner and the shared harness, bundled by esbuild, in headless
 * Chromium (playwright-core driving /usr/bin/chromium; WebGPU on SwiftShader without a
 * GPU), and the results match the float64 TypeScript module within the f32 tolerances of
 * webgpu-harness.ts. Under CI=true a missing browser or adapter fails; elsewhere it skips.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, readdirSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { build } from 'esbuild';
import { chromium, type Browser } from 'playwright-core';
import { derive } from '../../src/derive/index.js';
import { emitWgsl, type WgslModule } from '../../src/emit/wgsl.js';
import type { Derivation } from '../../src/derive/types.js';
import type { Rule } from '../../src/ir/rule.js';
import { loadRule, isMatrixRuleFile } from '../derive/helpers.js';
import { CASE, type Case, type Results } from './webgpu-harness.js';
import { compare, describeChecks, runReference } from './webgpu-reference.js';

const CI = process.env.CI !== undefined && process.env.CI !== '' && process.env.CI !== 'false';
const CHROMIUM = process.env.MEMLOSS_CHROMIUM ?? '/usr/bin/chromium';
/**
 * Headless Chromium as root on a machine without a GPU. --enable-unsafe-webgpu exposes
 * navigator.gpu on Linux; Chromium then falls back to its bundled SwiftShader for WebGPU,
 * even with --disable-gpu (measured here: adapter "google swiftshader").
 */
const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--enable-unsafe-webgpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

const RULES = readdirSync('rules').filter((f) => f.endsWith('.rule') && !isMatrixRuleFile(`rules/${f}`)).sort();
const haveBrowser = existsSync(CHROMIUM);
if (!haveBrowser && !CI) console.warn(`skipping the WebGPU browser test: no Chromium at ${CHROMIUM} (apt-get install chromium)`);

let server: Server | undefined;
let browser: Browser | undefined;
let url = '';

beforeAll(async () => {
  if (!haveBrowser) return;
  const bundle = await build({ entryPoints: ['test/numeric/webgpu-page.ts'], bundle: true, format: 'esm', platform: 'browser', target: 'es2022', write: false, logLevel: 'silent' });
  const script = bundle.outputFiles[0]!.text;
  const html = '<!doctype html><meta charset="utf-8"><title>memloss WGSL</title><script type="module" src="/page.js"></script>';
  server = createServer((req, res) => {
    const js = req.url === '/page.js';
    res.writeHead(js || req.url === '/' ? 200 : 404, { 'content-type': js ? 'text/javascript' : 'text/html' });
    res.end(js ? script : req.url === '/' ? html : '');
  });
  await new Promise<void>((ok) => server!.listen(0, '127.0.0.1', ok));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  browser = await chromium.launch({ executablePath: CHROMIUM, args: FLAGS, timeout: 30_000, env: { ...process.env, XDG_RUNTIME_DIR: process.env.XDG_RUNTIME_DIR ?? '/tmp' } });
});

afterAll(async () => {
  await browser?.close();
  await new Promise((ok) => (server ? server.close(ok) : ok(undefined)));
});

describe.skipIf(!haveBrowser && !CI)('WGSL in headless Chromium (navigator.gpu) against the float64 module', () => {
  it('every rule: step ×100, direction, correction, memorylessStep ×10 within the f32 tolerances', async () => {
    if (!haveBrowser) expect.fail(`CI=true but no Chromium at ${CHROMIUM}`);
    const rules: [Rule, Derivation, WgslModule][] = RULES.map((f) => {
      const rule = loadRule(`rules/${f}`);
      const d = derive(rule, { exactN: true });
      return [rule, d, emitWgsl(rule, d)];
    });
    const page = await browser!.newPage();
    const logs: string[] = [];
    page.on('console', (msg) => logs.push(msg.text()));
    page.on('pageerror', (err) => logs.push(err.message));
    await page.goto(url);
    await page.waitForFunction(() => 'runCases' in globalThis, undefined, { timeout: 10_000 });
    const out = await page.evaluate(
      ([modules, c]) => (globalThis as unknown as { runCases(m: WgslModule[], c: Case): Promise<{ adapter: string; results: Results[] }> }).runCases(modules, c),
      [rules.map(([, , m]) => m), CASE] as const,
    ).catch((err: Error) => expect.fail(`the page could not run the kernels: ${err.message}\n${logs.join('\n')}`));
    await page.close();
    console.log(`WebGPU adapter in Chromium: ${out.adapter}`);
    rules.forEach(([rule, d], k) => {
      const checks = compare(d, out.results[k]!, runReference(rule, d, CASE));
      expect(checks.filter((c) => !(c.err <= c.tol)), `${rule.name} in Chromium on ${out.adapter}:\n${describeChecks(checks)}`).toEqual([]);
    });
  });
});
