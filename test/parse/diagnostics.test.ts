/** Bad input gets one located line with the reason: parse errors and framework errors. */
import { describe, expect, it } from 'vitest';
import { parseRule } from '../../src/parse/rule-file.js';
import { derive } from '../../src/derive/index.js';
import { RuleError, formatDiagnostic } from '../../src/ir/diagnostics.js';

function errorsOf(src: string, opts: { derive?: boolean } = {}): string[] {
  try {
    const r = parseRule(src, 'x.rule');
    if (opts.derive) derive(r);
  } catch (err) {
    if (err instanceof RuleError) return err.diagnostics.map(formatDiagnostic);
    throw err;
  }
  return [];
}

const head = 'optimizer X\nparam beta = 0.9 in (0, 1)\n';

describe('located diagnostics', () => {
  it.each([
    ['misspelled symbol, with a hint', `${head}state m = beta * m + (1 - bta) * g\nupdate m`, /^x\.rule:3:27: unknown symbol 'bta'; did you mean 'beta'\? \[rule\/unknown-symbol\]$/],
    ['syntax error at the token', `${head}update g +* 2`, /^x\.rule:3:11: syntax error: unexpected '\*' where a value is expected \[rule\/syntax\]$/],
    ['missing operator', `${head}update 2 g`, /^x\.rule:3:10: syntax error: missing operator before 'g'/],
    ['unbalanced parenthesis', `${head}update (g + 1`, /^x\.rule:3:14: syntax error: expected '\)'/],
    ['unknown function', `${head}update sqr(g)`, /^x\.rule:3:8: unknown function 'sqr'; did you mean 'sqrt'\?/],
    ['non-differentiable function', `${head}update floor(g)`, /^x\.rule:3:8: 'floor' has no derivative.*\[rule\/non-differentiable\]$/],
    ['default outside the domain', 'optimizer X\nparam beta = 1.5 in (0, 1)\nupdate g', /^x\.rule:2:14: default 1\.5 of 'beta' lies outside its domain \(0, 1\)/],
    ['h inside an expression', `${head}update h * g`, /^x\.rule:3:8: 'h' is the step size/],
    ['reserved name', 'optimizer X\nparam g = 1 in (0, 2)\nupdate g', /^x\.rule:2:7: 'g' is reserved/],
    ['a word mathjs reads as a constant', 'optimizer X\nparam NaN = 1 in (0, 2)\nupdate g', /^x\.rule:2:7: 'NaN' is reserved: the JSON output writes expressions in mathjs.*\[rule\/reserved-name\]$/],
    ['a mathjs operator word as a state', 'optimizer X\nstate and = 0.5 * and + g\nupdate and', /^x\.rule:2:7: 'and' is reserved/],
    ['a mathjs word as an fn argument', 'optimizer X\nfn f(xnull, null) = xnull\nupdate f(g, g)', /^x\.rule:2:13: 'null' is reserved/],
    ['duplicate declaration', `${head}param beta = 0.5 in (0, 1)\nupdate g`, /^x\.rule:3:7: 'beta' is already declared on line 2/],
    ['missing update', `${head}state m = beta * m + g`, /^x\.rule:3:1: missing 'update' line/],
    ['unknown keyword', `${head}upate g`, /^x\.rule:3:1: expected a declaration .*did you mean 'update'\?/],
    ['prev of a non-state', `${head}update prev(beta)`, /^x\.rule:3:13: prev\(\) takes a state, g or theta; 'beta' is none of them/],
    ['matrix syntax in a coordinate rule', `${head}update g'`, /^x\.rule:3:9: syntax error: matrix operator/],
  ])('%s', (_, src, pattern) => {
    const errs = errorsOf(src);
    expect(errs.length).toBeGreaterThanOrEqual(1);
    expect(errs[0]).toMatch(pattern);
    for (const e of errs) expect(e).not.toMatch(/\n|at .*\.ts/);
  });

  it.each([
    ['Adagrad: memory does not decay', 'optimizer Adagrad\nparam eps = 1e-10 in (0, inf)\nstate v = v + g^2\nupdate g / (sqrt(v) + eps)', /^x\.rule:3:7: memory does not decay exponentially: 'v' keeps its previous value with coefficient 1.*\[rule\/memory-not-decaying\]$/],
    ['a coefficient that can reach 1 on its domain', 'optimizer X\nparam beta = 0.9 in (0, 1]\nstate m = beta * m + g\nupdate m', /^x\.rule:3:7: memory does not decay exponentially: .*beta.* can reach magnitude 1/],
    ['not linear in the previous value', `${head}state m = beta * m^2 + g\nupdate m`, /^x\.rule:3:7: state 'm' is not linear in its own previous value/],
    ['a coefficient that depends on g', `${head}state m = beta * g * m + g\nupdate m`, /^x\.rule:3:7: the coefficient of 'm' in its own recursion, .* depends on g/],
    ['Yogi: sign of an expression in the state (the derivative in v is 1 almost everywhere, the recursion still not linear)', 'optimizer Yogi\nparam beta2 = 0.999 in (0, 1)\nstate v = v - (1-beta2)*sign(v - g^2)*g^2\nupdate g/(sqrt(v)+1e-3)', /^x\.rule:3:7: state 'v' is not linear in its own previous value: .*sign or abs.*\[rule\/not-linear\]$/],
    ['1/n averaging: coefficient depends on n', `${head}state m = (n / (n + 1)) * m + g / (n + 1)\nupdate m`, /^x\.rule:3:7: the coefficient of 'm' .* depends on n/],
  ])('%s', (_, src, pattern) => {
    const errs = errorsOf(src, { derive: true });
    expect(errs).toHaveLength(1);
    expect(errs[0]).toMatch(pattern);
  });

  it('notes name a previous value as the rule writes it, prev(m), not an internal spelling that a user state could share', () => {
    // a state named m_prev beside m: the note must not be ambiguous between the two
    const d = derive(parseRule(`${head}state m_prev = beta * m_prev + g\nstate m = beta * m + (1 - beta) * g\nupdate sign(beta * prev(m) + g) + m_prev`, 'x.rule'));
    const text = [...d.notes, ...d.assumptions].join('\n');
    expect(text).toMatch(/sign\(.*prev\(m\).*\) lies on the memory path/);
    expect(text).not.toMatch(/[^(]m_prev|@/);
  });

  it('reports errors on several lines together', () => {
    const errs = errorsOf(`${head}state m = beta * m + gg\nupdate m + sqr(g)`);
    expect(errs.map((e) => e.split(':')[1])).toEqual(['3', '4']);
  });

  it('exact sign on the memory path is allowed, with a note', () => {
    const d = derive(parseRule(`${head}state m = beta * m + (1 - beta) * g\nupdate sign(m)`, 'x.rule'));
    expect(d.asymptotic.M).toHaveLength(0);
    expect(d.notes.join('\n')).toMatch(/derivative vanishes almost everywhere.*smooth surrogate/);
  });
});
