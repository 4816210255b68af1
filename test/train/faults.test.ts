/**
 * Fault injection on training runs (issue 18): a run directory in use, a disk that fills,
 * a kill during the log rewrite, a changed rule or data file, a shorter resume, a damaged
 * checkpoint. Each ends in a clean refusal (one line; exit 1 in the CLI) or in a resume
 * whose log and θ are bitwise those of an uninterrupted run, never a lost or spliced log.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { threadId } from 'node:worker_threads';
import { afterAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli.js';
import { encodeCheckpoint, readCheckpoint } from '../../src/train/checkpoint.js';
import { trainCommand } from '../../src/train/commands.js';
import { parseTrainConfig, type TrainConfig } from '../../src/train/config.js';
import { RunError } from '../../src/train/errors.js';
import { NODE_FILE_OPS, type FileOps } from '../../src/train/files.js';
import { LOCK_FILE, lockRunDir } from '../../src/train/lock.js';
import { CHECKPOINT_FILE, LOG_FILE, RESULT_FILE, train, trainAndRecord } from '../../src/train/train.js';
import { capture, hasStackFrame, lines } from '../capture.js';
import { writeTinyIdx } from './fixtures.js';

const tmp = mkdtempSync(join(tmpdir(), 'memloss-faults-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const dataDir = join(tmp, 'data');
writeTinyIdx(dataDir);
const rule = join(tmp, 'adamw.rule');
copyFileSync('rules/adamw.rule', rule);

let runs = 0;
/** A run of the tiny set: 40 steps, lines at 0, 5, …, 40, checkpoints after 7, 14, …, 35 and 40. */
function config(over: Record<string, unknown> = {}): TrainConfig {
  return parseTrainConfig({
    name: 'f',
    data: { dir: dataDir, train: 60, test: 30, classes: 3 },
    model: { hidden: 8 },
    optimizer: { rule, h: 0.01, hyper: { beta2: 0.99 } },
    steps: 40,
    logEvery: 5,
    checkpointEvery: 7,
    out: join(tmp, `run${runs++}`),
    ...over,
  }, 'test.json');
}
const file = (c: TrainConfig, name: string) => join(c.out, name);
const read = (c: TrainConfig, name: string) => readFileSync(file(c, name));
const logText = (c: TrainConfig) => readFileSync(file(c, LOG_FILE), 'utf8');
const bits = (a: Float64Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);

// the uninterrupted run every resumed one must equal
const whole = config();
const straight = train(whole);
const wholeLog = logText(whole);

/** A run killed at step 17: its checkpoint holds step 14, its log the lines of 0, 5, 10, 15. */
function interrupted(over: Record<string, unknown> = {}): TrainConfig {
  const c = config(over);
  train(c, { stopAfter: 17 });
  expect(readCheckpoint(file(c, CHECKPOINT_FILE))!.step).toBe(14);
  return c;
}

function expectExactResume(c: TrainConfig): void {
  const r = train(c, { resume: true });
  expect(r.step).toBe(40);
  expect(bits(r.theta)).toEqual(bits(straight.theta));
  expect(logText(c)).toBe(wholeLog);
}

/** Refused with one line and no change to the log or the checkpoint. */
function expectRefusal(c: TrainConfig, run: () => unknown, message: RegExp): void {
  const log = read(c, LOG_FILE), ckpt = read(c, CHECKPOINT_FILE);
  let error: unknown;
  try {
    run();
  } catch (e) {
    error = e;
  }
  expect(error).toBeInstanceOf(RunError);
  expect((error as Error).message).toMatch(message);
  expect((error as Error).message).not.toContain('\n');
  expect(read(c, LOG_FILE)).toEqual(log);
  expect(read(c, CHECKPOINT_FILE)).toEqual(ckpt);
}

const systemError = (code: string, syscall: string) => Object.assign(new Error(`${code}: simulated, ${syscall}`), { code, syscall });

/** A disk that fills after `budget` more bytes: the write that crosses it writes what fits and fails with ENOSPC. */
function fillingDisk(budget: number): FileOps {
  let left = budget;
  return {
    ...NODE_FILE_OPS,
    write(fd, data) {
      const n = Math.min(left, data.length);
      NODE_FILE_OPS.write(fd, data.subarray(0, n));
      left -= n;
      if (n < data.length) throw systemError('ENOSPC', 'write');
    },
  };
}

describe('a run directory in use', () => {
  it('a second run is refused while a live run holds the lock, and runs once it is released', () => {
    const c = config();
    mkdirSync(c.out, { recursive: true });
    const release = lockRunDir(c.out);
    expect(() => train(c)).toThrow(new RegExp(`is in use by another run \\(pid ${process.pid}\\); wait for it to end, or delete .*${LOCK_FILE}`));
    expect(existsSync(file(c, LOG_FILE))).toBe(false);
    release();
    expect(existsSync(file(c, LOCK_FILE))).toBe(false);
    expect(train(c).step).toBe(40);
    expect(logText(c)).toBe(wholeLog);
    expect(existsSync(file(c, LOCK_FILE))).toBe(false); // released at the end
  });

  it('the CLI: exit 1, one line', async () => {
    const c = config();
    const cfg = join(tmp, 'locked.json');
    writeFileSync(cfg, JSON.stringify({ ...JSON.parse(JSON.stringify(c)), source: undefined }));
    mkdirSync(c.out, { recursive: true });
    const release = lockRunDir(c.out);
    try {
      const r = await capture(() => main(['train', cfg]));
      expect(r.code).toBe(1);
      expect(lines(r.stderr)).toHaveLength(1);
      expect(r.stderr).toMatch(/^memloss: .* is in use by another run \(pid \d+\)/);
      expect(r.stdout).toBe('');
    } finally {
      release();
    }
  });

  it('a lock left by a dead process is taken over; a live one on another host, or an unreadable one, is not', () => {
    const dead = spawnSync(process.execPath, ['-e', '']).pid!;
    const owners = [
      [{ pid: dead, host: hostname(), thread: 0 }, undefined],
      // our own pid and thread without holding it: a dead process whose pid we were given
      [{ pid: process.pid, host: hostname(), thread: threadId }, undefined],
      [{ pid: dead, host: 'elsewhere', thread: 0 }, `pid ${dead} on elsewhere`],
      ['', 'unreadable lock'],
    ] as const;
    for (const [owner, refusal] of owners) {
      const c = config();
      mkdirSync(c.out, { recursive: true });
      writeFileSync(file(c, LOCK_FILE), typeof owner === 'string' ? owner : JSON.stringify(owner));
      if (refusal) {
        expect(() => train(c)).toThrow(`is in use by another run (${refusal})`);
        expect(existsSync(file(c, LOG_FILE))).toBe(false);
      } else {
        expect(train(c).step).toBe(40);
        expect(existsSync(file(c, LOCK_FILE))).toBe(false);
      }
    }
  });

  it('a second sweep on the same directory is refused, and so is a sweep job whose run directory is in use (exit 1, one line)', async () => {
    const out = join(tmp, 'sweep-runs');
    const f = join(tmp, 'sweep.json');
    writeFileSync(f, JSON.stringify({
      name: 's', base: { data: { dir: dataDir, train: 60, test: 30, classes: 3 }, model: { hidden: 8 }, steps: 4 }, out, report: join(tmp, 's.md'),
      runs: [{ label: 'a', optimizer: { rule, h: 0.01 } }],
    }));
    mkdirSync(join(out, 'a-seed1'), { recursive: true });
    for (const [dir, message] of [
      [out, /^memloss: .*sweep-runs is in use by another run \(pid \d+\)/],
      [join(out, 'a-seed1'), /^memloss: job a-seed1: .*a-seed1 is in use by another run \(pid \d+\)/], // held by this thread, refused in the worker's
    ] as const) {
      const release = lockRunDir(dir);
      try {
        const r = await capture(() => main(['sweep', f]));
        expect(r.code).toBe(1);
        expect(lines(r.stderr)).toEqual([expect.stringMatching(message)]);
      } finally {
        release();
      }
    }
  });
});

describe('a disk that fills', () => {
  it('mid-line: one line naming the log; the torn tail is dropped on resume and the step computed again', () => {
    const c = interrupted();
    const before = logText(c);
    // the rewrite keeps 0, 5, 10 (shorter than now), line 15 fits, line 20 is cut
    expect(() => train(c, { resume: true, fileOps: fillingDisk(Buffer.byteLength(before) + 100) }))
      .toThrow(new RunError(`cannot write ${file(c, LOG_FILE)}: no space left on device`));
    const torn = logText(c);
    expect(torn.endsWith('\n')).toBe(false);
    expect(torn.startsWith(wholeLog.split('\n').slice(0, 4).join('\n'))).toBe(true);
    expect(readCheckpoint(file(c, CHECKPOINT_FILE))!.step).toBe(14);
    expectExactResume(c);
  });

  it('during a checkpoint: the previous checkpoint stays, no temporary file is left', () => {
    const c = interrupted();
    const ckpt = read(c, CHECKPOINT_FILE);
    // enough for the rewrite and two lines, not for the checkpoint after step 20
    expect(() => train(c, { resume: true, fileOps: fillingDisk(Buffer.byteLength(logText(c)) + 5000) }))
      .toThrow(new RunError(`cannot write ${file(c, CHECKPOINT_FILE)}: no space left on device`));
    expect(read(c, CHECKPOINT_FILE)).toEqual(ckpt);
    expect(existsSync(`${file(c, CHECKPOINT_FILE)}.tmp`)).toBe(false);
    expectExactResume(c);
  });

  it('during the log rewrite at resume: the log is left as it was', () => {
    const c = interrupted();
    const before = read(c, LOG_FILE);
    expect(() => train(c, { resume: true, fileOps: fillingDisk(10) })).toThrow(`cannot write ${file(c, LOG_FILE)}: no space left on device`);
    expect(read(c, LOG_FILE)).toEqual(before);
    expectExactResume(c);
  });

  it('other write errors read the same way: EIO on fsync, EDQUOT on write', () => {
    const c = config();
    const failing = (code: string, on: 'write' | 'fsync'): FileOps => ({ ...NODE_FILE_OPS, [on]: () => { throw systemError(code, on); } });
    expect(() => train(c, { fileOps: failing('EIO', 'fsync') })).toThrow(`cannot write ${file(c, LOG_FILE)}: input/output error`);
    expect(() => train(c, { fileOps: failing('EDQUOT', 'write') })).toThrow(`cannot write ${file(c, LOG_FILE)}: disk quota exceeded`);
  });

  it('the CLI: exit 1 and one line, no stack; result.json is not written', async () => {
    const c = interrupted();
    const cfg = join(tmp, 'full.json');
    writeFileSync(cfg, JSON.stringify({ ...JSON.parse(JSON.stringify(c)), source: undefined }));
    const r = await capture(() => trainCommand({ config: cfg, resume: true, cancelMemoryTerm: false }, { out: () => {}, err: (t) => process.stderr.write(t) }, { fileOps: fillingDisk(Buffer.byteLength(logText(c)) + 100) }));
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`memloss: cannot write ${file(c, LOG_FILE)}: no space left on device\n`);
    expect(hasStackFrame(r.stderr)).toBe(false);
    expect(existsSync(file(c, RESULT_FILE))).toBe(false);
  });
});

describe('a kill during the log rewrite at resume', () => {
  it('the old log survives (written to a temporary file first); the next resume is exact', () => {
    const c = interrupted();
    const before = read(c, LOG_FILE);
    // "killed" after the temporary file was written and synced, before the rename
    const killed: FileOps = {
      ...NODE_FILE_OPS,
      rename(from, to) {
        if (to.endsWith(LOG_FILE)) throw new Error('killed');
        NODE_FILE_OPS.rename(from, to);
      },
    };
    expect(() => train(c, { resume: true, fileOps: killed })).toThrow('killed');
    expect(read(c, LOG_FILE)).toEqual(before);
    writeFileSync(`${file(c, LOG_FILE)}.tmp`, '{"step":0'); // what a real kill would leave
    expectExactResume(c);
    expect(existsSync(`${file(c, LOG_FILE)}.tmp`)).toBe(false);
  });

  it('a log that lost its lines (as the old truncating rewrite could leave) is refused, not resumed', () => {
    const c = interrupted();
    writeFileSync(file(c, LOG_FILE), '');
    expectRefusal(c, () => train(c, { resume: true }), /log\.jsonl does not fit the checkpoint at step 14: the line of step 0 is missing; start over without --resume$/);
    // lines out of order (two runs writing at once, before the lock)
    const l = wholeLog.split('\n');
    writeFileSync(file(c, LOG_FILE), [l[0], l[2], l[1], ''].join('\n'));
    expectRefusal(c, () => train(c, { resume: true }), /line 2 is step 10 where step 5 belongs/);
    writeFileSync(file(c, LOG_FILE), [l[0], 'garbage', ''].join('\n'));
    expectRefusal(c, () => train(c, { resume: true }), /line 2 is not a log line/);
  });
});

describe('resume refuses what does not belong to the checkpoint', () => {
  it('a smaller steps, naming both step counts; result.json and the log stay', () => {
    const c = config();
    trainAndRecord(c);
    const result = read(c, RESULT_FILE);
    expectRefusal(c, () => trainAndRecord({ ...c, steps: 20 }, { resume: true }), /^cannot resume from .*checkpoint\.bin: it is at step 40 but test\.json has steps = 20; a resumed run cannot be shorter/);
    expect(read(c, RESULT_FILE)).toEqual(result);
  });

  it('an edited rule file, naming it; the restored file resumes exactly', () => {
    const c = interrupted();
    const text = readFileSync(rule, 'utf8');
    writeFileSync(rule, text.replace('param beta1 = 0.9', 'param beta1 = 0.8'));
    try {
      expectRefusal(c, () => train(c, { resume: true }), /^cannot resume from .*checkpoint\.bin: the rule file .*adamw\.rule changed since \(sha256 [0-9a-f]{12}… then, [0-9a-f]{12}… now\); restore it or start over without --resume$/);
    } finally {
      writeFileSync(rule, text);
    }
    expectExactResume(c);
  });

  it('changed data files, naming the directory', () => {
    const dir = join(tmp, 'data2');
    writeTinyIdx(dir);
    const c = interrupted({ data: { dir, train: 60, test: 30, classes: 3 } });
    writeTinyIdx(dir, 60, 30, 2);
    expectRefusal(c, () => train(c, { resume: true }), /the data in .*data2 changed since \(sha256 of the loaded images and labels [0-9a-f]{12}… then, [0-9a-f]{12}… now\)/);
  });

  it('another configuration, naming the keys that differ', () => {
    const c = interrupted();
    expectRefusal(c, () => train({ ...c, optimizer: { ...c.optimizer, h: 0.02 } }, { resume: true }), /different configuration \(optimizer\.h: 0\.01 then, 0\.02 now; only 'steps' and 'out' may change on --resume\)/);
  });

  it('the CLI: an edited rule file is exit 1, one line', async () => {
    const c = interrupted();
    const cfg = join(tmp, 'edited.json');
    writeFileSync(cfg, JSON.stringify({ ...JSON.parse(JSON.stringify(c)), source: undefined }));
    const text = readFileSync(rule, 'utf8');
    writeFileSync(rule, `${text}\n`);
    try {
      const r = await capture(() => main(['train', cfg, '--resume']));
      expect(r.code).toBe(1);
      expect(lines(r.stderr)).toEqual([expect.stringMatching(/^memloss: cannot resume from .*: the rule file .* changed since/)]);
    } finally {
      writeFileSync(rule, text);
    }
  });
});

describe('a damaged checkpoint', () => {
  const ckptOf = (c: TrainConfig) => file(c, CHECKPOINT_FILE);

  it('a flipped byte, an edited header, a truncated file, an old format: refused by the checksum', () => {
    const c = interrupted();
    const good = read(c, CHECKPOINT_FILE);
    const damage = [
      (b: Buffer) => { b[b.length - 500] = b[b.length - 500]! ^ 0x01; return b; },
      (b: Buffer) => { b.write('"step":-5', b.indexOf('"step":14')); return b; }, // same length: only the checksum sees it
      (b: Buffer) => b.subarray(0, b.length - 100),
    ];
    for (const d of damage) {
      writeFileSync(ckptOf(c), d(Buffer.from(good)));
      expectRefusal(c, () => train(c, { resume: true }), /checkpoint\.bin: not a usable checkpoint \((checksum mismatch: the file was changed or damaged after it was written|truncated)\); delete it to start over$/);
    }
    writeFileSync(ckptOf(c), Buffer.concat([Buffer.from('memloss-checkpoint 1\n'), good.subarray(21)]));
    expectRefusal(c, () => train(c, { resume: true }), /written by an earlier memloss, without a checksum/);
    writeFileSync(ckptOf(c), good);
    expectExactResume(c);
  });

  it('a header that is wrong though its checksum is right: step -50, n ≠ step, past the end, arrays that do not fit the model', () => {
    const c = interrupted();
    const good = read(c, CHECKPOINT_FILE);
    const ck = readCheckpoint(ckptOf(c))!;
    const cases = [
      [{ ...ck, step: -50 }, /header: step -50 is not a non-negative integer/],
      [{ ...ck, step: 2.5 }, /header: step 2\.5 is not a non-negative integer/],
      [{ ...ck, n: 13 }, /header: optimizer step index 13 is not the step 14/],
      [{ ...ck, step: 1000, n: 1000 }, /it is at step 1000 but test\.json has steps = 40/],
      [{ ...ck, arrays: { ...ck.arrays, theta: ck.arrays['theta']!.subarray(1) } }, /its array theta holds \d+ numbers, the model needs \d+/],
      [{ ...ck, arrays: { theta: ck.arrays['theta']! } }, /it has no array state\.m/],
      [{ ...ck, arrays: { ...ck.arrays, 'state.w': ck.arrays['theta']! } }, /it has an array state\.w that this rule does not/],
    ] as const;
    for (const [bad, message] of cases) {
      writeFileSync(ckptOf(c), encodeCheckpoint(bad));
      expectRefusal(c, () => train(c, { resume: true }), message);
    }
    writeFileSync(ckptOf(c), good);
    expectExactResume(c);
  });

  it('the CLI: exit 1, one line', async () => {
    const c = interrupted();
    const cfg = join(tmp, 'damaged.json');
    writeFileSync(cfg, JSON.stringify({ ...JSON.parse(JSON.stringify(c)), source: undefined }));
    const b = read(c, CHECKPOINT_FILE);
    b[100] = b[100]! ^ 0x80;
    writeFileSync(ckptOf(c), b);
    const r = await capture(() => main(['train', cfg, '--resume']));
    expect(r.code).toBe(1);
    expect(lines(r.stderr)).toEqual([expect.stringMatching(/^memloss: .*checkpoint\.bin: not a usable checkpoint \(checksum mismatch/)]);
    expect(hasStackFrame(r.stderr)).toBe(false);
  });
});
