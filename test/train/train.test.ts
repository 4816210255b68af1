/**
 * Training runs on a tiny IDX data set written by the test: the loss decreases, the log is
 * deterministic, resume is bitwise exact, NaN and divergence stop with a message, the
 * cancellation run differs from the plain one exactly by the derived term.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseTrainConfig, type TrainConfig } from '../../src/train/config.js';
import { jsKernelFactory } from '../../src/train/kernels.js';
import { LOG_FILE, loadRule, penalizedGradient, train, type LogLine } from '../../src/train/train.js';
import { PROBLEMS } from '../../src/numeric/problems/index.js';
import { writeTinyIdx } from './fixtures.js';

const tmp = mkdtempSync(join(tmpdir(), 'memloss-train-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const dataDir = join(tmp, 'data');
writeTinyIdx(dataDir);

let runs = 0;
function config(over: Record<string, unknown> = {}, optimizer: Record<string, unknown> = {}): TrainConfig {
  return parseTrainConfig({
    name: `t${runs++}`,
    data: { dir: dataDir, train: 60, test: 30, classes: 3 },
    model: { hidden: 8 },
    optimizer: { rule: 'rules/adamw.rule', h: 0.01, hyper: { beta2: 0.99 }, ...optimizer },
    steps: 40,
    logEvery: 5,
    checkpointEvery: 7,
    out: join(tmp, `run${runs}`),
    ...over,
  }, 'test.json');
}
const logOf = (c: TrainConfig) => readFileSync(join(c.out, LOG_FILE), 'utf8');
const lines = (c: TrainConfig) => logOf(c).trim().split('\n').map((l) => JSON.parse(l) as LogLine);

describe('memloss train on a tiny data set', () => {
  it('decreases the loss and logs every K steps, with Φ and ‖hM‖/‖F‖', () => {
    const c = config();
    const r = train(c);
    expect(r.stopped).toBeUndefined();
    const log = lines(c);
    expect(log.map((l) => l.step)).toEqual([0, 5, 10, 15, 20, 25, 30, 35, 40]);
    expect(log.at(-1)!.trainLoss).toBeLessThan(0.5 * log[0]!.trainLoss);
    expect(log.at(-1)!.testAccuracy).toBeGreaterThan(0.6);
    for (const l of log) expect(l.phi).toEqual(expect.any(Number));
    expect(log.slice(2).every((l) => l.hMOverF > 0)).toBe(true);
  });

  it('gives the same log bytes for the same config and seed, other bytes for another seed', () => {
    const a = config(), b = { ...config(), name: a.name }, c = config({ seed: 2 });
    train(a); train(b); train(c);
    expect(logOf(b)).toBe(logOf(a));
    expect(logOf(c)).not.toBe(logOf(a));
  });

  it.each([[null], [16]])('resumes bitwise exactly (batch size %s)', (batchSize) => {
    const whole = config({ batchSize });
    const straight = train(whole);
    const parts = { ...config({ batchSize }), name: whole.name };
    const first = train(parts, { stopAfter: 17 }); // "killed" at step 17: the checkpoint holds step 14
    expect(first.step).toBe(17);
    const resumed = train(parts, { resume: true });
    expect(resumed.step).toBe(40);
    expect(Buffer.from(resumed.theta.buffer)).toEqual(Buffer.from(straight.theta.buffer));
    expect(logOf(parts)).toBe(logOf(whole));
  });

  it('refuses to resume with a different configuration', () => {
    const c = config();
    train(c, { stopAfter: 10 });
    expect(() => train({ ...c, optimizer: { ...c.optimizer, h: 0.02 } }, { resume: true })).toThrow(/different configuration/);
  });

  it('stops on divergence naming the step and the quantity, keeping the log', () => {
    const c = config({ divergeAbove: 50 }, { rule: 'rules/gd.rule', h: 200, hyper: {} });
    const r = train(c);
    expect(r.stopped).toMatch(/^training stopped at step \d+: the (train loss .* exceeds divergeAbove = 50|train loss is NaN|gradient norm is (NaN|Infinity))$/);
    const step = Number(/step (\d+)/.exec(r.stopped!)![1]);
    expect(step).toBeGreaterThan(0);
    expect(lines(c).length).toBeGreaterThan(0);
    expect(lines(c).every((l) => l.step < step || l.step === 0)).toBe(true);
  });

  it('stops on a non-finite loss naming the step and the quantity', () => {
    // plain gradient descent with h = 1e307 overflows the double-precision logits within two steps
    const c = config({ logEvery: 1, divergeAbove: 1e308, model: { hidden: 8, precision: 'f64' } }, { rule: 'rules/gd.rule', h: 1e307, hyper: {} });
    const r = train(c);
    expect(r.stopped).toBe('training stopped at step 2: the train loss is Infinity');
    expect(lines(c).map((l) => l.step)).toEqual([0, 1]);
  });

  it('cancelMemoryTerm changes the trajectory; for a rule with M = 0 it changes nothing', () => {
    const plain = train(config());
    const cancelled = train(config({ cancelMemoryTerm: true }));
    let diff = 0;
    for (let i = 0; i < plain.theta.length; i++) diff = Math.max(diff, Math.abs(plain.theta[i]! - cancelled.theta[i]!));
    expect(diff).toBeGreaterThan(1e-8);
    const lion = { rule: 'rules/lion.rule', h: 0.003, hyper: {} };
    const a = train(config({}, lion)), b = train(config({ cancelMemoryTerm: true }, lion));
    expect(Buffer.from(b.theta.buffer)).toEqual(Buffer.from(a.theta.buffer));
  });

  it('the JavaScript and WebAssembly kernels give the same bits', () => {
    const a = train(config({ model: { hidden: 8 } }), { kernels: jsKernelFactory });
    const b = train(config({ model: { hidden: 8 } }));
    expect(Buffer.from(b.theta.buffer)).toEqual(Buffer.from(a.theta.buffer));
  });

  it('names an unknown hyperparameter', () => {
    expect(() => train(config({}, { hyper: { beta3: 0.5 } }))).toThrow("test.json: key 'optimizer.hyper.beta3': AdamW has no parameter 'beta3'");
  });
});

describe('penalizedGradient', () => {
  it('is ∇L − h·c·∇Φ for a rule with a modified loss (heavy-ball: c = β/(1−β)², Φ = ½‖∇L‖²)', () => {
    const { module } = loadRule('rules/heavy-ball.rule');
    const p = PROBLEMS['logistic']!({ seed: 3 });
    const theta = p.initial(3), g = p.grad(theta, new Float64Array(p.dim));
    const hvp = (v: Float64Array) => p.hvp(theta, v, new Float64Array(p.dim));
    const beta = 0.8, h = 0.05, c = beta / (1 - beta) ** 2;
    const got = penalizedGradient(module, theta, g, hvp, { beta }, h, undefined);
    const Hg = hvp(g);
    let diff = 0, size = 0;
    for (let i = 0; i < p.dim; i++) {
      diff = Math.max(diff, Math.abs(got[i]! - (g[i]! - h * c * Hg[i]!)));
      size = Math.max(size, Math.abs(h * c * Hg[i]!));
    }
    expect(size).toBeGreaterThan(1e-4);
    expect(diff).toBeLessThan(1e-12);
  });
});
