/**
 * Two `memloss train` processes on one run directory (the bin through tsx on the sources):
 * while the first holds the directory the second is refused with one line and exit 1, and
 * the first's log is that of a run alone; after a kill -9 its stale lock is taken over and
 * --resume continues bit for bit. The first run is paused (SIGSTOP) while the second tries,
 * so the overlap does not depend on timing.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseTrainConfig } from '../../src/train/config.js';
import { LOCK_FILE } from '../../src/train/lock.js';
import { LOG_FILE, train } from '../../src/train/train.js';
import { hasStackFrame, lines } from '../capture.js';
import { writeTinyIdx } from './fixtures.js';

const BIN = resolve('bin/memloss.js');
const tmp = mkdtempSync(join(tmpdir(), 'memloss-concurrent-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const dataDir = join(tmp, 'data');
writeTinyIdx(dataDir);

// long enough (a second or more) that the test can pause it after its first line
const json = (out: string) => ({
  name: 'c', data: { dir: dataDir, train: 60, test: 30, classes: 3 }, model: { hidden: 32 },
  optimizer: { rule: resolve('rules/adamw.rule'), h: 0.01 }, steps: 6000, logEvery: 500, checkpointEvery: 250, out,
});
const cfgFile = join(tmp, 'c.json');
const out = join(tmp, 'run');
writeFileSync(cfgFile, JSON.stringify(json(out)));

interface Child { readonly proc: ChildProcess; readonly done: Promise<{ code: number | null; signal: string | null; stdout: string; stderr: string }>; readonly stdout: () => string }

function memloss(args: readonly string[]): Child {
  const proc = spawn(process.execPath, [BIN, ...args], { env: { ...process.env, MEMLOSS_FROM_SOURCE: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '', stderr = '';
  proc.stdout!.on('data', (b: Buffer) => (stdout += b.toString('utf8')));
  proc.stderr!.on('data', (b: Buffer) => (stderr += b.toString('utf8')));
  const timer = setTimeout(() => proc.kill('SIGKILL'), 50_000);
  const done = new Promise<{ code: number | null; signal: string | null; stdout: string; stderr: string }>((res, rej) => {
    proc.on('error', rej);
    proc.on('close', (code, signal) => {
      clearTimeout(timer);
      res({ code, signal, stdout, stderr });
    });
  });
  return { proc, done, stdout: () => stdout };
}

/** Resolves once the child has printed the log line of `step`. */
function printed(c: Child, step: number): Promise<void> {
  return new Promise((res, rej) => {
    const check = () => {
      if (c.stdout().includes(`{"step":${step},`)) {
        c.proc.stdout!.off('data', check);
        res();
      }
    };
    c.proc.stdout!.on('data', check);
    c.proc.on('close', () => rej(new Error(`ended before step ${step}`)));
    check();
  });
}

describe('two memloss train on one directory', () => {
  // the same run in this process, alone
  const alone = parseTrainConfig(json(join(tmp, 'alone')), 'c.json');
  train(alone);
  const aloneLog = readFileSync(join(alone.out, LOG_FILE), 'utf8');

  it('the second is refused (exit 1, one line naming the first pid); the first ends as if alone', async () => {
    const first = memloss(['train', cfgFile]);
    await printed(first, 0);
    first.proc.kill('SIGSTOP');
    try {
      const second = await memloss(['train', cfgFile]).done;
      expect(second.code).toBe(1);
      expect(lines(second.stderr)).toEqual([expect.stringMatching(new RegExp(`^memloss: .*run is in use by another run \\(pid ${first.proc.pid}\\)`))]);
      expect(hasStackFrame(second.stderr)).toBe(false);
      expect(second.stdout).toBe('');
    } finally {
      first.proc.kill('SIGCONT');
    }
    const r = await first.done;
    expect(r.code).toBe(0);
    expect(readFileSync(join(out, LOG_FILE), 'utf8')).toBe(aloneLog);
    expect(existsSync(join(out, LOCK_FILE))).toBe(false);
  }, 55_000);

  it('after kill -9 the stale lock is taken over and --resume is bit-exact', async () => {
    const first = memloss(['train', cfgFile]);
    await printed(first, 1000);
    first.proc.kill('SIGKILL');
    expect((await first.done).signal).toBe('SIGKILL');
    expect(JSON.parse(readFileSync(join(out, LOCK_FILE), 'utf8')).pid).toBe(first.proc.pid);
    const resumed = await memloss(['train', cfgFile, '--resume']).done;
    expect(resumed.code).toBe(0);
    expect(JSON.parse(lines(resumed.stdout)[0]!).step).toBeGreaterThanOrEqual(1000);
    expect(readFileSync(join(out, LOG_FILE), 'utf8')).toBe(aloneLog);
  }, 55_000);
});
