/**
 * Issue 18, items 14-16 and 18: every input gets a clean answer from the commands: one line
 * on stderr and exit 1 (or 2 for usage), never exit 3, a stack trace or a hang. Most run
 * in-process through main(); output to a full disk needs the real process.
 */
import { spawn } from 'node:child_process';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, openSync, closeSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { main } from '../src/cli.js';
import { antiderivative } from '../src/cas/nerdamer.js';
import * as E from '../src/ir/expr.js';
import { capture, hasStackFrame, lines } from './capture.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const tmp = mkdtempSync(join(tmpdir(), 'memloss-input-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const file = (name: string, text: string) => {
  const p = join(tmp, name);
  writeFileSync(p, text);
  return p;
};

/** Runs the CLI in-process and checks the answer is clean: the code, and one stderr line matching. */
async function clean(args: string[], code: number, pattern: RegExp) {
  const t0 = performance.now();
  const r = await capture(() => main(args));
  expect(r.code, r.stderr).toBe(code);
  expect(hasStackFrame(r.stderr)).toBe(false);
  expect(lines(r.stderr)[0]).toMatch(pattern);
  // usage errors add the line "Run 'memloss … --help' for usage."
  expect(lines(r.stderr).length).toBe(code === 2 ? 2 : 1);
  expect(performance.now() - t0).toBeLessThan(10_000);
  return r;
}

describe('rule files that are not regular files, or too large', () => {
  it('a FIFO is refused without opening it (opening would block)', async () => {
    const fifo = join(tmp, 'fifo.rule');
    execFileSync('mkfifo', [fifo]);
    await clean(['derive', fifo], 1, /^memloss: cannot read .*fifo\.rule: not a regular file \(a FIFO\)$/);
  });

  it('/dev/zero is refused (reading it never ends)', async () => {
    await clean(['derive', '/dev/zero'], 1, /^memloss: cannot read \/dev\/zero: not a regular file \(a character device\)$/);
  });

  it('a directory and a dangling symlink', async () => {
    await clean(['codegen', tmp], 1, /cannot read .*: is a directory$/);
    const link = join(tmp, 'dangling.rule');
    symlinkSync(join(tmp, 'nowhere'), link);
    await clean(['derive', link], 1, /cannot read .*dangling\.rule: no such file or directory$/);
  });

  it('a file over 1 MiB is refused at its first line, with the limit', async () => {
    const big = file('big.rule', `optimizer Big\nupdate g\n${'#'.repeat(2_000_000)}\n`);
    await clean(['validate', big], 1, /^.*big\.rule:1:1: a rule file may have at most 1048576 bytes; this one has 2000024 \[rule\/too-large\]$/);
  });

  it('build: a dangling symlink among the rules is one line, exit 1', async () => {
    const rules = join(tmp, 'rules');
    const out = join(tmp, 'out');
    mkdirSync(rules);
    mkdirSync(out);
    writeFileSync(join(rules, 'gd.rule'), 'optimizer GD\nupdate g\n');
    symlinkSync(join(tmp, 'nowhere'), join(rules, 'gone.rule'));
    const r = await capture(() => main(['build', '--rules', rules, '--out', out]));
    expect(r.code).toBe(1);
    expect(lines(r.stderr)).toEqual([expect.stringMatching(/^memloss: .*gone\.rule is a symbolic link to nothing \(no such file or directory\); remove it or point it at a file$/)]);
  });
});

describe('user errors that were internal errors (exit 3)', () => {
  it.each([
    ['g/0', 'update g/0', /x\.rule:2:9: division by zero/],
    ['1/(b-b)', 'param b = 0.5 in (0, 1)\nupdate 1/(b-b) * g', /x\.rule:3:9: division by zero/],
    ['1e400', 'update g * 1e400', /too large/],
    ['sqrt(-1)', 'update g * sqrt(-1)', /not a real number/],
    ['3000 nested parentheses', `update ${'('.repeat(3000)}g${')'.repeat(3000)}`, /at most 1000 tokens/],
  ])('%s', async (_, body, pattern) => {
    const rule = file('x.rule', `optimizer X\n${body}\n`);
    await clean(['derive', rule], 1, pattern);
  });

  it('1e39 in a rule given to --target wgsl: no f32 value (rule/f32-range)', async () => {
    const rule = file('big-constant.rule', 'optimizer X\nupdate g * 1e39\n');
    await clean(['codegen', rule, '--target', 'wgsl'], 1, /big-constant\.rule:2:8: the constant 1e\+39 has no f32 value \(WGSL computes in f32, up to about 3\.4e38\) \[rule\/f32-range\]$/);
    // the TypeScript module computes in f64 and takes it
    expect((await capture(() => main(['codegen', rule]))).code).toBe(0);
  });

  it('train: an out that is a file, or lies in one, is a mistake in the config (exit 2)', async () => {
    const passwd = file('passwd', 'root:x:0:0\n');
    for (const out of [passwd, join(passwd, 'run')]) {
      const config = file('train.json', JSON.stringify({ name: 'r', optimizer: { rule: 'rules/gd.rule', h: 0.1 }, steps: 1, out }));
      const r = await capture(() => main(['train', config]));
      expect(r.code).toBe(2);
      expect(lines(r.stderr)).toEqual([`memloss: ${config}: key 'out' must name a directory, but ${passwd} is a file`]);
    }
  });

  it('train: a FIFO as the rule file is refused, not waited on', async () => {
    const fifo = join(tmp, 'train-fifo.rule');
    execFileSync('mkfifo', [fifo]);
    const config = file('train-fifo.json', JSON.stringify({ name: 'r', optimizer: { rule: fifo, h: 0.1 }, steps: 1, out: join(tmp, 'run') }));
    const r = await capture(() => main(['train', config]));
    expect(r.code).toBe(2);
    expect(lines(r.stderr)).toEqual([expect.stringMatching(/key 'optimizer\.rule': cannot read rule file .*train-fifo\.rule: not a regular file \(a FIFO\)$/)]);
  });
});

describe('validate: every run is bounded', () => {
  it.each([
    [['--horizon', '1e9'], /^memloss: horizon 1000000000 with step sizes 0\.02, 0\.01, 0\.005, 0\.0025 makes 750000000000 steps per problem; the limit is 1000000/],
    [['--h', '1e-12,2e-12'], /makes 3000000000000 steps per problem; the limit is 1000000/],
    [['--horizon', '1e300', '--h', '1e-300,2e-300'], /makes Infinity steps per problem/],
    [['--problem', ','], /^memloss: --problem names no problem; choose from /],
  ])('%j is a usage error', async (extra, pattern) => {
    await clean(['validate', 'rules/gd.rule', ...extra], 2, pattern);
  });
});

describe('nerdamer stays quiet', () => {
  it('an integral it cannot compute prints nothing (the answer is undefined)', () => {
    const writes = vi.spyOn(process.stderr, 'write');
    const warn = vi.spyOn(console, 'warn');
    const log = vi.spyOn(console, 'log');
    try {
      const g = E.sym('g');
      for (const e of [E.call('exp', E.pow(g, E.num(2))), E.sqrt(E.add(E.ONE, E.pow(g, E.num(4)))), E.div(g, E.call('log', g))])
        expect(antiderivative(e, 'g')).toBeUndefined();
      expect(writes).not.toHaveBeenCalled();
      expect(warn).not.toHaveBeenCalled();
      expect(log).not.toHaveBeenCalled();
    } finally {
      writes.mockRestore();
      warn.mockRestore();
      log.mockRestore();
    }
  });
});

/** The real command on the sources, with stdout sent to `stdout` ('pipe' or a file descriptor). */
function runBin(args: readonly string[], stdout: 'pipe' | number, onStdout?: (child: ReturnType<typeof spawn>) => void) {
  return new Promise<{ code: number | null; stderr: string }>((resolve, reject) => {
    const child = spawn(process.execPath, [join(ROOT, 'bin', 'memloss.js'), ...args], {
      cwd: ROOT, env: { ...process.env, MEMLOSS_FROM_SOURCE: '1', MEMLOSS_DEBUG: '' }, stdio: ['ignore', stdout, 'pipe'],
    });
    let stderr = '';
    child.stderr!.on('data', (b: Buffer) => (stderr += b.toString('utf8')));
    onStdout?.(child);
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stderr });
    });
  });
}

describe('write errors on stdout', () => {
  it.runIf(existsSync('/dev/full'))('derive > /dev/full: one line and exit 1, no stack', async () => {
    const full = openSync('/dev/full', 'w');
    try {
      const r = await runBin(['derive', 'rules/adam.rule'], full);
      expect(r.code).toBe(1);
      expect(r.stderr).toBe('memloss: cannot write to standard output: no space left on device\n');
    } finally {
      closeSync(full);
    }
  });

  it('a closed pipe (memloss … | head -1) ends quietly', async () => {
    const r = await runBin(['codegen', 'rules/adam.rule'], 'pipe', (child) => child.stdout!.once('data', () => child.stdout!.destroy()));
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
  });
});
