/**
 * The CLI's wiring with derive() and the emitters replaced by stand-ins: which stage gets
 * which arguments, exit codes per failure kind, and build's write/--check logic. These run
 * without the engine; test/cli.test.ts runs the same paths on the real stages.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Derivation, DeriveOptions } from '../src/derive/types.js';
import type { Rule } from '../src/ir/rule.js';
import { InternalError, RuleError } from '../src/ir/diagnostics.js';
import { main } from '../src/cli.js';
import { capture, hasStackFrame, lines } from './capture.js';

const stage = vi.hoisted(() => {
  /** A stand-in Derivation: only what the stand-in emitters read. */
  const derive = (rule: { name: string }, options?: { limits?: readonly string[] }) =>
    ({ rule, limits: options?.limits ?? [] }) as unknown;
  /** Each stand-in emitter prints its format, the rule, the regime and the limits. */
  const emitter = (format: string) => (d: { rule: { name: string }; limits: readonly string[] }, regime: string) =>
    `${format} ${d.rule.name} ${regime} [${d.limits.join(',')}]`;
  /** The stand-in code generator prints the rule's name. */
  const emitTs = (r: { name: string }) => `// module of ${r.name}\n`;
  return { derive, emitter, emitTs };
});

vi.mock('../src/derive/index.js', () => ({ derive: vi.fn(stage.derive) }));
vi.mock('../src/emit/text.js', () => ({ emitText: stage.emitter('text') }));
vi.mock('../src/emit/json.js', () => ({ emitJson: stage.emitter('json') }));
vi.mock('../src/emit/latex.js', () => ({ emitLatex: stage.emitter('latex') }));
vi.mock('../src/emit/html.js', () => ({ emitHtml: stage.emitter('html') }));
vi.mock('../src/emit/markdown.js', () => ({ emitMarkdown: stage.emitter('md') }));
vi.mock('../src/emit/ts.js', () => ({ emitTs: stage.emitTs }));

const { derive } = await import('../src/derive/index.js');
const deriveMock = vi.mocked(derive);

const tmp = mkdtempSync(join(tmpdir(), 'memloss-wiring-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
beforeEach(() => {
  deriveMock.mockReset();
  deriveMock.mockImplementation(stage.derive as (rule: Rule, options?: DeriveOptions) => Derivation);
});

const rule = (name: string, extra = '') => `optimizer ${name}\nparam beta = 0.9 in (0, 1)\n${extra}state m = beta * m + g\nupdate m\n`;
const write = (path: string, text: string) => {
  mkdirSync(join(path, '..'), { recursive: true });
  writeFileSync(path, text);
};
write(join(tmp, 'a.rule'), rule('A', 'param eps = 1e-8 in [0, inf)\nparam gamma = 0.7 in (0.5, 1)\n'));

describe('derive', () => {
  it('passes --limit (repeated and comma lists, duplicates dropped) and --exact-n on to the stages', async () => {
    const r = await capture(() => main(['derive', join(tmp, 'a.rule'), '--limit', 'eps,beta', '--limit', 'eps', '--exact-n', '--format', 'md']));
    expect(r).toEqual({ code: 0, stdout: 'md A exact-n [eps,beta]\n', stderr: '' });
    expect(deriveMock).toHaveBeenCalledTimes(1);
    expect(deriveMock.mock.calls[0]![1]).toEqual({ limits: ['eps', 'beta'], exactN: true, verify: true });
  });

  it.each([['text'], ['json'], ['latex'], ['html'], ['md']] as const)('--format %s picks its emitter, asymptotic by default', async (format) => {
    const r = await capture(() => main(['derive', join(tmp, 'a.rule'), '--format', format]));
    expect(r.stdout).toBe(`${format} A asymptotic []\n`);
    expect(deriveMock.mock.calls[0]![1]).toEqual({ limits: [], exactN: false, verify: true });
  });

  it('-o writes the file and nothing to stdout', async () => {
    const file = join(tmp, 'out.txt');
    const r = await capture(() => main(['derive', join(tmp, 'a.rule'), '-o', file]));
    expect(r).toEqual({ code: 0, stdout: '', stderr: '' });
    expect(readFileSync(file, 'utf8')).toBe('text A asymptotic []\n');
  });

  it('-o into a missing folder: one line, exit 1', async () => {
    const file = join(tmp, 'no', 'such', 'dir', 'out.txt');
    const r = await capture(() => main(['derive', join(tmp, 'a.rule'), '-o', file]));
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`memloss: cannot write ${file}: no such file or directory\n`);
  });

  it('a RuleError from derive: each diagnostic on its own line, exit 1', async () => {
    deriveMock.mockImplementation((r: Rule) => {
      throw new RuleError([
        { code: 'rule/memory-not-decaying', span: r.states[0]!.span, message: 'memory does not decay' },
        { code: 'rule/cannot-derive', span: r.updateSpan, message: 'second\nline folded' },
      ]);
    });
    const r = await capture(() => main(['derive', join(tmp, 'a.rule')]));
    expect(r.code).toBe(1);
    expect(lines(r.stderr)).toEqual([
      `${join(tmp, 'a.rule')}:5:7: memory does not decay [rule/memory-not-decaying]`,
      `${join(tmp, 'a.rule')}:6:8: second line folded [rule/cannot-derive]`,
    ]);
  });
});

describe('internal errors exit 3', () => {
  const fail = (e: Error) => deriveMock.mockImplementation(() => { throw e; });

  it('InternalError: one line asking for a report, no stack', async () => {
    fail(new InternalError('rewrite "factor" failed its random-point check'));
    const r = await capture(() => main(['derive', join(tmp, 'a.rule')]));
    expect(r.code).toBe(3);
    expect(r.stderr).toBe('memloss: internal error: rewrite "factor" failed its random-point check; please report\n');
  });

  it('any other exception is an internal error too', async () => {
    fail(new TypeError("cannot read properties of undefined (reading 'kind')"));
    const r = await capture(() => main(['derive', join(tmp, 'a.rule')]));
    expect(r.code).toBe(3);
    expect(lines(r.stderr)).toEqual(["memloss: internal error: cannot read properties of undefined (reading 'kind'); please report"]);
    expect(hasStackFrame(r.stderr)).toBe(false);
  });

  it('MEMLOSS_DEBUG=1 adds the stack', async () => {
    fail(new InternalError('broken'));
    vi.stubEnv('MEMLOSS_DEBUG', '1');
    try {
      const r = await capture(() => main(['derive', join(tmp, 'a.rule')]));
      expect(r.code).toBe(3);
      expect(lines(r.stderr)[0]).toBe('memloss: internal error: broken; please report');
      expect(hasStackFrame(r.stderr)).toBe(true);
    } finally {
      vi.unstubAllEnvs();
    }
  });
});

describe('build', () => {
  const files = (dir: string) => readdirSync(dir, { recursive: true, encoding: 'utf8' }).map((f) => f.split('\\').join('/')).sort();
  let n = 0;
  /** A fresh rules folder with two rules and a subfolder that build must skip. */
  const setup = () => {
    const dir = join(tmp, `build-${n++}`);
    write(join(dir, 'rules', 'zeta.rule'), rule('Zeta'));
    write(join(dir, 'rules', 'alpha.rule'), rule('Alpha'));
    write(join(dir, 'rules', 'notes.txt'), 'not a rule');
    write(join(dir, 'rules', 'rejected', 'skipped.rule'), rule('Skipped'));
    return { rules: join(dir, 'rules'), out: join(dir, 'derivations') };
  };
  const build = (d: { rules: string; out: string }, ...more: string[]) =>
    capture(() => main(['build', '--rules', d.rules, '--out', d.out, ...more]));

  it('writes json, tex, html and the module per top-level rule, in sorted order, asymptotic', async () => {
    const d = setup();
    const r = await build(d);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(lines(r.stdout).map((l) => l.replace(/\d+ ms$/, 'N ms'))).toEqual(['alpha: N ms', 'zeta: N ms']);
    expect(files(d.out)).toEqual([
      'alpha', 'alpha/alpha.ts', 'alpha/derivation.html', 'alpha/derivation.json', 'alpha/derivation.tex',
      'zeta', 'zeta/derivation.html', 'zeta/derivation.json', 'zeta/derivation.tex', 'zeta/zeta.ts',
    ]);
    expect(readFileSync(join(d.out, 'zeta', 'derivation.tex'), 'utf8')).toBe('latex Zeta asymptotic []\n');
    // exact-n too: the generated module needs it
    expect(deriveMock.mock.calls.map((c) => [c[0].name, c[1]])).toEqual([['Alpha', { exactN: true, verify: true }], ['Zeta', { exactN: true, verify: true }]]);
    expect(readFileSync(join(d.out, 'zeta', 'zeta.ts'), 'utf8')).toBe('// module of Zeta\n');
  });

  it('--check passes on a fresh build and writes nothing', async () => {
    const d = setup();
    const missing = await build(d, '--check');
    expect(missing.code).toBe(1);
    expect(() => readdirSync(d.out)).toThrow(); // nothing written
    await build(d);
    const r = await build(d, '--check');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
  });

  it('--check names every stale, missing and extra file', async () => {
    const d = setup();
    await build(d);
    writeFileSync(join(d.out, 'alpha', 'derivation.json'), '{}\n');
    rmSync(join(d.out, 'zeta', 'derivation.html'));
    write(join(d.out, 'old', 'derivation.json'), '{}\n');
    const before = files(d.out);
    const r = await build(d, '--check');
    expect(r.code).toBe(1);
    expect(lines(r.stderr)).toEqual([
      `memloss: ${join(d.out, 'alpha', 'derivation.json')} is stale`,
      `memloss: ${join(d.out, 'zeta', 'derivation.html')} is missing`,
      `memloss: ${join(d.out, 'old', 'derivation.json')} is extra (no rule produces it)`,
      "memloss: 3 files out of date; run 'memloss build'",
    ]);
    expect(files(d.out)).toEqual(before);
  });

  it('rewrites stale files, never deletes extra ones (it names them)', async () => {
    const d = setup();
    await build(d);
    writeFileSync(join(d.out, 'alpha', 'derivation.json'), '{}\n');
    write(join(d.out, 'old', 'derivation.json'), '{}\n');
    const r = await build(d);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe(`memloss: warning: ${join(d.out, 'old', 'derivation.json')} is produced by no rule; delete it\n`);
    expect(readFileSync(join(d.out, 'alpha', 'derivation.json'), 'utf8')).toBe('json Alpha asymptotic []\n');
    expect(readFileSync(join(d.out, 'old', 'derivation.json'), 'utf8')).toBe('{}\n');
  });

  it('a failing rule is reported and the others are still built', async () => {
    const d = setup();
    write(join(d.rules, 'broken.rule'), 'optimizer Broken\nupdate gg\n');
    const r = await build(d);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/broken\.rule:2:8: unknown symbol 'gg'; did you mean 'g'\? \[rule\/unknown-symbol\]\n$/);
    expect(lines(r.stdout).map((l) => l.split(':')[0])).toEqual(['alpha', 'zeta']);
    expect(files(d.out)).not.toContain('broken');
  });

  it('an internal error in one rule makes the exit code 3', async () => {
    const d = setup();
    deriveMock.mockImplementation((r: Rule, o?: DeriveOptions) => {
      if (r.name === 'Zeta') throw new InternalError('boom');
      return stage.derive(r, o) as Derivation;
    });
    const r = await build(d);
    expect(r.code).toBe(3);
    expect(r.stderr).toBe('memloss: internal error: boom; please report\n');
  });

  it('a missing rules folder: one line, exit 1', async () => {
    const r = await build({ rules: join(tmp, 'nowhere'), out: join(tmp, 'nowhere-out') });
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`memloss: cannot read ${join(tmp, 'nowhere')}: no such file or directory\n`);
  });

  it('output names come from sanitized file names: letters, digits, - and _', async () => {
    const d = setup();
    write(join(d.rules, 'my rule (v2)!.rule'), rule('Mine'));
    const r = await build(d);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(files(d.out)).toContain('my-rule-v2/my-rule-v2.ts');
    expect((await build(d, '--check')).code).toBe(0);
  });

  it('a file name with nothing left after sanitizing (...rule) is refused: nothing is written, not even outside --out', async () => {
    const d = setup();
    write(join(d.rules, '...rule'), rule('Dots'));
    for (const more of [[], ['--check']]) {
      const r = await build(d, ...more);
      expect(r.code).toBe(1);
      expect(r.stderr).toBe(`memloss: ${join(d.rules, '...rule')}: the file name gives no output name (it needs a letter, digit, - or _ besides .rule); rename it\n`);
    }
    expect(existsSync(d.out)).toBe(false);
    expect(existsSync(join(d.out, '..', 'derivation.json'))).toBe(false);
    expect(existsSync(join(d.out, '..', '...ts'))).toBe(false);
  });

  it('two files that sanitize to one name are refused in one line', async () => {
    const d = setup();
    write(join(d.rules, 'a b.rule'), rule('Space'));
    write(join(d.rules, 'a-b.rule'), rule('Dash'));
    const r = await build(d);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`memloss: ${join(d.rules, 'a b.rule')} and ${join(d.rules, 'a-b.rule')} would both be written to 'a-b' (output names keep letters, digits, - and _); rename one\n`);
    expect(existsSync(d.out)).toBe(false);
  });

  it('a symbolic link to nothing in --rules or --out: one line, exit 1', async () => {
    const d = setup();
    symlinkSync(join(d.rules, 'missing-target'), join(d.rules, 'ghost.rule'));
    const r = await build(d);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^memloss: .*ghost\.rule is a symbolic link to nothing \(no such file or directory\); remove it or point it at a file\n$/);
    rmSync(join(d.rules, 'ghost.rule'));
    await build(d);
    symlinkSync(join(d.out, 'missing-target'), join(d.out, 'alpha', 'stray.json'));
    for (const more of [[], ['--check']]) {
      const o = await build(d, ...more);
      expect(o.code).toBe(1);
      expect(o.stderr).toMatch(/^memloss: .*alpha\/stray\.json is a symbolic link to nothing .*\n$/);
    }
  });

  it('never writes through a symbolic link that leads out of --out', async () => {
    const d = setup();
    const elsewhere = join(d.out, '..', 'elsewhere');
    mkdirSync(elsewhere, { recursive: true });
    mkdirSync(d.out, { recursive: true });
    symlinkSync(elsewhere, join(d.out, 'alpha'));
    const r = await build(d);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^memloss: .*alpha\/derivation\.json would be written outside --out .* \(a symbolic link leads out of it\); refusing\n$/);
    expect(readdirSync(elsewhere)).toEqual([]);
  });
});

