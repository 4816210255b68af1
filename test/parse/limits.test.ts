/**
 * Issue 18, items 13-15 and 18: the documented input limits, numbers that are no double,
 * constants that are no real number, and names that print alike. Each is a located error
 * with its code, reached quickly, never a crash.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseRule, parseRuleFile } from '../../src/parse/rule-file.js';
import { RuleError, formatDiagnostic, type Diagnostic } from '../../src/ir/diagnostics.js';
import { LIMITS } from '../../src/parse/limits.js';

/** The diagnostics of src (none when it parses), and how long parsing took. */
function diagnosticsOf(src: string): { diags: readonly Diagnostic[]; ms: number } {
  const t0 = performance.now();
  try {
    parseRuleFile(src, 'x.rule');
    return { diags: [], ms: performance.now() - t0 };
  } catch (err) {
    if (!(err instanceof RuleError)) throw err;
    return { diags: err.diagnostics, ms: performance.now() - t0 };
  }
}

/** The one diagnostic of src, checked to be one short located line. */
function only(src: string): Diagnostic {
  const { diags, ms } = diagnosticsOf(src);
  expect(diags.map(formatDiagnostic)).toHaveLength(1);
  const d = diags[0]!;
  expect(formatDiagnostic(d)).not.toMatch(/\n/);
  expect(formatDiagnostic(d).length).toBeLessThan(300);
  expect(ms).toBeLessThan(2000);
  return d;
}

const head = 'optimizer X\nparam beta = 0.9 in (0, 1)\n';
const nested = (k: number, open: string, inner: string, close: string) => open.repeat(k) + inner + close.repeat(k);

describe('limits (rule/too-large)', () => {
  it.each([
    ['parentheses', (k: number) => nested(k, '(', 'g', ')')],
    ['calls', (k: number) => nested(k, 'sqrt(', 'g', ')')],
    ['signs', (k: number) => `${'-'.repeat(k)}g`],
    ['powers', (k: number) => `${'beta^'.repeat(k)}g`],
  ])('nesting of %s: 64 levels at most', (_, make) => {
    expect(diagnosticsOf(`${head}update ${make(LIMITS.depth - 1)}`).diags).toEqual([]);
    const d = only(`${head}update ${make(LIMITS.depth + 1)}`);
    expect(d.code).toBe('rule/too-large');
    expect(d.message).toMatch(/at most 64 levels/);
    expect(d.span.line).toBe(3);
  });

  it('3000 nested parentheses and 5000-level powers are refused, not a stack overflow', () => {
    for (const u of [nested(3000, '(', 'g', ')'), `${'g^'.repeat(3000)}g`, nested(1000, 'sqrt(', 'g', ')')])
      expect(only(`${head}update ${u}`).code).toBe('rule/too-large');
  });

  it('an expression has at most 1000 tokens', () => {
    expect(diagnosticsOf(`${head}update ${'g+'.repeat(499)}g`).diags).toEqual([]);
    const d = only(`${head}update ${'g+'.repeat(500)}g`);
    expect(d.message).toMatch(/at most 1000 tokens/);
    expect(d.span.col).toBe(8 + 1000); // at the first token beyond the limit
  });

  it('a line has at most 10000 characters; 10^4 terms or factors are refused by it', () => {
    for (const u of [`${'g+'.repeat(10_000)}g`, `${'g*'.repeat(10_000)}g`, `g + ${' '.repeat(10_000)}1`]) {
      const d = only(`${head}update ${u}`);
      expect(d.message).toMatch(/at most 10000 characters/);
      expect([d.span.line, d.span.col]).toEqual([3, 10_001]);
    }
  });

  it('a source of more than 1 MiB is refused before it is split into lines (a 10 MB line)', () => {
    const d = only(`${head}update g * ${'1'.repeat(10_000_000)}`);
    expect(d.message).toMatch(/at most 1048576 characters; this one has 100000\d\d/);
    expect([d.span.line, d.span.col]).toEqual([1, 1]);
  });

  it('fn calls expand to at most 10000 nodes', () => {
    const d = only(`${head}fn f(x) = x * g + (x + beta)^2\nupdate ${nested(12, 'f(', 'g', ')')}`);
    expect(d.message).toMatch(/the call of 'f' expands to \d+ nodes; the limit is 10000/);
  });

  it.each([
    ['states', 16, (i: number) => `state s${i} = beta * s${i} + g`],
    ['parameters', 32, (i: number) => `param p${i} = 0.5 in (0, 1)`],
    ['fn definitions', 32, (i: number) => `fn f${i}(x) = x`],
  ])('%s: at most %i', (what, limit, line) => {
    const top = 'optimizer X\nparam beta = 0.9 in (0, 1)\n'.slice(0, what === 'parameters' ? 12 : undefined);
    const ok = Array.from({ length: limit }, (_, i) => line(i)).join('\n');
    expect(diagnosticsOf(`${top}${ok}\nupdate g`).diags).toEqual([]);
    const d = only(`${top}${ok}\n${line(limit)}\nupdate g`);
    expect(d.message).toBe(`a rule may have at most ${limit} ${what}`);
    expect(d.span.line).toBe(top.split('\n').length + limit);
  });

  it('at most 50 problems are reported; the rest of the file is not read', () => {
    const { diags } = diagnosticsOf(`${head}${'bogus line\n'.repeat(10_000)}update g`);
    expect(diags).toHaveLength(LIMITS.diagnostics + 1);
    expect(diags.at(-1)!.message).toBe('more than 50 problems; the rest of the file is not read');
  });
});

describe('numbers (rule/bad-number)', () => {
  it.each([
    ['1e400', /the number 1e400 is too large/],
    ['1e1000000000', /too large/],
    ['1e-1000000', /the number 1e-1000000 is too small/],
    ['1e-400', /too small/],
    [`0.${'9'.repeat(70)}`, /at most 64 digits; this one has 71/],
  ])('%s in an expression', (num, pattern) => {
    const d = only(`${head}update g * ${num}`);
    expect(d.code).toBe('rule/bad-number');
    expect(d.message).toMatch(pattern);
    expect(d.span.col).toBe(12);
  });

  it('0 with a huge exponent is 0, at once', () => {
    expect(diagnosticsOf(`${head}update g + 0e999999999`).diags).toEqual([]);
  });

  it('in a parameter: its value and its bounds', () => {
    expect(only('optimizer X\nparam a = 1e400 in (0, inf)\nupdate g').span.col).toBe(11);
    expect(only('optimizer X\nparam a = 1 in (0, 1e999)\nupdate g').message).toMatch(/too large/);
    expect(only('optimizer X\nparam a = 1 in (-1e999, 2)\nupdate g').span.col).toBe(17);
    expect(only('optimizer X\nparam a = 1 in (-1e999, 1e999)\nupdate g').span.col).toBe(17);
  });

  it('a parameter of 9000 digits is read in linear time (no regex backtracking)', () => {
    const digits = '9'.repeat(9_000);
    for (const src of [`optimizer X\nparam a = ${digits} in (0, inf\nupdate g`, `optimizer X\nparam a = 0.${digits} in (0, 1)\nupdate g`]) {
      const { diags, ms } = diagnosticsOf(src);
      expect(diags).toHaveLength(1);
      expect(ms).toBeLessThan(500);
    }
  });
});

describe('constants (rule/bad-constant)', () => {
  it.each([
    ['g / 0', 10, /division by zero/],
    ['1 / (beta - beta) * g', 10, /division by zero/],
    ['g * pow(0, -1)', 12, /0 raised to a negative power/],
    ['g * sqrt(-1)', 12, /not a real number/],
    ['g * log(0)', 12, /minus infinite/],
    ['g * (-8)^(1/3)', 16, /not a real number/],
    ['g * exp(1000)', 12, /infinite/],
    ['g * 2^2000', 13, /infinite/],
    ['g * 1e300 * 1e300', 18, /infinite/],
    ['g + log(0) * 0', 12, /minus infinite/],
  ])('update %s', (u, col, pattern) => {
    const d = only(`${head}update ${u}`);
    expect(d.code).toBe('rule/bad-constant');
    expect(d.message).toMatch(pattern);
    expect(d.span.col).toBe(col);
  });

  it('a fn called with a constant it cannot take', () => {
    const d = only(`${head}fn f(x) = g / x\nupdate f(0)`);
    expect([d.code, d.span.line, d.span.col]).toEqual(['rule/bad-constant', 4, 8]);
  });

  it('in a matrix rule', () => {
    for (const u of ['g / 0', 'sqrt(-1) * g']) expect(only(`optimizer X\nshape matrix\nupdate ${u}`).code).toBe('rule/bad-constant');
  });

  it('finite constants and non-constants are fine', () => {
    expect(diagnosticsOf(`${head}update g * sqrt(2) + log(beta) * 8^(1/3) * (-8)^3 * g^2 + 1 / (g - g + beta)`).diags).toEqual([]);
  });
});

describe('names in messages and in print', () => {
  it('a 9000-character name is cut in the message', () => {
    const d = only(`${head}update ${'x'.repeat(9_000)} * g`);
    expect(d.message).toBe(`unknown symbol '${'x'.repeat(40)}…'`);
  });

  it('a 1 MB identifier gives a short line', () => {
    const d = only(`${head}update ${'x'.repeat(1_000_000)}`);
    expect(formatDiagnostic(d).length).toBeLessThan(200);
  });

  it.each([
    ['beta1', 'beta_1', 'β₁'],
    ['eps', 'varepsilon', 'ε'],
  ])('%s and %s both print as %s: refused (rule/name-clash)', (a, b, shown) => {
    const d = only(`optimizer X\nparam ${a} = 0.5 in (0, 1)\nstate ${b} = ${a} * ${b} + g\nupdate ${b}`);
    expect(d.code).toBe('rule/name-clash');
    expect(d.message).toBe(`'${b}' prints as ${shown}, the same as '${a}' on line 2; rename one of them`);
    expect([d.span.line, d.span.col]).toEqual([3, 7]);
  });

  it('a trailing underscore prints whole, so g_ and k_ do not read as the reserved g and k', () => {
    // a trailing underscore is printed whole (g_), so it no longer reads as g
    expect(() => parseRule('optimizer X\nparam g_ = 0.5 in (0, 1)\nupdate g_ * g', 'x.rule')).not.toThrow();
    expect(() => parseRule('optimizer X\nparam k_ = 0.5 in (0, 1)\nupdate k_ * g', 'x.rule')).not.toThrow();
  });

  it('names that only look alike are fine', () => {
    expect(() => parseRule('optimizer X\nparam beta1 = 0.9 in (0, 1)\nparam beta2 = 0.9 in (0, 1)\nparam beta_12 = 0.9 in (0, 1)\nupdate (beta1 + beta2 + beta_12) * g', 'x.rule')).not.toThrow();
  });
});

describe('the catalogue', () => {
  it('every diagnostic code of src/ir/diagnostics.ts has a row in docs/rule-language.md', () => {
    const codes = [...readFileSync('src/ir/diagnostics.ts', 'utf8').matchAll(/\| '(rule\/[a-z0-9-]+)'/g)].map((m) => m[1]!);
    expect(codes.length).toBeGreaterThanOrEqual(20);
    const doc = readFileSync('docs/rule-language.md', 'utf8');
    for (const c of codes) expect(doc, c).toContain(`| \`${c}\` |`);
  });

  it('control characters in a message are escaped: one line stays one line', () => {
    const d = only(`${head}update g \r+ 1`);
    expect(d.message).toBe("syntax error: unexpected character '\\u000d'");
  });
});
