/**
 * `memloss sweep` on the tiny data set in two worker threads: every run's log equals the
 * same run trained in this thread, the report has its table and plots, --resume skips
 * finished runs, and the CLI's train and sweep exit codes and one-line errors.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli.js';
import { accuracyAtLoss, groupOutcomes, matchedLoss, meanStd, writeReport } from '../../src/train/report.js';
import { readSweepConfig } from '../../src/train/sweep-config.js';
import { readTrainConfig } from '../../src/train/config.js';
import { runSweep } from '../../src/train/sweep.js';
import { LOG_FILE, train } from '../../src/train/train.js';
import { capture } from '../capture.js';
import { writeTinyIdx } from './fixtures.js';

const tmp = mkdtempSync(join(tmpdir(), 'memloss-sweep-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const dataDir = join(tmp, 'data');
writeTinyIdx(dataDir);
const base = { data: { dir: dataDir, train: 60, test: 30, classes: 3 }, model: { hidden: 8 }, steps: 12, logEvery: 4, checkpointEvery: 5 };
const sweepFile = join(tmp, 'sweep.json');
writeFileSync(sweepFile, JSON.stringify({
  name: 'tiny', base, seeds: [1, 2], workers: 2, out: join(tmp, 'runs'), report: join(tmp, 'report', 'tiny.md'),
  runs: [
    { label: 'AdamW', optimizer: { rule: 'rules/adamw.rule', h: 0.01 }, vary: { param: 'beta2', values: [0.9, 0.999] } },
    { label: 'Lion', optimizer: { rule: 'rules/lion.rule', h: 0.003 } },
    { label: 'AdamW cancelled', optimizer: { rule: 'rules/adamw.rule', h: 0.01, hyper: { beta2: 0.999 } }, cancelMemoryTerm: true, seeds: [1] },
  ],
}));

describe('sweep', () => {
  it('runs the grid in worker threads with the same results as in-process training, and writes the report', async () => {
    const sweep = readSweepConfig(sweepFile);
    const outcomes = await runSweep(sweep);
    expect(outcomes).toHaveLength(7);
    const job = sweep.jobs[3]!; // AdamW, beta2 = 0.999, seed 2
    const again = { ...job.config, out: join(tmp, 'again') };
    train(again);
    expect(readFileSync(join(again.out, LOG_FILE), 'utf8')).toBe(readFileSync(join(job.config.out, LOG_FILE), 'utf8'));

    const own = readTrainConfig(join(job.config.out, 'config.json'));
    expect({ ...own, source: '' }).toEqual({ ...job.config, source: '' });

    const md = await writeReport(sweep, outcomes, { sweepFile, command: `memloss sweep ${sweepFile}` });
    const groups = groupOutcomes(outcomes);
    expect(groups.map((g) => g.name)).toEqual(['AdamW, beta2 = 0.9', 'AdamW, beta2 = 0.999', 'Lion', 'AdamW cancelled']);
    const acc = meanStd(groups[1]!.runs.map((r) => r.record.last!.testAccuracy));
    expect(md).toContain(`| AdamW, beta2 = 0.999 | 2 | ${(100 * acc.mean).toFixed(2)} ± ${(100 * acc.std).toFixed(2)} |`);
    expect(md).toMatch(/\| Lion \| 2 \| [\d.]+ ± [\d.]+ \| [^|]+ \| [^|]+ \| [^|]+ \| — \|/);
    // the matched-loss column: the largest final train loss of the varied runs, and each run's test accuracy where it first got there
    const target = Math.max(...groups.slice(0, 2).flatMap((g) => g.runs.map((r) => r.record.last!.trainLoss)));
    expect(matchedLoss(groups)).toBe(target);
    const first = groups[0]!.runs[0]!;
    expect(accuracyAtLoss(first, target)).toBe(first.log.find((l) => l.trainLoss <= target)!.testAccuracy);
    expect(accuracyAtLoss(first, -1)).toBeUndefined();
    expect(md).toContain(`test accuracy (%) at train loss ≤ ${target.toPrecision(4)} |`);
    for (const svg of ['accuracy.svg', 'curves.svg', 'phi.svg']) {
      expect(md).toContain(`(tiny/${svg})`);
      expect(readFileSync(join(tmp, 'report', 'tiny', svg), 'utf8')).toMatch(/^<svg/);
    }
  });

  it('the CLI: --resume skips finished runs; --report-only trains nothing', async () => {
    const r = await capture(() => main(['sweep', sweepFile, '--resume']));
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^7 runs in [\d.]+ min; report written to .*tiny\.md\n$/);
    const again = await capture(() => main(['sweep', sweepFile, '--resume']));
    expect(again.code).toBe(0);
    const timing = JSON.parse(readFileSync(join(tmp, 'runs', 'sweep-timing.json'), 'utf8')) as { wallSeconds: number; invocations: number[] };
    expect(timing.invocations).toHaveLength(2);
    expect(timing.wallSeconds).toBeCloseTo(timing.invocations[0]! + timing.invocations[1]!, 9);
    const o = await capture(() => main(['sweep', sweepFile, '--report-only']));
    expect(o.code).toBe(0);
    expect(readFileSync(join(tmp, 'report', 'tiny.md'), 'utf8')).toMatch(/Wall time of the sweep: [\d.]+ min in 2 invocations \([\d.]+ min, then --resume: [\d.]+ min\) with 2 workers/);
  });
});

describe('memloss train (CLI)', () => {
  const cfg = (name: string, extra: Record<string, unknown>) => {
    const f = join(tmp, `${name}.json`);
    writeFileSync(f, JSON.stringify({ name, ...base, out: join(tmp, name), ...extra }));
    return f;
  };
  it('prints one JSON line per logged step and exits 0', async () => {
    const r = await capture(() => main(['train', cfg('ok', { optimizer: { rule: 'rules/adamw.rule', h: 0.01 } })]));
    expect(r.code).toBe(0);
    const steps = r.stdout.trim().split('\n').map((l) => (JSON.parse(l) as { step: number }).step);
    expect(steps).toEqual([0, 4, 8, 12]);
  });
  it('exits 1 with one line naming the step and the quantity when the run stops', async () => {
    const r = await capture(() => main(['train', cfg('bad', { optimizer: { rule: 'rules/gd.rule', h: 1e307 }, logEvery: 1, divergeAbove: 1e308, model: { hidden: 8, precision: 'f64' } })]));
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^memloss: training stopped at step 2: the train loss is Infinity \(log kept in .*bad\)\n$/);
  });
  it.each([
    [{ optimizer: { rule: 'rules/adamw.rule', h: 'big' } }, /^memloss: .*cfgerr\.json: key 'optimizer\.h' must be a positive number, got "big"\n$/],
    [{ optimizer: { rule: 'rules/none.rule', h: 1 } }, /^memloss: .*cfgerr\.json: key 'optimizer.rule': cannot read rule file rules\/none\.rule: no such file or directory\n$/],
    [{ optimizer: { rule: 'rules/adamw.rule', h: 1 }, data: { dir: join(tmp, 'nodata') } }, /^memloss: cannot read .*nodata\/train-images-idx3-ubyte\.gz: no such file\n$/],
  ])('exits 2 with one line for a mistake in the config (%#)', async (extra, message) => {
    const r = await capture(() => main(['train', cfg('cfgerr', extra)]));
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
  });
});

describe('memloss sweep (CLI) errors', () => {
  it('a usage error for --workers 0, an input error naming the key for a bad sweep config', async () => {
    const u = await capture(() => main(['sweep', sweepFile, '--workers', '0']));
    expect(u.code).toBe(2);
    expect(u.stderr).toMatch(/^memloss: --workers takes a positive integer, got '0'\n/);
    const bad = join(tmp, 'bad-sweep.json');
    writeFileSync(bad, JSON.stringify({ name: 'x', base, runs: [{ label: 'a', optimizer: { rule: 'rules/adamw.rule', h: 0.01 }, vary: { param: 'beta2', values: [0.9] }, seed: 3 }] }));
    const r = await capture(() => main(['sweep', bad]));
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(`memloss: ${bad}: key 'runs[0].seed' is unknown (known: label, optimizer, vary, seeds, cancelMemoryTerm)\n`);
  });
  it('a rule error inside a worker is an input error with its location', async () => {
    const rule = join(tmp, 'broken.rule');
    writeFileSync(rule, 'optimizer Broken\nupdate g +\n');
    const f = join(tmp, 'broken-sweep.json');
    writeFileSync(f, JSON.stringify({ name: 'x', base, out: join(tmp, 'broken-runs'), report: join(tmp, 'broken.md'), runs: [{ label: 'a', optimizer: { rule, h: 0.01 } }] }));
    const r = await capture(() => main(['sweep', f]));
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^memloss: job a-seed1: .*broken\.rule:2:\d+: .*\n$/);
  });
});
