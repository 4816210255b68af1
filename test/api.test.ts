/**
 * Issue 18, item 17: the public API (src/index.ts) throws only RuleError (the caller's input)
 * or InternalError (a bug), whatever it is given: never a TypeError, a RangeError or a plain
 * Error, and a wrong argument is a located rule/bad-argument line.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import * as api from '../src/index.js';
import { InternalError, RuleError, type Derivation } from '../src/index.js';

const hb = api.parseRule(readFileSync('rules/heavy-ball.rule', 'utf8'), 'rules/heavy-ball.rule');
const d: Derivation = api.derive(hb, { exactN: true });
const muon = api.parseRuleFile(readFileSync('rules/muon.rule', 'utf8'), 'rules/muon.rule');

/** The one diagnostic line of what f throws, which must be a RuleError. */
function lineOf(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(RuleError);
    const lines = (e as RuleError).diagnostics.map(api.formatDiagnostic);
    expect(lines).toHaveLength(1);
    return lines[0]!;
  }
  throw new Error('expected a RuleError');
}

describe('wrong arguments are rule/bad-argument', () => {
  it.each([
    ['parseRule(42)', () => api.parseRule(42 as unknown as string), '<parseRule>:1:1: the rule source must be a string, got a number [rule/bad-argument]'],
    ['parseRule(null)', () => api.parseRule(null as unknown as string), '<parseRule>:1:1: the rule source must be a string, got null [rule/bad-argument]'],
    ['parseRuleFile(src, 7)', () => api.parseRuleFile('optimizer X\nupdate g', 7 as unknown as string), '<parseRuleFile>:1:1: the file name must be a string, got a number [rule/bad-argument]'],
    ['derive(null)', () => api.derive(null as unknown as typeof hb), '<derive>:1:1: expected a rule from parseRule, got null [rule/bad-argument]'],
    ['derive(rule, 5)', () => api.derive(hb, 5 as unknown as object), /^<derive>:1:1: options must be an object/],
    ['derive(rule, { limits: "eps" })', () => api.derive(hb, { limits: 'eps' as unknown as string[] }), /options\.limits must be an array of parameter names, got a string/],
    ['derive(matrix rule)', () => api.derive(muon as unknown as typeof hb), /Muon is a matrix rule \(shape matrix\); derive it with deriveMatrix/],
    ['deriveMatrix(coordinate rule)', () => api.deriveMatrix(hb as unknown as Parameters<typeof api.deriveMatrix>[0]), /is a coordinate-wise rule; derive it with derive/],
    ['deriveBatches(d, 0)', () => api.deriveBatches(d, 0), /the number of batches must be a positive integer, got 0/],
    ['deriveBatches(d, "2")', () => api.deriveBatches(d, '2' as unknown as number), /got a string/],
    ["emitText(d, 'bogus')", () => api.emitText(d, 'bogus' as 'asymptotic'), "<emitText>:1:1: the regime must be 'asymptotic' or 'exact-n', got 'bogus' [rule/bad-argument]"],
    ['emitJson(d)', () => (api.emitJson as (d: Derivation) => string)(d), /got undefined/],
    ["emitHtml({}, 'asymptotic')", () => api.emitHtml({} as Derivation, 'asymptotic'), /<emitHtml>:1:1: expected a derivation from derive, got an object/],
    ["emitMatrixJson(d, 'asymptotic')", () => api.emitMatrixJson(d as unknown as Parameters<typeof api.emitMatrixJson>[0], 'asymptotic'), /expected a derivation from deriveMatrix/],
    ['evaluate(weight, {})', () => api.evaluate(d.asymptotic.M[0]!.weight, {}), "<evaluate>:1:1: env has no number for 'beta' [rule/bad-argument]"],
    ['evaluate(null, {})', () => api.evaluate(null as unknown as api.Expr, {}), /expected an expression of a derivation, got null/],
    ['evaluate(weight, null)', () => api.evaluate(d.asymptotic.M[0]!.weight, null as unknown as api.Env), /env must be an object of numbers/],
    ['formatDiagnostic(null)', () => api.formatDiagnostic(null as unknown as api.Diagnostic), /expected a diagnostic/],
  ])('%s', (_, f, expected) => {
    const line = lineOf(f);
    if (typeof expected === 'string') expect(line).toBe(expected);
    else expect(line).toMatch(expected);
  });

  it('null options are the defaults, and the good calls still work', () => {
    expect(api.derive(hb, null as unknown as undefined).asymptotic.M.length).toBeGreaterThan(0);
    expect(api.emitText(d, 'exact-n')).toMatch(/Heavy-ball/);
    expect(Number.isFinite(api.evaluate(d.asymptotic.M[0]!.weight, { beta: 0.9 }))).toBe(true);
    expect(api.isMatrixRule(muon)).toBe(true);
    expect(api.isMatrixRule(null as unknown as typeof hb)).toBe(false);
  });

  it('deep or huge input is a RuleError, not a stack overflow', () => {
    expect(lineOf(() => api.parseRule(`optimizer X\nupdate ${'('.repeat(100_000)}g`, 'x.rule'))).toMatch(/rule\/too-large/);
    expect(lineOf(() => api.parseRule('x'.repeat(20_000_000)))).toMatch(/^<rule>:1:1: a rule may have at most 1048576 characters/);
  });

  it('a failure inside, on a damaged derivation, is an InternalError with the cause', () => {
    const damaged = { ...d, asymptotic: { ...d.asymptotic, M: [{}] } } as unknown as Derivation;
    let thrown: unknown;
    try {
      api.emitText(damaged, 'asymptotic');
    } catch (e) {
      thrown = e;
    }
    expect(thrown).toBeInstanceOf(InternalError);
    expect((thrown as InternalError).cause).toBeInstanceOf(TypeError);
  });
});

describe('every function, every hostile argument', () => {
  const hostile: unknown[] = [undefined, null, 0, -1, NaN, '', 'bogus', true, {}, [], [1, 2], () => 1, Symbol('s'), 10n, { kind: 'add' }, { rule: {}, asymptotic: {} }];
  const fns = (Object.entries(api) as [string, unknown][])
    .filter((e): e is [string, (...a: unknown[]) => unknown] => typeof e[1] === 'function' && e[0] !== 'RuleError' && e[0] !== 'InternalError');

  it('covers the API', () => {
    expect(fns.map(([n]) => n).sort()).toEqual([
      'buildMatrixDocument', 'derive', 'deriveBatches', 'deriveMatrix', 'emitHtml', 'emitJson', 'emitLatex', 'emitMarkdown', 'emitMatrixJson', 'emitText',
      'evaluate', 'formatDiagnostic', 'isMatrixRule', 'parseRule', 'parseRuleFile',
    ]);
  });

  it.each(fns)('%s throws only RuleError or InternalError', (_, f) => {
    for (const a of hostile)
      for (const b of [undefined, 'asymptotic', ...hostile.slice(0, 8)]) {
        try {
          f(a, b);
        } catch (e) {
          if (!(e instanceof RuleError || e instanceof InternalError)) throw new Error(`(${String(a)}, ${String(b)}) threw ${String(e)}`);
        }
      }
  });
});

describe('docs/tutorial.md, "Errors"', () => {
  const tutorial = readFileSync('docs/tutorial.md', 'utf8');
  it('quotes the lines the library gives', () => {
    expect(tutorial).toContain(lineOf(() => api.parseRule('optimizer X\nupdate g / 0', 'x.rule')));
    expect(tutorial).toContain(lineOf(() => api.emitText(d, 'bogus' as 'asymptotic')));
    expect(readFileSync('docs/rule-language.md', 'utf8')).toContain(lineOf(() => api.parseRule(42 as unknown as string)).replace(' [rule/bad-argument]', ''));
  });
});
