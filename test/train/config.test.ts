/** Training and sweep configs: defaults, and errors that name the file and the key. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, DEFAULT_DATA_DIR, parseTrainConfig, readTrainConfig } from '../../src/train/config.js';
import { readSweepConfig } from '../../src/train/sweep-config.js';

const tmp = mkdtempSync(join(tmpdir(), 'memloss-config-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const minimal = { name: 'r', optimizer: { rule: 'rules/adamw.rule', h: 0.001 }, steps: 10 };

describe('training config', () => {
  it('fills the defaults', () => {
    const c = parseTrainConfig(minimal, 'c.json');
    expect(c).toMatchObject({
      data: { dir: DEFAULT_DATA_DIR, train: 10000, test: 10000, downsample: 1, classes: 10 },
      model: { hidden: 128, activation: 'tanh', precision: 'f32' }, batchSize: null, seed: 1, logEvery: 10, checkpointEvery: 100,
      cancelMemoryTerm: false, out: 'runs/r',
    });
  });
  it.each([
    [{ ...minimal, steps: -1 }, "c.json: key 'steps' must be a non-negative integer, got -1"],
    [{ ...minimal, optimizer: { rule: 'x', h: 0 } }, "c.json: key 'optimizer.h' must be a positive number, got 0"],
    [{ ...minimal, optimizer: { rule: 'x', h: 1, hyper: { beta2: '0.9' } } }, "c.json: key 'optimizer.hyper.beta2' must be a finite number, got \"0.9\""],
    [{ ...minimal, model: { activation: 'relu' } }, "c.json: key 'model.activation' must be one of tanh, softplus, got \"relu\""],
    [{ ...minimal, model: { precision: 'f16' } }, "c.json: key 'model.precision' must be one of f32, f64, got \"f16\""],
    [{ ...minimal, data: { trian: 5 } }, "c.json: unknown key 'data.trian' (known here: dir, train, test, downsample, classes)"],
    // null is a value, not an absent key: it must not fall back to the defaults
    [{ ...minimal, data: null }, "c.json: key 'data' must be an object, got null"],
    [{ ...minimal, optimizer: { rule: 'x', h: 1, hyper: null } }, "c.json: key 'optimizer.hyper' must be an object, got null"],
    [{ ...minimal, logEvery: null }, "c.json: key 'logEvery' must be a positive integer, got null"],
    [{ ...minimal, data: { classes: 1 } }, "c.json: key 'data.classes' must be an integer from 2 to 256 (labels are bytes), got 1"],
    [{ ...minimal, data: { train: 100 }, batchSize: 101 }, "c.json: key 'batchSize' must not exceed data.train = 100, got 101"],
    [{ ...minimal, batchSize: 0 }, "c.json: key 'batchSize' must be a positive integer or null (full batch), got 0"],
    [{ ...minimal, name: 'a/b' }, "c.json: key 'name' must use only letters"],
    [{ name: 'r', steps: 1 }, "c.json: missing key 'optimizer.rule'"],
  ])('%j → %s', (json, message) => {
    expect(() => parseTrainConfig(json as Record<string, unknown>, 'c.json')).toThrow(ConfigError);
    expect(() => parseTrainConfig(json as Record<string, unknown>, 'c.json')).toThrow(message);
  });
  it('reports unreadable and non-JSON files', () => {
    expect(() => readTrainConfig(join(tmp, 'none.json'))).toThrow(/cannot read .*none\.json: no such file/);
    writeFileSync(join(tmp, 'bad.json'), '{ "name": ');
    expect(() => readTrainConfig(join(tmp, 'bad.json'))).toThrow(/bad\.json: not valid JSON/);
  });
});

describe('sweep config', () => {
  const write = (json: unknown) => {
    const f = join(tmp, `s${Math.random().toString(36).slice(2)}.json`);
    writeFileSync(f, JSON.stringify(json));
    return f;
  };
  const base = { steps: 5, data: { train: 10, test: 10 } };
  it('expands groups × values × seeds into named jobs', () => {
    const s = readSweepConfig(write({
      name: 'demo', base, seeds: [1, 2], out: join(tmp, 'out'),
      runs: [
        { label: 'AdamW', optimizer: { rule: 'rules/adamw.rule', h: 0.001 }, vary: { param: 'beta2', values: [0.9, 0.99] } },
        { label: 'Lion', optimizer: { rule: 'rules/lion.rule', h: 0.0001 }, seeds: [7] },
        { label: 'cancelled', optimizer: { rule: 'rules/adamw.rule', h: 0.001 }, cancelMemoryTerm: true },
      ],
    }));
    expect(s.jobs.map((j) => j.config.name)).toEqual([
      'adamw-beta2-0.9-seed1', 'adamw-beta2-0.9-seed2', 'adamw-beta2-0.99-seed1', 'adamw-beta2-0.99-seed2', 'lion-seed7', 'cancelled-seed1', 'cancelled-seed2',
    ]);
    expect(s.jobs[2]!.config.optimizer.hyper).toEqual({ beta2: 0.99 });
    expect(s.jobs[2]!.config.seed).toBe(1);
    expect(s.jobs[4]!.config.out).toBe(join(tmp, 'out', 'lion-seed7'));
    expect(s.jobs[5]!.config.cancelMemoryTerm).toBe(true);
    expect(s.workers).toBe(2);
  });
  it('names the run group and the key of a mistake', () => {
    const f = write({ name: 'x', base, runs: [{ label: 'a', optimizer: { rule: 'r', h: -1 } }] });
    expect(() => readSweepConfig(f)).toThrow(`${f} (runs[0], seed 1): key 'optimizer.h' must be a positive number, got -1`);
    const g = write({ name: 'x', base, runs: [{ label: 'a', optimizer: {}, vary: { param: 'b' } }] });
    expect(() => readSweepConfig(g)).toThrow(`${g}: key 'runs[0].vary' must be { "param": NAME, "values": [numbers] }`);
    const h = write({ name: 'x', runs: [], worker: 2 });
    expect(() => readSweepConfig(h)).toThrow(`${h}: key 'worker' is unknown`);
  });
});
