/**
 * One training run (`memloss train`): the MLP on an MNIST-format data set, trained by the
 * generated code of any rule file. Per logged step one JSON line (LogLine); a checkpoint
 * every `checkpointEvery` steps; `resume` continues bit for bit from the last checkpoint.
 *
 * Step n (θ = θₙ): gradient on the batch → (log) → optimizer step. With cancelMemoryTerm the
 * optimizer is fed the gradient of the penalized loss L − h·c·Φ instead (penalizedGradient).
 */
import { appendFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseRule } from '../parse/rule-file.js';
import { FileReadError, readRuleSource } from '../parse/read-file.js';
import { derive } from '../derive/index.js';
import { loadOptimizer } from '../numeric/compile.js';
import type { OptimizerModule } from '../numeric/types.js';
import { createRng, mixSeed } from '../numeric/problems/random.js';
import { shuffleInPlace } from '../ir/random.js';
import { readCheckpoint, writeCheckpoint } from './checkpoint.js';
import { ConfigError, type TrainConfig } from './config.js';
import { loadDataSet, type DataSet } from './data.js';
import type { KernelFactory } from './kernels.js';
import { createMlp } from './model.js';
import { wasmKernelFactory } from './wasm-kernels.js';

/** One logged step. Fixed key order, no timings: same config and seed → same bytes. */
export interface LogLine {
  readonly step: number;
  readonly trainLoss: number;
  readonly trainAccuracy: number;
  readonly testLoss: number;
  readonly testAccuracy: number;
  /** The derived potential Φ at θ (null when the derivation has none). */
  readonly phi: number | null;
  /** ‖h·M⁽ⁿ⁾‖/‖F⁽ⁿ⁾‖ at θ: how large the memory correction is against the update. */
  readonly hMOverF: number;
}

export interface TrainOptions {
  readonly resume?: boolean;
  /** Stop (as if killed) after this many steps of this invocation; for tests of resume. */
  readonly stopAfter?: number;
  /** Kernels by row length; default WebAssembly SIMD (JavaScript where WebAssembly cannot serve). */
  readonly kernels?: KernelFactory;
  /** Data already loaded (the sweep shares nothing between workers, tests pass tiny sets). */
  readonly data?: DataSet;
  readonly onLog?: (line: LogLine, text: string) => void;
  readonly onProgress?: (done: number, total: number) => void;
}

export interface TrainResult {
  readonly last?: LogLine;
  /** Why the run stopped early (NaN or divergence), one line naming the step and the quantity. */
  readonly stopped?: string;
  /** Steps completed (= config.steps when it ran to the end). */
  readonly step: number;
  readonly theta: Float64Array;
  readonly seconds: number;
  /** Seconds per training step, averaged over this invocation. */
  readonly secondsPerStep: number;
}

export const LOG_FILE = 'log.jsonl';
export const CHECKPOINT_FILE = 'checkpoint.bin';
export const RESULT_FILE = 'result.json';
export const TIMING_FILE = 'timing.json';
export const CONFIG_FILE = 'config.json';

/** The rule's generated code and whether its exact finite-n correction exists. */
export function loadRule(file: string): { module: OptimizerModule; exactN: boolean } {
  let text: string;
  try {
    text = readRuleSource(file);
  } catch (e) {
    if (e instanceof FileReadError) throw new ConfigError(`key 'optimizer.rule': cannot read rule file ${file}: ${e.message}`);
    throw e;
  }
  const rule = parseRule(text, file);
  const d = derive(rule, { exactN: true });
  return { module: loadOptimizer(rule, d), exactN: d.exactN !== undefined && !('unavailable' in d.exactN) };
}

/** The config as compared on resume: everything but the number of steps, the output directory and where it was read. */
const configKey = (c: TrainConfig) => JSON.stringify({ ...c, steps: undefined, out: undefined, source: undefined });

const norm = (a: Float64Array) => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * a[i]!;
  return Math.sqrt(s);
};

export function train(config: TrainConfig, options: TrainOptions = {}): TrainResult {
  try {
    return run(config, options);
  } catch (e) {
    // errors about a key of the config name the config too
    if (e instanceof ConfigError && e.message.startsWith('key ')) throw new ConfigError(`${config.source}: ${e.message}`);
    throw e;
  }
}

function run(config: TrainConfig, options: TrainOptions): TrainResult {
  const { module, exactN } = loadRule(config.optimizer.rule);
  for (const k of Object.keys(config.optimizer.hyper))
    if (!Object.hasOwn(module.defaults, k))
      throw new ConfigError(`key 'optimizer.hyper.${k}': ${module.name} has no parameter '${k}' (its parameters: ${Object.keys(module.defaults).join(', ') || 'none'})`);
  const hyper = { ...module.defaults, ...config.optimizer.hyper };
  const h = config.optimizer.h;
  const data = options.data ?? loadDataSet(config.data);
  const maxRows = Math.max(data.train.x.rows, data.test.x.rows);
  const kernels = options.kernels ?? wasmKernelFactory();
  const mlp = createMlp({ inputs: data.inputs, hidden: config.model.hidden, classes: data.classes, activation: config.model.activation, precision: config.model.precision }, maxRows, kernels);
  const batches = batchRows(data.train.x.rows, config.batchSize, config.seed);
  const nExact = (n: number) => (exactN ? n : undefined);

  mkdirSync(config.out, { recursive: true });
  const logFile = join(config.out, LOG_FILE), ckptFile = join(config.out, CHECKPOINT_FILE);
  let theta = mlp.init(config.seed);
  let state = module.init(mlp.dim);
  let start = 0;
  const ckpt = options.resume ? readCheckpoint(ckptFile) : undefined;
  if (ckpt) {
    if (ckpt.config !== configKey(config)) throw new ConfigError(`${ckptFile} was written with a different configuration (only 'steps' and 'out' may change on --resume)`);
    theta = ckpt.arrays['theta']!;
    for (const k of Object.keys(state.arrays)) state.arrays[k]!.set(ckpt.arrays[`state.${k}`]!);
    state.n = ckpt.n;
    start = ckpt.step;
  }
  // The log holds exactly the lines of steps before `start`: later ones are written again.
  const kept = start > 0 && existsSync(logFile)
    ? readFileSync(logFile, 'utf8').split('\n').filter((l) => l && (JSON.parse(l) as LogLine).step < start)
    : [];
  writeFileSync(logFile, kept.map((l) => `${l}\n`).join(''));

  const grad = new Float64Array(mlp.dim), fullGrad = new Float64Array(mlp.dim);
  const hvp = (v: Float64Array) => mlp.hvp(v, new Float64Array(mlp.dim));
  const allRows = batches(-1);
  let last: LogLine | undefined;
  let stopped: string | undefined;
  const t0 = performance.now();
  let n = start;
  const limit = options.stopAfter === undefined ? config.steps : Math.min(config.steps, start + options.stopAfter);
  for (; ; n++) {
    let reuseM: Float64Array | undefined;
    const logged = n % config.logEvery === 0 || n === config.steps;
    if (logged) {
      const trainLoss = mlp.lossGrad(theta, data.train.x, data.train.y, allRows, fullGrad);
      const F = module.direction(theta, fullGrad, hyper, nExact(state.n));
      const M = module.correction(theta, fullGrad, hvp, hyper, nExact(state.n));
      if (config.batchSize === null) reuseM = M; // the cancellation below needs this same M
      const test = mlp.evaluate(theta, data.test.x, data.test.y);
      const line: LogLine = {
        step: n,
        trainLoss,
        trainAccuracy: mlp.lastAccuracy(),
        testLoss: test.loss,
        testAccuracy: test.accuracy,
        phi: module.penalty ? module.penalty(theta, fullGrad, hyper, trainLoss) : null,
        hMOverF: ratio(h * norm(M), norm(F)),
      };
      stopped = firstBad(n, [['train loss', trainLoss], ['gradient norm', norm(fullGrad)], ['test loss', test.loss], ['Φ', line.phi ?? 0], ['‖hM‖/‖F‖', line.hMOverF]], config.divergeAbove);
      if (stopped) break;
      const text = JSON.stringify(line);
      appendFileSync(logFile, `${text}\n`);
      options.onLog?.(line, text);
      last = line;
    }
    if (n >= limit) break;
    const rows = batches(n);
    const loss = config.batchSize === null && logged ? last!.trainLoss : mlp.lossGrad(theta, data.train.x, data.train.y, rows, grad);
    const g = config.batchSize === null && logged ? fullGrad : grad;
    stopped = firstBad(n, [['train loss', loss], ['gradient norm', norm(g)]], config.divergeAbove);
    if (stopped) break;
    const step = config.cancelMemoryTerm ? penalizedGradient(module, theta, g, hvp, hyper, h, nExact(state.n), reuseM) : g;
    module.step(theta, step, state, h, hyper);
    if ((n + 1) % config.checkpointEvery === 0 || n + 1 === config.steps) {
      const arrays: Record<string, Float64Array> = { theta };
      for (const [k, a] of Object.entries(state.arrays)) arrays[`state.${k}`] = a;
      writeCheckpoint(ckptFile, { step: n + 1, n: state.n, config: configKey(config), arrays });
    }
    options.onProgress?.(n + 1, config.steps);
  }
  const seconds = (performance.now() - t0) / 1000;
  return { ...(last ? { last } : {}), ...(stopped ? { stopped } : {}), step: n, theta, seconds, secondsPerStep: n > start ? seconds / (n - start) : 0 };
}

/**
 * The gradient of L − h·c·Φ, from the generated code alone: gⱼ·(1 − h·Mⱼ/Fⱼ) with M = M⁽ⁿ⁾ and
 * F = F⁽ⁿ⁾ on a constant history. Why: when the rule is preconditioned descent, F = P∘∇L and
 * M = c·P∘∇Φ (theory.md §4), so gⱼ·h·Mⱼ/Fⱼ = h·c·∂ⱼΦ and this is exactly ∇L − h·c·∇Φ; the
 * optimizer's own memory then adds +h·c·Φ back, and to second order it descends L itself.
 * Where F has extra parts (weight decay) or the weight is not c·P (ε > 0), the same formula
 * is the per-coordinate coefficient cⱼ = wⱼ/Pⱼ with Pⱼ = Fⱼ/gⱼ; it stays bounded where |g| ≪ ε
 * (there Mⱼ and Fⱼ both scale like 1/ε), unlike subtracting h²·M from the step, which does not.
 * Costs the HVPs of one `correction` (none when M = 0).
 */
export function penalizedGradient(
  module: OptimizerModule, theta: Float64Array, g: Float64Array, hvp: (v: Float64Array) => Float64Array,
  hyper: Readonly<Record<string, number>>, h: number, n: number | undefined, M = module.correction(theta, g, hvp, hyper, n),
): Float64Array {
  const F = module.direction(theta, g, hyper, n);
  const out = new Float64Array(g.length);
  for (let i = 0; i < g.length; i++) out[i] = F[i] === 0 ? g[i]! : g[i]! * (1 - (h * M[i]!) / F[i]!);
  return out;
}

/** What result.json holds: deterministic (no timings; those go to timing.json). */
export interface RunRecord {
  readonly name: string;
  readonly steps: number;
  readonly step: number;
  readonly stopped: string | null;
  readonly last: LogLine | null;
}

/** Trains and writes result.json, timing.json and config.json next to the log. */
export function trainAndRecord(config: TrainConfig, options: TrainOptions = {}): { record: RunRecord; result: TrainResult } {
  const result = train(config, options);
  const record: RunRecord = { name: config.name, steps: config.steps, step: result.step, stopped: result.stopped ?? null, last: result.last ?? null };
  writeFileSync(join(config.out, RESULT_FILE), `${JSON.stringify(record, null, 2)}\n`);
  // the run's own config, so that `memloss train <out>/config.json` repeats it (sweep runs too)
  const { source: _source, ...plain } = config;
  writeFileSync(join(config.out, CONFIG_FILE), `${JSON.stringify(plain, null, 2)}\n`);
  writeFileSync(join(config.out, TIMING_FILE), `${JSON.stringify({ seconds: result.seconds, secondsPerStep: result.secondsPerStep }, null, 2)}\n`);
  return { record, result };
}

/** a/b, and 0 for 0/0 (no update and no correction, e.g. at a stationary point of sign-like rules). */
const ratio = (a: number, b: number) => (a === 0 && b === 0 ? 0 : a / b);

/** The first quantity that is not finite or exceeds the divergence bound, as a one-line message. */
function firstBad(step: number, quantities: readonly [string, number][], bound: number): string | undefined {
  for (const [name, v] of quantities) {
    if (!Number.isFinite(v)) return `training stopped at step ${step}: the ${name} is ${v}`;
    if (name === 'train loss' && v > bound) return `training stopped at step ${step}: the train loss ${v.toPrecision(4)} exceeds divergeAbove = ${bound}`;
  }
  return undefined;
}

/**
 * The rows of step n: all rows for full batch (and for n = −1); otherwise random reshuffling,
 * one seeded permutation per epoch, so the batch of a step depends only on (seed, n) and a
 * resumed run draws the same batches.
 */
function batchRows(count: number, batchSize: number | null, seed: number): (n: number) => Int32Array {
  const all = Int32Array.from({ length: count }, (_, i) => i);
  if (batchSize === null || batchSize >= count) return () => all;
  const perEpoch = Math.floor(count / batchSize);
  let epoch = -1;
  let perm = all;
  return (n) => {
    if (n < 0) return all;
    const e = Math.floor(n / perEpoch);
    if (e !== epoch) {
      const rng = createRng(mixSeed(seed, 1000 + e));
      perm = shuffleInPlace(all.slice(), rng.uniform);
      epoch = e;
    }
    const i = n % perEpoch;
    return perm.subarray(i * batchSize, (i + 1) * batchSize);
  };
}
