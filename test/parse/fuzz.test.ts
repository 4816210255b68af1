/**
 * Fuzzing (issue 18): seeded mutations of the shipped rules, and the structural cases that
 * once overflowed the stack, hung or ended in an internal error, each end in a derivation or
 * in located diagnostics (RuleError), within 10 s: never an InternalError, another exception
 * or a stack trace. Most go through the library in-process; a sample goes through the real
 * command, which must exit 0 or 1 and print exactly those diagnostics, one line each.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
// the public API, whose promise is RuleError or InternalError only
import { RuleError, derive, deriveMatrix, formatDiagnostic, isMatrixRule, parseRuleFile } from '../../src/index.js';
import { emitWgsl } from '../../src/emit/wgsl.js';
import { mulberry32, isMatrixRuleFile } from '../derive/helpers.js';

const ruleFiles = readdirSync('rules').filter((f) => f.endsWith('.rule')).sort();
const sources = ruleFiles.filter((f) => !isMatrixRuleFile(`rules/${f}`)).map((f) => readFileSync(`rules/${f}`, 'utf8'));
const matrixSources = ruleFiles.filter((f) => isMatrixRuleFile(`rules/${f}`)).map((f) => readFileSync(`rules/${f}`, 'utf8'));

const LIMIT_MS = 10_000;

// ---- mutations ----------------------------------------------------------------------------

/** Tokens with the text between them, so that joining them gives the source back. */
const tokens = (s: string) => s.match(/\s+|[A-Za-z_][A-Za-z0-9_]*|\d+(?:\.\d*)?(?:[eE][+-]?\d+)?|\.\d+|[^]/g) ?? [];
const isToken = (t: string) => !/^\s+$/.test(t);

const CHARS = '()+-*/^,.#=0123456789 abgmnvqrtpelhs_\'"[]\n\t\r\\;:{}!?@$%&|~`<>βθ∞\u00a0\u0000\ufeff😀';
const NUMBERS = ['1e400', '1e-400', '1e1000000000', '1e-1000000', '0e999999999', `0.${'9'.repeat(70)}`, '1e308', '5e-324', '3.4e38', '1e39', '0', '00', '1.', '.5', '1e', '1e+', '2.2250738585072014e-308'];
const CONSTANTS = ['/0', '/(beta1-beta1)', '*sqrt(-1)', '*log(0)', '*(-8)^(1/3)', '*exp(1000)', '*2^2000', '*1e300*1e300', '*pow(0,-1)', '^(-1/2)', '*0^-1'];
const NAMES = ['g', 'm', 'v', 'beta1', 'beta_1', 'eps', 'varepsilon', 'theta', 'n', 'h', 'k', 's', 'g_', 'prev', 'I', 'inf', 'constructor', '__proto__', 'x'.repeat(5000)];
const NESTS: readonly ((k: number, x: string) => string)[] = [
  (k, x) => `${'('.repeat(k)}${x}${')'.repeat(k)}`,
  (k, x) => `${'sqrt('.repeat(k)}${x}${')'.repeat(k)}`,
  (k, x) => `${'exp('.repeat(k)}${x}${')'.repeat(k)}`,
  (k, x) => `${'-'.repeat(k)}${x}`,
  (k, x) => `${`${x}^`.repeat(k)}${x}`,
  (k, x) => `${'(m / (v + '.repeat(k)}${x}${'))'.repeat(k)}`,
];

function mutateOnce(src: string, rand: () => number): string {
  const pick = <T>(a: readonly T[]): T => a[Math.floor(rand() * a.length)]!;
  const toks = tokens(src);
  const idx = toks.map((t, i) => (isToken(t) ? i : -1)).filter((i) => i >= 0);
  const at = idx.length ? pick(idx) : 0;
  const lines = src.split('\n');
  const line = Math.floor(rand() * lines.length);
  const i = Math.floor(rand() * (src.length + 1));
  switch (Math.floor(rand() * 16)) {
    case 0: toks.splice(at, 1); return toks.join(''); // delete a token
    case 1: toks.splice(at, 0, toks[at] ?? ''); return toks.join(''); // duplicate a token
    case 2: { // swap two tokens
      const other = pick(idx.length ? idx : [0]);
      [toks[at], toks[other]] = [toks[other] ?? '', toks[at] ?? ''];
      return toks.join('');
    }
    case 3: return src.slice(0, i) + pick([...CHARS]) + src.slice(i); // a random character
    case 4: return src.slice(0, i) + src.slice(i + 1);
    case 5: { // a number replaced by an extreme one
      const nums = idx.filter((k) => /^[\d.]/.test(toks[k]!));
      if (nums.length) toks[pick(nums)] = pick(NUMBERS);
      else toks.splice(at + 1, 0, '*', pick(NUMBERS));
      return toks.join('');
    }
    case 6: { // a token nested deeply
      const k = pick([2, 10, 63, 64, 65, 200, 3000]);
      toks[at] = pick(NESTS)(k, toks[at] ?? 'g');
      return toks.join('');
    }
    case 7: { // a long expression or a long line
      const n = pick([100, 499, 500, 5000, 10_000]);
      lines[line] = `${lines[line]}${pick([' + g', ' * m', '^2', ' ', '#'])}`.repeat(1) + pick([' + g', ' * v', '  ', 'x']).repeat(n);
      return lines.join('\n');
    }
    case 8: lines.splice(line, 1); return lines.join('\n');
    case 9: lines.splice(line, 0, ...Array.from({ length: pick([1, 2, 17, 40]) }, () => lines[line] ?? '')); return lines.join('\n');
    case 10: { const j = Math.floor(rand() * lines.length); [lines[line], lines[j]] = [lines[j] ?? '', lines[line] ?? '']; return lines.join('\n'); }
    case 11: { // a name replaced
      const names = idx.filter((k) => /^[A-Za-z_]/.test(toks[k]!));
      if (names.length) toks[pick(names)] = pick(NAMES);
      return toks.join('');
    }
    case 12: { // an operator replaced
      const ops = idx.filter((k) => /^[-+*/^(),]$/.test(toks[k]!));
      if (ops.length) toks[pick(ops)] = pick(['+', '-', '*', '/', '^', '(', ')', ',', '.*', "'", '**', '']);
      return toks.join('');
    }
    case 13: { // a constant that is no finite real number
      const u = lines.findIndex((l) => l.startsWith('update') || l.startsWith('state'));
      if (u >= 0) lines[u] = `${lines[u]}${pick(CONSTANTS)}`;
      return lines.join('\n');
    }
    case 14: return pick([src.replace(/\n/g, '\r\n'), `\ufeff${src}`, src.replace(/ /g, '\t'), `${src}\n${'# comment\n'.repeat(1000)}`, src.replace(/\n/g, '\r')]);
    default: // matrix operands and operators
      return src.replace(/\b(g|L|R|b|I)\b|'|\*/, () => pick(["g'", 'L', 'R', 'I', 'theta', '.*', '*', 'msign(g)', 'pow(L, 2)', 'pow(L, 1e400)', '2']));
  }
}

function mutate(src: string, rand: () => number): string {
  let s = src;
  for (let e = 1 + Math.floor(rand() * 3); e > 0; e--) s = mutateOnce(s, rand);
  return s;
}

// ---- the structural cases of the issue ------------------------------------------------------

const head = 'optimizer X\nparam beta = 0.9 in (0, 1)\nparam beta1 = 0.9 in (0, 1)\n';
const adam = readFileSync('rules/adam.rule', 'utf8');
const adamStates = adam.split('\n').filter((l) => !l.startsWith('update')).join('\n');
const STRUCTURAL: readonly (readonly [string, string])[] = [
  ['3000 nested parentheses', `${head}update ${'('.repeat(3000)}g${')'.repeat(3000)}`],
  ['10^4 terms', `${head}update ${'g + '.repeat(10_000)}g`],
  ['10^4 factors', `${head}update ${'g * '.repeat(10_000)}g`],
  ['5000-level powers', `${head}update ${'g^'.repeat(5000)}g`],
  ['a 10 MB line', `${head}update g * ${'1'.repeat(10_000_000)}`],
  ['a 1 MB identifier', `${head}update ${'x'.repeat(1_000_000)}`],
  ['* 1e-1000000', `${adamStates}\nupdate m / (sqrt(v) + eps) * 1e-1000000`],
  ['1000 nested sqrt(', `${adamStates}\nupdate ${'sqrt('.repeat(1000)}m${')'.repeat(1000)}`],
  ['64 nested sqrt(', `${adamStates}\nupdate ${'sqrt('.repeat(63)}m${')'.repeat(63)}`],
  ['12 levels of m / (v + …)', `${adamStates}\nupdate ${'(m / (v + '.repeat(12)}m${'))'.repeat(12)}`],
  ['1e1000000000', `${head}update g * 1e1000000000`],
  ['a parameter of 10^5 digits', `optimizer X\nparam a = 0.${'9'.repeat(100_000)} in (0, 1)\nupdate a * g`],
  ['a parameter of 9000 digits, unclosed', `optimizer X\nparam a = ${'9'.repeat(9000)} in (0, inf\nupdate g`],
  ['update g/0', `${head}update g/0`],
  ['1/(b-b)', `${head}update 1/(beta-beta) * g`],
  ['1e39', `${head}update g * 1e39`],
  ['Infinity as a literal', `${head}update g * 1e400`],
  ['sqrt(-1)', `${head}update g * sqrt(-1)`],
  ['log(0)', `${head}update g * log(0)`],
  ['(-8)^(1/3)', `${head}update g * (-8)^(1/3)`],
  ['beta1 and beta_1', `${head}param beta_1 = 0.5 in (0, 1)\nupdate beta1 * beta_1 * g`],
  ['17 states', `${head}${Array.from({ length: 17 }, (_, i) => `state s${i} = beta * s${i} + g`).join('\n')}\nupdate s0`],
  ['16 states, all read', `${head}${Array.from({ length: 16 }, (_, i) => `state s${i} = beta * s${i} + ${i ? `s${i - 1}` : 'g'}`).join('\n')}\nupdate s15`],
  ['33 parameters', `optimizer X\n${Array.from({ length: 33 }, (_, i) => `param p${i} = 0.5 in (0, 1)`).join('\n')}\nupdate g`],
  ['33 fns', `${head}${Array.from({ length: 33 }, (_, i) => `fn f${i}(x) = x`).join('\n')}\nupdate g`],
  ['fn calls that expand geometrically', `${head}fn f(x) = x * g + (x + beta)^2\nupdate ${'f('.repeat(20)}g${')'.repeat(20)}`],
  ['10^4 bad lines', `${head}${'bogus\n'.repeat(10_000)}update g`],
  ['an empty file', ''],
  ['only comments', '# a\n# b\n'],
  ['NUL bytes', `${head}update g\u0000\u0000`],
  ['a byte-order mark', `\ufeff${adam}`],
  ['CRLF line ends', adam.replace(/\n/g, '\r\n')],
  ['Greek letters', `${head}update β * g`],
  ['a matrix rule nested 3000 deep', `optimizer X\nshape matrix\nupdate ${'('.repeat(3000)}g${')'.repeat(3000)}`],
  ['a matrix rule with g / 0', 'optimizer X\nshape matrix\nupdate g / 0'],
  ['a matrix power of 1e400', 'optimizer X\nshape matrix\nparam eps = 0.1 in (0, 1)\nstate L = 0.5 * L + g * g\'\nupdate pow(L + eps * I, 1e400) * g'],
];

// ---- outcome ------------------------------------------------------------------------------

type Outcome = { kind: 'derived' } | { kind: 'rejected'; lines: string[] };

/** Parse and derive (matrix rules too); exactN and the WGSL emitter for some. Throws anything but a RuleError. */
function outcome(src: string, opts: { exactN?: boolean; wgsl?: boolean } = {}): Outcome {
  try {
    const r = parseRuleFile(src, 'fuzz.rule');
    if (isMatrixRule(r)) deriveMatrix(r);
    else {
      const d = derive(r, { exactN: opts.exactN ?? false });
      if (opts.wgsl) emitWgsl(r, d);
    }
    return { kind: 'derived' };
  } catch (err) {
    if (!(err instanceof RuleError)) throw err;
    return { kind: 'rejected', lines: err.diagnostics.map(formatDiagnostic) };
  }
}

/** The outcome of src, checked: on time, and every diagnostic one located line with its code, no stack. */
function checked(label: string, src: string, opts: { exactN?: boolean; wgsl?: boolean } = {}): Outcome {
  const t0 = performance.now();
  let o: Outcome;
  try {
    o = outcome(src, opts);
  } catch (err) {
    throw new Error(`${label} crashed with ${String(err)}:\n${src.slice(0, 2000)}`);
  }
  const ms = performance.now() - t0;
  expect(ms, `${label} took ${Math.round(ms)} ms:\n${src.slice(0, 2000)}`).toBeLessThan(LIMIT_MS);
  if (o.kind === 'rejected') {
    expect(o.lines.length, label).toBeGreaterThan(0);
    expect(o.lines.length, label).toBeLessThanOrEqual(51);
    for (const l of o.lines) {
      expect(l, label).toMatch(/^fuzz\.rule:[1-9]\d*:[1-9]\d*: [^\n]+ \[rule\/[a-z0-9-]+\]$/);
      expect(l, label).not.toMatch(/[\u0000-\u001f\u007f]/);
      expect(l.length, label).toBeLessThan(1000);
      expect(l, label).not.toMatch(/\bat .*\.(ts|js):\d+|internal error|@(prev|arg|u|s)\b/);
    }
  }
  return o;
}

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const tmp = mkdtempSync(join(tmpdir(), 'memloss-fuzz-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** `memloss derive FILE` as a child process on the sources. */
function runDerive(file: string): Promise<{ code: number | null; stderr: string; ms: number }> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(process.execPath, [join(ROOT, 'bin', 'memloss.js'), 'derive', file], {
      cwd: ROOT, env: { ...process.env, MEMLOSS_FROM_SOURCE: '1', MEMLOSS_DEBUG: '' }, stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString('utf8')));
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stderr, ms: performance.now() - t0 });
    });
  });
}

// ---- the tests ----------------------------------------------------------------------------

/** Sources sent through the command as well: every 25th mutation, and some structural cases. */
const cliSample: { label: string; src: string }[] = [];

describe('fuzzing', () => {
  it('600 mutations of the coordinate-wise rules: a derivation or located errors, within 10 s each', () => {
    const rand = mulberry32(2024);
    const count = { derived: 0, rejected: 0 };
    for (let i = 0; i < 600; i++) {
      const src = mutate(sources[i % sources.length]!, rand);
      const o = checked(`mutation ${i}`, src, { exactN: i % 10 === 0, wgsl: i % 10 === 5 });
      count[o.kind]++;
      if (i % 25 === 0) cliSample.push({ label: `mutation ${i}`, src });
    }
    // both outcomes occur, so the engine is exercised as well as the parser
    expect(count.derived).toBeGreaterThan(50);
    expect(count.rejected).toBeGreaterThan(50);
  });

  it('200 mutations of the matrix rules', () => {
    const rand = mulberry32(77);
    const count = { derived: 0, rejected: 0 };
    for (let i = 0; i < 200; i++) count[checked(`matrix mutation ${i}`, mutate(matrixSources[i % matrixSources.length]!, rand)).kind]++;
    expect(count.derived).toBeGreaterThan(20);
    expect(count.rejected).toBeGreaterThan(20);
  });

  it.each(STRUCTURAL)('structural: %s', (label, src) => {
    const o = checked(label, src, { exactN: true, wgsl: true });
    // within the limits, these derive; the chain of 16 states may or may not have a closed form
    if (['64 nested sqrt(', '12 levels of m / (v + …)', 'a byte-order mark', 'CRLF line ends'].includes(label)) expect(o.kind, label).toBe('derived');
    else if (label !== '16 states, all read') expect(o.kind, label).toBe('rejected');
    if (['3000 nested parentheses', '1000 nested sqrt(', 'update g/0', '10^4 terms', '1e39'].includes(label)) cliSample.push({ label, src });
  });

  it('a sample through the command: exit 0 or 1, and exactly the diagnostics on stderr, one line each', async () => {
    expect(cliSample.length).toBeGreaterThanOrEqual(25);
    const files = cliSample.map((c, i) => {
      const file = join(tmp, `fuzz-${i}.rule`);
      writeFileSync(file, c.src);
      return file;
    });
    // two at a time: the machine is shared
    const results: Awaited<ReturnType<typeof runDerive>>[] = [];
    for (let i = 0; i < files.length; i += 2) results.push(...(await Promise.all(files.slice(i, i + 2).map(runDerive))));
    results.forEach((r, i) => {
      const { label, src } = cliSample[i]!;
      // what `memloss derive` does: parse and derive, asymptotic only
      const expected = outcome(src);
      const lines = r.stderr.split('\n').filter(Boolean);
      expect(r.ms, label).toBeLessThan(20_000);
      expect(r.stderr, label).not.toMatch(/^\s+at /m);
      if (expected.kind === 'derived') {
        expect([r.code, lines], label).toEqual([0, []]);
      } else {
        expect(r.code, `${label}: ${r.stderr}`).toBe(1);
        expect(lines, label).toEqual(expected.lines.map((l) => l.replace(/^fuzz\.rule/, files[i]!)));
      }
    });
  }, 180_000);
});
