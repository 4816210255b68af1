/**
 * A training config is checked against the rule (its declared parameter domains), the data
 * (labels below data.classes) and the machine (the memory estimate) before the run starts:
 * one line naming the config file and the key, exit 2 in the CLI.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { afterAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli.js';
import { ConfigError, parseTrainConfig, type TrainConfig } from '../../src/train/config.js';
import { loadDataSet } from '../../src/train/data.js';
import { DataError } from '../../src/train/idx.js';
import { estimateMemory, formatBytes } from '../../src/train/memory.js';
import { train } from '../../src/train/train.js';
import { capture, hasStackFrame, lines } from '../capture.js';
import { writeTinyIdx } from './fixtures.js';

const tmp = mkdtempSync(join(tmpdir(), 'memloss-validation-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const dataDir = join(tmp, 'data');
writeTinyIdx(dataDir);

let runs = 0;
const json = (over: Record<string, unknown> = {}, hyper: Record<string, unknown> = {}) => ({
  name: 'v',
  data: { dir: dataDir, train: 60, test: 30, classes: 3 },
  model: { hidden: 8 },
  optimizer: { rule: 'rules/adamw.rule', h: 0.01, hyper },
  steps: 3,
  out: join(tmp, `run${runs++}`),
  ...over,
});
const config = (over: Record<string, unknown> = {}, hyper: Record<string, unknown> = {}): TrainConfig => parseTrainConfig(json(over, hyper), 'v.json');

describe("the rule's parameter domains", () => {
  it.each([
    ['beta1', 5, '(0, 1)'],
    ['beta1', 1, '(0, 1)'], // an open end
    ['beta2', 0, '(0, 1)'],
    ['eps', -1, '[0, inf)'],
  ])('%s = %d is refused, naming the file, the key and the domain', (name, value, domain) => {
    expect(() => train(config({}, { [name]: value }))).toThrow(new ConfigError(`v.json: key 'optimizer.hyper.${name}' = ${value} lies outside the domain ${domain} that rules/adamw.rule declares for it`));
  });
  it('a closed end is inside: eps = 0 trains', () => {
    expect(train(config({}, { eps: 0, lambda: 0 })).step).toBe(3);
  });
  it('the CLI: exit 2, one line', async () => {
    const f = join(tmp, 'beta1.json');
    writeFileSync(f, JSON.stringify(json({}, { beta1: 5 })));
    const r = await capture(() => main(['train', f]));
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(`memloss: ${f}: key 'optimizer.hyper.beta1' = 5 lies outside the domain (0, 1) that rules/adamw.rule declares for it\n`);
  });
});

describe('labels and data.classes', () => {
  it('a label at or beyond data.classes is refused, in files and in data passed in', () => {
    expect(() => train(config({ data: { dir: dataDir, train: 60, test: 30, classes: 2 } }))).toThrow(/train-labels-idx1-ubyte\.gz: label 2 of image 2 is not below data\.classes = 2/);
    const ds = loadDataSet({ dir: dataDir, train: 60, test: 30, downsample: 1, classes: 3 });
    const wide = { ...ds, test: { ...ds.test, y: ds.test.y.map((c, i) => (i === 4 ? 7 : c)) } };
    expect(() => train(config(), { data: wide })).toThrow(new DataError('test label 7 of image 4 is not below data.classes = 3'));
  });
  it('the model has data.classes outputs, whatever labels the subset holds', () => {
    // the first 2 training images are of classes 0 and 1 only; the model still has 3 outputs
    const a = train(config({ data: { dir: dataDir, train: 2, test: 30, classes: 3 } }));
    expect(a.theta.length).toBe(64 * 8 + 8 + 3 * 8 + 3);
    const b = train(config({ data: { dir: dataDir, train: 60, test: 30, classes: 5 } }));
    expect(b.theta.length).toBe(64 * 8 + 8 + 5 * 8 + 5);
  });
});

describe('the memory estimate', () => {
  it('model.hidden = 10⁹ is refused at once, with the estimate', () => {
    const t0 = performance.now();
    expect(() => train(config({ model: { hidden: 1e9 } }))).toThrow(/^v\.json: the run needs about [\d.]+ TB of memory \(parameters [\d.]+ TB, activations [\d.]+ TB, data [\d.]+ kB, WebAssembly [\d.]+ TB\), more than the [\d.]+ [GT]B available; make model\.hidden \(1000000000\), data\.train \(60\) or data\.test \(30\) smaller$/);
    expect(performance.now() - t0).toBeLessThan(10_000);
  });
  it('a run that fits in memoryLimit runs, one that does not is refused', () => {
    const c = config({ model: { hidden: 64 } });
    expect(() => train(c, { memoryLimit: 100_000 })).toThrow(/needs about [\d.]+ [kM]B of memory .* more than the 100 kB available/);
    expect(train(c, { memoryLimit: 100_000_000 }).step).toBe(3);
  });
  it('WebAssembly memory over 4 GiB is refused even where the machine has room', () => {
    expect(() => train(config({ model: { hidden: 20_000_000 } }), { memoryLimit: 1e15 })).toThrow(/the kernels need about [\d.]+ GB of WebAssembly memory, more than its limit of 4\.29 GB/);
  });
  it('at the stated size (10 000 Fashion-MNIST images, 784-128-10, AdamW) the estimate is a few hundred MB', () => {
    // 3.9 million non-zero pixels per 10 000 training images (docs/train.md)
    const e = estimateMemory({ inputs: 784, hidden: 128, classes: 10, trainRows: 10000, testRows: 10000, trainNonZeros: 3.9e6, testNonZeros: 3.9e6, states: 2, precision: 'f32', wasm: true });
    expect(e.total).toBeGreaterThan(2e8);
    expect(e.total).toBeLessThan(1.5e9);
    expect(formatBytes(e.total)).toMatch(/^[\d.]+ MB$/);
  });
  it('the CLI: exit 2, one line, no stack', async () => {
    const f = join(tmp, 'huge.json');
    writeFileSync(f, JSON.stringify(json({ model: { hidden: 1e9 } })));
    const r = await capture(() => main(['train', f]));
    expect(r.code).toBe(2);
    expect(lines(r.stderr)).toEqual([expect.stringMatching(/^memloss: .*huge\.json: the run needs about [\d.]+ TB of memory/)]);
    expect(hasStackFrame(r.stderr)).toBe(false);
  });
});

describe('config values the CLI refuses', () => {
  it.each([
    [{ data: null }, "key 'data' must be an object, got null"],
    [{ out: '/dev/null' }, "key 'out' must name a directory, but /dev/null is a file"],
  ])('%j: one line, no stack', async (over, message) => {
    const f = join(tmp, `bad${runs++}.json`);
    writeFileSync(f, JSON.stringify(json(over)));
    const r = await capture(() => main(['train', f]));
    expect(r.code).toBeGreaterThan(0);
    expect(r.code).toBeLessThan(3);
    expect(lines(r.stderr)).toHaveLength(1);
    expect(r.stderr).toContain(message);
  });
});
