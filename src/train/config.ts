/**
 * The JSON configuration of `memloss train` (docs/train.md): every key is checked, and a
 * mistake is a `ConfigError` naming the file and the key. Unknown keys are errors too, so
 * a misspelt key never silently falls back to a default.
 */
import { readFileSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { PRECISIONS, type Precision } from './kernels.js';
import { ACTIVATIONS, type Activation } from './model.js';

export class ConfigError extends Error {}

export interface TrainConfig {
  readonly name: string;
  readonly data: { readonly dir: string; readonly train: number; readonly test: number; readonly downsample: number; readonly classes: number };
  readonly model: { readonly hidden: number; readonly activation: Activation; readonly precision: Precision };
  readonly optimizer: { readonly rule: string; readonly h: number; readonly hyper: Readonly<Record<string, number>> };
  /** Rows per step; null: the full training subset (the regime of the theory). */
  readonly batchSize: number | null;
  readonly steps: number;
  readonly seed: number;
  readonly logEvery: number;
  readonly checkpointEvery: number;
  /** Subtract h·M (the derived correction) after each step: see docs/train.md. */
  readonly cancelMemoryTerm: boolean;
  /** Stop when the training loss exceeds this (divergence). */
  readonly divergeAbove: number;
  /** Directory for the log, checkpoint and result; default runs/<name>. */
  readonly out: string;
  /** Where the config came from (a file, or a sweep file and its group): errors found later name it. */
  readonly source: string;
}

export const DEFAULT_DATA_DIR = '/usr/share/datasets/fashion-mnist';

type Json = Record<string, unknown>;

/** Reads and checks a config file. */
export function readTrainConfig(file: string): TrainConfig {
  return parseTrainConfig(readJsonObject(file), file);
}

export function readJsonObject(file: string): Json {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new ConfigError(`cannot read ${file}: ${code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory' : (e as Error).message}`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new ConfigError(`${file}: not valid JSON: ${(e as Error).message}`);
  }
  if (!isObject(value)) throw new ConfigError(`${file}: the configuration must be a JSON object`);
  return value;
}

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** A reader of one object of the config, reporting keys by their dotted path. */
function reader(file: string, obj: Json, prefix: string, known: readonly string[]) {
  for (const k of Object.keys(obj))
    if (!known.includes(k)) throw new ConfigError(`${file}: unknown key '${prefix}${k}' (known here: ${known.join(', ')})`);
  const fail = (k: string, what: string): never => {
    throw new ConfigError(`${file}: key '${prefix}${k}' ${what}, got ${JSON.stringify(obj[k])}`);
  };
  // null is a value here, not an absent key: `"data": null` must not fall back to the defaults
  const get = (k: string, dflt: unknown) => (obj[k] === undefined ? dflt : obj[k]);
  return {
    fail,
    object(k: string): Json {
      const v = get(k, {});
      return isObject(v) ? v : fail(k, 'must be an object');
    },
    string(k: string, dflt?: string): string {
      const v = get(k, dflt);
      if (v === undefined) throw new ConfigError(`${file}: missing key '${prefix}${k}'`);
      return typeof v === 'string' && v.length > 0 ? v : fail(k, 'must be a non-empty string');
    },
    number(k: string, dflt: number | undefined, ok: (x: number) => boolean, what: string): number {
      const v = get(k, dflt);
      if (v === undefined) throw new ConfigError(`${file}: missing key '${prefix}${k}'`);
      return typeof v === 'number' && ok(v) ? v : fail(k, `must be ${what}`);
    },
    boolean(k: string, dflt: boolean): boolean {
      const v = get(k, dflt);
      return typeof v === 'boolean' ? v : fail(k, 'must be true or false');
    },
  };
}

const positiveInt = (x: number) => Number.isInteger(x) && x >= 1;
const positive = (x: number) => Number.isFinite(x) && x > 0;

export function parseTrainConfig(json: Json, file: string): TrainConfig {
  const top = reader(file, json, '', [
    'name', 'data', 'model', 'optimizer', 'batchSize', 'steps', 'seed', 'logEvery', 'checkpointEvery',
    'cancelMemoryTerm', 'divergeAbove', 'out',
  ]);
  const name = top.string('name');
  if (!/^[A-Za-z0-9._-]+$/.test(name)) top.fail('name', 'must use only letters, digits, . _ and - (it names the run directory)');
  const dataJson = top.object('data'), modelJson = top.object('model'), optJson = top.object('optimizer');
  const data = reader(file, dataJson, 'data.', ['dir', 'train', 'test', 'downsample', 'classes']);
  const model = reader(file, modelJson, 'model.', ['hidden', 'activation', 'precision']);
  const opt = reader(file, optJson, 'optimizer.', ['rule', 'h', 'hyper']);
  const activation = model.string('activation', 'tanh');
  if (!(ACTIVATIONS as readonly string[]).includes(activation)) model.fail('activation', `must be one of ${ACTIVATIONS.join(', ')}`);
  const precision = model.string('precision', 'f32');
  if (!(PRECISIONS as readonly string[]).includes(precision)) model.fail('precision', `must be one of ${PRECISIONS.join(', ')}`);
  const hyperJson = opt.object('hyper');
  for (const [k, v] of Object.entries(hyperJson)) {
    if (typeof v !== 'number' || !Number.isFinite(v)) throw new ConfigError(`${file}: key 'optimizer.hyper.${k}' must be a finite number, got ${JSON.stringify(v)}`);
  }
  // own properties even for a parameter named __proto__ (an assignment would set the prototype)
  const hyper = Object.fromEntries(Object.entries(hyperJson)) as Record<string, number>;
  const batch = json['batchSize'];
  if (batch !== undefined && batch !== null && !(typeof batch === 'number' && positiveInt(batch)))
    top.fail('batchSize', 'must be a positive integer or null (full batch)');
  const steps = top.number('steps', undefined, (x) => Number.isInteger(x) && x >= 0, 'a non-negative integer');
  const dataConfig = {
    dir: data.string('dir', DEFAULT_DATA_DIR),
    train: data.number('train', 10000, positiveInt, 'a positive integer'),
    test: data.number('test', 10000, positiveInt, 'a positive integer'),
    downsample: data.number('downsample', 1, positiveInt, 'a positive integer (1: full resolution, 2: 14×14)'),
    classes: data.number('classes', 10, (x) => Number.isInteger(x) && x >= 2 && x <= 256, 'an integer from 2 to 256 (labels are bytes)'),
  };
  // a batch larger than the training subset would silently be the full batch
  if (typeof batch === 'number' && batch > dataConfig.train) top.fail('batchSize', `must not exceed data.train = ${dataConfig.train}`);
  return {
    name,
    data: dataConfig,
    model: { hidden: model.number('hidden', 128, positiveInt, 'a positive integer'), activation: activation as Activation, precision: precision as Precision },
    optimizer: { rule: opt.string('rule'), h: opt.number('h', undefined, positive, 'a positive number'), hyper },
    batchSize: typeof batch === 'number' ? batch : null,
    steps,
    seed: top.number('seed', 1, (x) => Number.isInteger(x) && x >= 0 && x < 2 ** 32, 'an integer in [0, 2³²)'),
    logEvery: top.number('logEvery', 10, positiveInt, 'a positive integer'),
    checkpointEvery: top.number('checkpointEvery', 100, positiveInt, 'a positive integer'),
    cancelMemoryTerm: top.boolean('cancelMemoryTerm', false),
    divergeAbove: top.number('divergeAbove', 1e3, positive, 'a positive number'),
    out: runDirectory(file, top.string('out', `runs/${name}`)),
    source: file,
  };
}

/** out, checked to be a directory or creatable as one: a file there (say /etc/passwd) is a mistake in the config. */
function runDirectory(file: string, out: string): string {
  for (let p = resolve(out); ; p = dirname(p)) {
    let st;
    try {
      st = statSync(p);
    } catch {
      // absent (or unreadable): the nearest existing ancestor decides
    }
    if (st) {
      if (st.isDirectory()) return out;
      throw new ConfigError(`${file}: key 'out' must name a directory, but ${p === resolve(out) ? out : p} is a file`);
    }
    if (dirname(p) === p) return out;
  }
}
