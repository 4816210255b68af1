/**
 * The configuration of `memloss sweep` (docs/train.md): a base training config, a list of
 * run groups (an optimizer, optionally one hyperparameter varied over values, optionally
 * the cancellation), and seeds. It expands to one checked TrainConfig per job.
 */
import { ConfigError, parseTrainConfig, readJsonObject, type TrainConfig } from './config.js';

export interface Job {
  /** The group's label, e.g. "AdamW". */
  readonly label: string;
  /** The varied hyperparameter and its value in this job, if the group varies one. */
  readonly vary?: { readonly param: string; readonly value: number };
  readonly seed: number;
  readonly config: TrainConfig;
}

export interface SweepConfig {
  readonly name: string;
  readonly workers: number;
  readonly out: string;
  readonly report: string;
  /** Markdown inserted into the report (the discussion of the results), if given. */
  readonly notes?: string;
  readonly jobs: readonly Job[];
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const slug = (s: string) => s.toLowerCase().replace(/[^a-z0-9.]+/g, '-').replace(/^-|-$/g, '');

export function readSweepConfig(file: string): SweepConfig {
  const json = readJsonObject(file);
  const fail = (key: string, what: string): never => {
    throw new ConfigError(`${file}: key '${key}' ${what}`);
  };
  const known = ['name', 'base', 'seeds', 'workers', 'out', 'report', 'notes', 'runs'];
  for (const k of Object.keys(json)) if (!known.includes(k)) fail(k, `is unknown (known: ${known.join(', ')})`);
  const name = typeof json['name'] === 'string' && json['name'] ? json['name'] : fail('name', 'must be a non-empty string');
  const base = json['base'] ?? {};
  if (!isObject(base)) fail('base', 'must be an object (a training config without name)');
  const seedList = (v: unknown, key: string) =>
    Array.isArray(v) && v.length > 0 && v.every((s) => Number.isInteger(s) && s >= 0) ? (v as number[]) : fail(key, 'must be a non-empty list of non-negative integers');
  const seeds = seedList(json['seeds'] ?? [1], 'seeds');
  const workers = json['workers'] ?? 2;
  if (!(Number.isInteger(workers) && (workers as number) >= 1)) fail('workers', 'must be a positive integer');
  const str = (k: string, dflt: string) => {
    const v = json[k] ?? dflt;
    return typeof v === 'string' && v ? v : fail(k, 'must be a non-empty string');
  };
  const out = str('out', `runs/${slug(name)}`), report = str('report', `${out}/report.md`);
  const notes = json['notes'] === undefined ? undefined : str('notes', '');
  const runs = json['runs'];
  if (!Array.isArray(runs) || runs.length === 0) fail('runs', 'must be a non-empty list of run groups');
  const jobs: Job[] = [];
  (runs as unknown[]).forEach((run, i) => {
    const key = `runs[${i}]`;
    if (!isObject(run)) fail(key, 'must be an object');
    const r = run as Record<string, unknown>;
    for (const k of Object.keys(r))
      if (!['label', 'optimizer', 'vary', 'seeds', 'cancelMemoryTerm'].includes(k)) fail(`${key}.${k}`, 'is unknown (known: label, optimizer, vary, seeds, cancelMemoryTerm)');
    const label = typeof r['label'] === 'string' && r['label'] ? r['label'] : fail(`${key}.label`, 'must be a non-empty string');
    const optimizer = r['optimizer'];
    if (!isObject(optimizer)) fail(`${key}.optimizer`, 'must be an object (rule, h, hyper)');
    const vary = r['vary'];
    let values: (number | undefined)[] = [undefined];
    let param: string | undefined;
    if (vary !== undefined) {
      if (!isObject(vary) || typeof vary['param'] !== 'string' || !Array.isArray(vary['values']) || vary['values'].length === 0 || !vary['values'].every((v) => typeof v === 'number'))
        fail(`${key}.vary`, 'must be { "param": NAME, "values": [numbers] }');
      param = (vary as { param: string }).param;
      values = (vary as { values: number[] }).values;
    }
    const groupSeeds = r['seeds'] === undefined ? seeds : seedList(r['seeds'], `${key}.seeds`);
    for (const value of values) {
      for (const seed of groupSeeds) {
        const opt = optimizer as Record<string, unknown>;
        const hyper = { ...(isObject(opt['hyper']) ? opt['hyper'] : {}), ...(param !== undefined ? { [param]: value } : {}) };
        const jobName = `${slug(label)}${param !== undefined ? `-${param}-${value}` : ''}-seed${seed}`;
        const config = parseTrainConfig(
          {
            ...base,
            name: jobName,
            optimizer: { ...opt, hyper },
            seed,
            ...(r['cancelMemoryTerm'] !== undefined ? { cancelMemoryTerm: r['cancelMemoryTerm'] } : {}),
            out: `${out}/${jobName}`,
          },
          `${file} (${key}${param !== undefined ? `, ${param} = ${value}` : ''}, seed ${seed})`,
        );
        jobs.push({ label, ...(param !== undefined ? { vary: { param, value: value! } } : {}), seed, config });
      }
    }
  });
  const names = new Set<string>();
  for (const j of jobs) {
    if (names.has(j.config.name)) fail('runs', `gives two jobs the same name '${j.config.name}' (labels must differ)`);
    names.add(j.config.name);
  }
  return { name, workers: workers as number, out, report, ...(notes !== undefined ? { notes } : {}), jobs };
}
