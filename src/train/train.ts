/**
 * One training run (`memloss train`): the MLP on an MNIST-format data set, trained by the
 * generated code of any rule file. Per logged step one JSON line (LogLine); a checkpoint
 * every `checkpointEvery` steps; `resume` continues bit for bit from the last checkpoint.
 *
 * Step n (θ = θₙ): gradient on the batch → (log) → optimizer step. With cancelMemoryTerm the
 * optimizer is fed the gradient of the penalized loss L − h·c·Φ instead (penalizedGradient).
 */
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { totalmem } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseRule } from '../parse/rule-file.js';
import { FileReadError, readRuleSource } from '../parse/read-file.js';
import { derive } from '../derive/index.js';
import type { Rule } from '../ir/rule.js';
import { loadVerifiedOptimizer } from '../numeric/verify-module.js';
import type { OptimizerModule } from '../numeric/types.js';
import { createRng, mixSeed } from '../numeric/problems/random.js';
import { shuffleInPlace } from '../ir/random.js';
import { readCheckpoint, sha256, writeCheckpoint, type Checkpoint } from './checkpoint.js';
import { ConfigError, type TrainConfig } from './config.js';
import { dataHash, loadDataSet, type DataSet } from './data.js';
import { onFile, RunError } from './errors.js';
import { AppendFile, NODE_FILE_OPS, writeFileAtomic, type FileOps } from './files.js';
import { DataError } from './idx.js';
import type { KernelFactory } from './kernels.js';
import { lockRunDir } from './lock.js';
import { resumeLog } from './log.js';
import { estimateMemory, memoryRefusal } from './memory.js';
import { createMlp, type Mlp } from './model.js';
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
  /** How files are written; tests inject failures (a full disk, a kill before a rename). */
  readonly fileOps?: FileOps;
  /** Bytes of memory a run may use (default: the machine's, os.totalmem()). */
  readonly memoryLimit?: number;
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

/** The rule, its generated code, whether its exact finite-n correction exists, and the sha256 of the file. */
export function loadRule(file: string): { rule: Rule; module: OptimizerModule; exactN: boolean; hash: string } {
  let text: string;
  try {
    text = readRuleSource(file); // a regular file, at most the rule size limit
  } catch (e) {
    if (e instanceof FileReadError) throw new ConfigError(`key 'optimizer.rule': cannot read rule file ${file}: ${e.message}`);
    throw e;
  }
  // the same file text derives to the same module: runs and resumes in one process share it
  const key = `${file}\0${text}`;
  const hit = loaded.get(key);
  if (hit) return hit;
  const bytes = Buffer.from(text, 'utf8');
  const rule = parseRule(text, file);
  const d = derive(rule, { exactN: true, verify: true });
  // a closed form only: the exact M by the recursion costs n Hessian-vector products at step n
  const out = { rule, module: loadVerifiedOptimizer(rule, d), exactN: d.exactN !== undefined && !('unavailable' in d.exactN), hash: sha256(bytes).toString('hex') };
  loaded.set(key, out);
  return out;
}
const loaded = new Map<string, ReturnType<typeof loadRule>>();

/** The config as compared on resume: everything but the number of steps, the output directory and where it was read. */
const configKey = (c: TrainConfig) => JSON.stringify({ ...c, steps: undefined, out: undefined, source: undefined });

const norm = (a: Float64Array) => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * a[i]!;
  return Math.sqrt(s);
};

/** Trains (in `config.out`, which it locks for the time of the run). */
export function train(config: TrainConfig, options: TrainOptions = {}): TrainResult {
  return naming(config, () => {
    const setup = prepare(config, options);
    return inRunDir(config.out, () => run(config, options, setup));
  });
}

/** Errors about a key of the config name the config too. */
function naming<T>(config: TrainConfig, f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (e instanceof ConfigError && e.message.startsWith('key ')) throw new ConfigError(`${config.source}: ${e.message}`);
    throw e;
  }
}

/** Runs `f` holding the lock of the run directory (created if needed). */
function inRunDir<T>(out: string, f: () => T): T {
  onFile(out, () => mkdirSync(out, { recursive: true }), 'cannot create the run directory');
  const release = lockRunDir(out);
  try {
    return f();
  } finally {
    release();
  }
}

/** Everything a run needs before it touches its directory; every check of the config against the rule and the data happens here. */
interface Setup {
  readonly module: OptimizerModule;
  readonly exactN: boolean;
  readonly ruleHash: string;
  readonly hyper: Readonly<Record<string, number>>;
  readonly data: DataSet;
  readonly dataHash: string;
  readonly mlp: Mlp;
}

function prepare(config: TrainConfig, options: TrainOptions): Setup {
  const { rule, module, exactN, hash } = loadRule(config.optimizer.rule);
  for (const [k, v] of Object.entries(config.optimizer.hyper)) {
    const p = rule.params.find((q) => q.name === k);
    if (!p) throw new ConfigError(`key 'optimizer.hyper.${k}': ${module.name} has no parameter '${k}' (its parameters: ${rule.params.map((q) => q.name).join(', ') || 'none'})`);
    const { lo, hi, loOpen, hiOpen, text } = p.domain;
    if (v < lo || v > hi || (loOpen && v === lo) || (hiOpen && v === hi))
      throw new ConfigError(`key 'optimizer.hyper.${k}' = ${v} lies outside the domain ${text} that ${config.optimizer.rule} declares for it`);
  }
  const hyper = { ...module.defaults, ...config.optimizer.hyper };
  const data = options.data ?? loadDataSet(config.data);
  checkLabels(data, config.data.classes);
  const K = config.model.hidden;
  const estimate = estimateMemory({
    inputs: data.inputs, hidden: K, classes: config.data.classes,
    trainRows: data.train.x.rows, testRows: data.test.x.rows, trainNonZeros: data.train.x.colIdx.length, testNonZeros: data.test.x.colIdx.length,
    states: rule.states.length, precision: config.model.precision, wasm: options.kernels === undefined,
  });
  const refusal = memoryRefusal(estimate, options.memoryLimit ?? totalmem());
  if (refusal) throw new ConfigError(`${config.source}: ${refusal}; make model.hidden (${K}), data.train (${config.data.train}) or data.test (${config.data.test}) smaller`);
  const maxRows = Math.max(data.train.x.rows, data.test.x.rows);
  const kernels = options.kernels ?? wasmKernelFactory();
  const mlp = createMlp({ inputs: data.inputs, hidden: K, classes: config.data.classes, activation: config.model.activation, precision: config.model.precision }, maxRows, kernels);
  return { module, exactN, ruleHash: hash, hyper, data, dataHash: dataHash(data), mlp };
}

/** Labels of data passed in (options.data) were not checked by loadDataSet against this config. */
function checkLabels(data: DataSet, classes: number): void {
  for (const [what, y] of [['training', data.train.y], ['test', data.test.y]] as const) {
    const i = y.findIndex((c) => c < 0 || c >= classes);
    if (i >= 0) throw new DataError(`${what} label ${y[i]} of image ${i} is not below data.classes = ${classes}`);
  }
}

/** The steps a run of this config logs before `start`. */
const loggedBefore = (config: TrainConfig, start: number) => {
  const steps: number[] = [];
  for (let n = 0; n < start; n++) if (n % config.logEvery === 0 || n === config.steps) steps.push(n);
  return steps;
};

const readIfExists = (file: string) => (existsSync(file) ? onFile(file, () => readFileSync(file, 'utf8'), 'cannot read') : undefined);

/** `beforeWrites` runs once every check has passed, before the run changes a file. */
function run(config: TrainConfig, options: TrainOptions, setup: Setup, beforeWrites?: () => void): TrainResult {
  const { module, exactN, data, mlp } = setup;
  const h = config.optimizer.h;
  const ops = options.fileOps ?? NODE_FILE_OPS;
  const batches = batchRows(data.train.x.rows, config.batchSize, config.seed);
  const nExact = (n: number) => (exactN ? n : undefined);

  const logFile = join(config.out, LOG_FILE), ckptFile = join(config.out, CHECKPOINT_FILE);
  let theta = mlp.init(config.seed);
  let state = module.init(mlp.dim, setup.hyper);
  let start = 0;
  const ckpt = options.resume ? readCheckpoint(ckptFile) : undefined;
  if (ckpt) {
    checkResume(ckptFile, ckpt, config, setup, { theta, ...Object.fromEntries(Object.entries(state.arrays).map(([k, a]) => [`state.${k}`, a])) });
    theta = ckpt.arrays['theta']!;
    for (const k of Object.keys(state.arrays)) state.arrays[k]!.set(ckpt.arrays[`state.${k}`]!);
    state.n = ckpt.n;
    start = ckpt.step;
  }
  // The log holds exactly the lines of steps before `start`: later ones are written again.
  const old = readIfExists(logFile);
  const kept = start > 0 ? resumeLog(logFile, old, start, loggedBefore(config, start)).kept : '';
  beforeWrites?.();
  // a fresh start: an old checkpoint would not belong to the new log
  if (!ckpt) onFile(ckptFile, () => rmSync(ckptFile, { force: true }), 'cannot remove');
  if (old !== kept) writeFileAtomic(logFile, kept, ops);
  const log = new AppendFile(logFile, ops);
  try {
    return loop(config, options, setup, log, { theta, state, start, ckptFile, h, batches, nExact });
  } finally {
    log.close();
  }
}

/** A checkpoint that does not belong to this run (config, rule, data, length, arrays) is refused with one line naming the difference. */
function checkResume(file: string, c: Checkpoint, config: TrainConfig, setup: Setup, expected: Record<string, Float64Array>): void {
  const refuse = (why: string): never => {
    throw new RunError(`cannot resume from ${file}: ${why}`);
  };
  const key = configKey(config);
  if (c.config !== key) refuse(`it was written with a different configuration (${configDifference(c.config, key)}; only 'steps' and 'out' may change on --resume)`);
  const short = (h: string) => `${h.slice(0, 12)}…`;
  if (c.ruleHash !== setup.ruleHash)
    refuse(`the rule file ${config.optimizer.rule} changed since (sha256 ${short(c.ruleHash)} then, ${short(setup.ruleHash)} now); restore it or start over without --resume`);
  if (c.dataHash !== setup.dataHash)
    refuse(`the data in ${config.data.dir} changed since (sha256 of the loaded images and labels ${short(c.dataHash)} then, ${short(setup.dataHash)} now); restore it or start over without --resume`);
  if (c.step > config.steps) refuse(`it is at step ${c.step} but ${config.source} has steps = ${config.steps}; a resumed run cannot be shorter (raise steps, or start over without --resume)`);
  const names = Object.keys(expected);
  for (const k of names) {
    const a = c.arrays[k];
    if (!a) refuse(`it has no array ${k}`);
    if (a!.length !== expected[k]!.length) refuse(`its array ${k} holds ${a!.length} numbers, the model needs ${expected[k]!.length}`);
  }
  for (const k of Object.keys(c.arrays)) if (!names.includes(k)) refuse(`it has an array ${k} that this rule does not`);
}

/** The keys whose values differ between two canonical config texts, as `key: then → now`. */
function configDifference(then: string, now: string): string {
  const flat = (v: unknown, at: string, out: Map<string, string>) => {
    if (typeof v === 'object' && v !== null && !Array.isArray(v)) for (const [k, x] of Object.entries(v)) flat(x, at ? `${at}.${k}` : k, out);
    else out.set(at, JSON.stringify(v));
    return out;
  };
  let a: Map<string, string>, b: Map<string, string>;
  try {
    a = flat(JSON.parse(then), '', new Map());
    b = flat(JSON.parse(now), '', new Map());
  } catch {
    return 'unreadable';
  }
  const keys = [...new Set([...a.keys(), ...b.keys()])].filter((k) => a.get(k) !== b.get(k));
  return keys.map((k) => `${k}: ${a.get(k) ?? 'absent'} then, ${b.get(k) ?? 'absent'} now`).join('; ') || 'key order';
}

interface LoopState {
  readonly theta: Float64Array;
  readonly state: ReturnType<OptimizerModule['init']>;
  readonly start: number;
  readonly ckptFile: string;
  readonly h: number;
  readonly batches: (n: number) => Int32Array;
  readonly nExact: (n: number) => number | undefined;
}

function loop(config: TrainConfig, options: TrainOptions, setup: Setup, log: AppendFile, s: LoopState): TrainResult {
  const { module, hyper, data, mlp } = setup;
  const { theta, state, start, ckptFile, h, batches, nExact } = s;
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
      log.append(`${text}\n`);
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
      log.sync(); // the lines before this step are on disk before a checkpoint says they are
      writeCheckpoint(ckptFile, { step: n + 1, n: state.n, config: configKey(config), ruleHash: setup.ruleHash, dataHash: setup.dataHash, arrays }, options.fileOps);
    }
    options.onProgress?.(n + 1, config.steps);
  }
  log.sync();
  const seconds = (performance.now() - t0) / 1000;
  return { ...(last ? { last } : {}), ...(stopped ? { stopped } : {}), step: n, theta, seconds, secondsPerStep: n > start ? seconds / (n - start) : 0 };
}

/**
 * The gradient of L − h·c·Φ, from the generated code alone: gⱼ·(1 − h·Mⱼ/Fⱼ) with M = M⁽ⁿ⁾ and
 * F = F⁽ⁿ⁾ on a constant history. Why: when the rule is preconditioned descent, F = P∘∇L and
 * M = c·P∘∇Φ (docs/theory.md §4), so gⱼ·h·Mⱼ/Fⱼ = h·c·∂ⱼΦ and this is exactly ∇L − h·c·∇Φ; the
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
  return naming(config, () => {
    const setup = prepare(config, options);
    return inRunDir(config.out, () => {
      const resultFile = join(config.out, RESULT_FILE);
      // until it is written again the run is unfinished (sweep --resume reads it that way)
      const result = run(config, options, setup, () => onFile(resultFile, () => rmSync(resultFile, { force: true }), 'cannot remove'));
      const record: RunRecord = { name: config.name, steps: config.steps, step: result.step, stopped: result.stopped ?? null, last: result.last ?? null };
      const ops = options.fileOps;
      // the run's own config, so that `memloss train <out>/config.json` repeats it (sweep runs too)
      const { source: _source, ...plain } = config;
      writeFileAtomic(join(config.out, CONFIG_FILE), `${JSON.stringify(plain, null, 2)}\n`, ops);
      writeFileAtomic(join(config.out, TIMING_FILE), `${JSON.stringify({ seconds: result.seconds, secondsPerStep: result.secondsPerStep }, null, 2)}\n`, ops);
      writeFileAtomic(resultFile, `${JSON.stringify(record, null, 2)}\n`, ops); // last: its presence says the run is complete
      return { record, result };
    });
  });
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
