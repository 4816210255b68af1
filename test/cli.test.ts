/**
 * The CLI with the real stages, in-process through main() and twice as a real subprocess.
 * Tests marked "(engine)" need derive() and the emitters; the others stop before derive().
 */
import { spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { main } from '../src/cli.js';
import { capture, hasStackFrame, lines } from './capture.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const BIN = join(ROOT, 'bin', 'memloss.js');
const VERSION = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;

const tmp = mkdtempSync(join(tmpdir(), 'memloss-cli-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** A rule whose third line misspells beta as betta. */
const MISSPELLED = [
  'optimizer Misspelled',
  'param beta = 0.9 in (0, 1)',
  'state m = beta * m + (1 - betta) * g',
  'update m',
  '',
].join('\n');
writeFileSync(join(tmp, 'x.rule'), MISSPELLED);

/**
 * Runs `node bin/memloss.js` through tsx on the sources (MEMLOSS_FROM_SOURCE=1, so a stale
 * dist/ cannot answer). stdin stays open and unwritten: reading it would hang until the kill.
 */
function runBin(args: readonly string[], cwd: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      cwd,
      env: { ...process.env, MEMLOSS_FROM_SOURCE: '1', MEMLOSS_DEBUG: '' },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b: Buffer) => (stdout += b.toString('utf8')));
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString('utf8')));
    const timer = setTimeout(() => child.kill('SIGKILL'), 80_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

describe('usage errors exit 2', () => {
  it.each([
    ['no command', []],
    ['unknown command', ['frob']],
    ['missing rule argument', ['derive']],
    ['unknown option', ['derive', 'rules/adamw.rule', '--bogus']],
    ['extra positional', ['derive', 'rules/adamw.rule', 'rules/adam.rule']],
    ['bad --format', ['derive', 'rules/adamw.rule', '--format', 'pdf']],
    ['--limit without a value', ['derive', 'rules/adamw.rule', '--limit']],
    ['unknown build option', ['build', '--chek']],
  ])('%s', async (_, args) => {
    const r = await capture(() => main(args));
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^memloss: /);
    expect(r.stderr).toContain('--help');
    expect(hasStackFrame(r.stderr)).toBe(false);
  });
});

describe('--help and --version exit 0', () => {
  it.each([
    [[], 'memloss derive <rule>'],
    [['derive'], '--exact-n'],
    [['build'], '--check'],
  ])('%j --help', async (command, expected) => {
    const r = await capture(() => main([...command, '--help']));
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(expected);
    expect(r.stderr).toBe('');
  });

  it('--version prints the package version', async () => {
    const r = await capture(() => main(['--version']));
    expect(r).toEqual({ code: 0, stdout: `${VERSION}\n`, stderr: '' });
  });
});

describe('rule errors exit 1 with located one-line diagnostics', () => {
  it('a misspelled symbol: one line with a "did you mean", no stack', async () => {
    const cwd = process.cwd();
    process.chdir(tmp);
    try {
      const r = await capture(() => main(['derive', 'x.rule']));
      expect(r.code).toBe(1);
      expect(r.stdout).toBe('');
      expect(lines(r.stderr)).toHaveLength(1);
      expect(r.stderr).toMatch(/^x\.rule:\d+:\d+: .*did you mean/);
      expect(r.stderr).toContain('x.rule:3:');
      expect(hasStackFrame(r.stderr)).toBe(false);
    } finally {
      process.chdir(cwd);
    }
  });

  it('an unreadable file: one line naming it', async () => {
    const r = await capture(() => main(['derive', join(tmp, 'no-such.rule')]));
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`memloss: cannot read ${join(tmp, 'no-such.rule')}: no such file or directory\n`);
  });

  it('an unknown --limit parameter: one located line with a hint', async () => {
    const r = await capture(() => main(['derive', 'rules/adamw.rule', '--limit', 'lambda,epss']));
    expect(r.code).toBe(1);
    expect(lines(r.stderr)).toHaveLength(1);
    expect(r.stderr).toMatch(/^rules\/adamw\.rule:\d+:\d+: --limit 'epss' is not a parameter of AdamW; did you mean 'eps'\?.*\[rule\/limit\]$/m);
  });

  it('(engine) Adagrad is rejected: its memory does not decay', async () => {
    const r = await capture(() => main(['derive', 'rules/rejected/adagrad.rule']));
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(lines(r.stderr)).toHaveLength(1);
    expect(r.stderr).toMatch(/^rules\/rejected\/adagrad\.rule:\d+:\d+: .*memory does not decay.*\[rule\/memory-not-decaying\]\n$/);
    expect(hasStackFrame(r.stderr)).toBe(false);
  });
});

describe('derive (engine)', () => {
  it.each(['text', 'json', 'latex', 'html', 'md'])('AdamW as %s', async (format) => {
    const r = await capture(() => main(['derive', 'rules/adamw.rule', '--format', format]));
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout.trim().length).toBeGreaterThan(0);
    if (format === 'json') expect(() => JSON.parse(r.stdout)).not.toThrow();
  });

  it('--exact-n derives and shows the exact finite-n regime', async () => {
    const r = await capture(() => main(['derive', 'rules/heavy-ball.rule', '--exact-n', '--format', 'json']));
    expect(r.code).toBe(0);
    const json = JSON.parse(r.stdout) as { regime: { shown: string; unavailable: string | null } };
    expect(json.regime).toMatchObject({ shown: 'exact-n', unavailable: null });
  });

  it('-o writes to the file exactly what stdout would show', async () => {
    const file = join(tmp, 'adamw.tex');
    const toFile = await capture(() => main(['derive', 'rules/adamw.rule', '--format', 'latex', '-o', file]));
    expect(toFile).toEqual({ code: 0, stdout: '', stderr: '' });
    const toStdout = await capture(() => main(['derive', 'rules/adamw.rule', '--format', 'latex']));
    expect(readFileSync(file, 'utf8')).toBe(toStdout.stdout);
  });
});

describe('build (engine)', () => {
  it('derives the top-level rules only, and --check detects a modified file', async () => {
    const rules = join(tmp, 'build', 'rules');
    const out = join(tmp, 'build', 'derivations');
    mkdirSync(join(rules, 'rejected'), { recursive: true });
    for (const name of ['heavy-ball', 'gd']) cpSync(join(ROOT, 'rules', `${name}.rule`), join(rules, `${name}.rule`));
    cpSync(join(ROOT, 'rules', 'rejected', 'adagrad.rule'), join(rules, 'rejected', 'adagrad.rule'));

    const built = await capture(() => main(['build', '--rules', rules, '--out', out]));
    expect(built.stderr).toBe('');
    expect(built.code).toBe(0);
    expect(lines(built.stdout).map((l) => l.replace(/\d+/g, 'N'))).toEqual(['gd: N ms (verification N ms)', 'heavy-ball: N ms (verification N ms)']);
    for (const name of ['gd', 'heavy-ball'])
      for (const f of ['derivation.json', 'derivation.tex', 'derivation.html']) expect(existsSync(join(out, name, f))).toBe(true);
    expect(existsSync(join(out, 'adagrad'))).toBe(false);

    const clean = await capture(() => main(['build', '--rules', rules, '--out', out, '--check']));
    expect(clean.stderr).toBe('');
    expect(clean.code).toBe(0);

    const tex = join(out, 'heavy-ball', 'derivation.tex');
    writeFileSync(tex, `${readFileSync(tex, 'utf8')}% edited by hand\n`);
    const stale = await capture(() => main(['build', '--rules', rules, '--out', out, '--check']));
    expect(stale.code).toBe(1);
    expect(stale.stderr).toContain(`${tex} is stale`);
    expect(stale.stderr).not.toContain('derivation.json');
  }, 120_000);
});

describe('the bin, as a subprocess (tsx on the sources)', () => {
  it('a misspelled symbol: exit 1, one located line, no stack', async () => {
    const r = await runBin(['derive', 'x.rule'], tmp);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(lines(r.stderr)).toHaveLength(1);
    expect(r.stderr).toMatch(/^x\.rule:\d+:\d+: .*did you mean/);
    expect(hasStackFrame(r.stderr)).toBe(false);
  }, 90_000);

  it('an unknown option: exit 2', async () => {
    const r = await runBin(['derive', 'x.rule', '--bogus'], tmp);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^memloss: Unknown argument: bogus/);
  }, 90_000);
});
