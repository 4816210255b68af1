/** Matrix rules: the two files parse as written; shape and symmetry mistakes are located errors. */
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { parseRule, parseRuleFile } from '../../src/parse/rule-file.js';
import { RuleError } from '../../src/ir/diagnostics.js';
import { isMatrixRule } from '../../src/ir/rule.js';

const MATRIX_RULES = ['shampoo', 'muon', 'one-sided-shampoo'];

const errorOf = (body: string): string => {
  try {
    parseRuleFile(`optimizer X\nshape matrix\nparam beta = 0.9 in (0, 1)\n${body}`, 'x.rule');
  } catch (e) {
    if (e instanceof RuleError) return e.message;
    throw e;
  }
  return 'no error';
};

describe('matrix rules', () => {
  it.each(MATRIX_RULES)('%s parses, with shapes and symmetry inferred', (name) => {
    const r = parseRuleFile(readFileSync(`rules/${name}.rule`, 'utf8'), name);
    expect(isMatrixRule(r)).toBe(true);
    if (!isMatrixRule(r)) return;
    for (const s of r.states) {
      if (s.name === 'L') expect([s.rows, s.cols, s.sym]).toEqual(['r', 'r', true]);
      if (s.name === 'R') expect([s.rows, s.cols, s.sym]).toEqual(['c', 'c', true]);
      if (s.name === 'b') expect([s.rows, s.cols, s.sym]).toEqual(['r', 'c', false]);
    }
  });

  it('the issue text of Shampoo parses as written', () => {
    const src = `optimizer Shampoo
shape matrix
param beta = 0.99 in (0, 1)
param eps = 1e-6 in (0, inf)
state L = beta * L + (1 - beta) * g * g'
state R = beta * R + (1 - beta) * g' * g
update pow(L / (1 - beta^(n+1)) + eps * I, -1/4) * g * pow(R / (1 - beta^(n+1)) + eps * I, -1/4)
`;
    expect(isMatrixRule(parseRuleFile(src, 's.rule'))).toBe(true);
  });

  it('parseRule (coordinate-wise only) points at the shape line', () => {
    expect(() => parseRule(readFileSync('rules/muon.rule', 'utf8'), 'muon.rule')).toThrow(/muon\.rule:4:7: this is a matrix rule/);
  });

  it.each([
    ['update g * g', /x\.rule:4:10: matrix product of a r×c and a r×c matrix: sizes cannot agree/],
    ['state A = beta * A + g * g\nupdate g', /x\.rule:4:24: matrix product/],
    ['update pow(g, 2)', /x\.rule:4:12: pow of a r×c matrix \(it must be square\)/],
    ["update pow(g * theta', -1/2) * g", /x\.rule:4:14: pow\(A, p\) needs a symmetric positive \(semi\)definite A/],
    ["update g'", /x\.rule:4:8: the update must have the shape of the parameter, r×c; this one is c×r/],
    ["update pow(g * g' + 1, -1/2) * g", /cannot add a scalar and a matrix/],
    ["update pow(g * g', beta) * g", /the power of a matrix must be a constant number/],
    ['update sqrt(g)', /'sqrt' acts on scalars/],
    ['update g ^ 2', /\^ raises scalars; write pow\(A, p\)/],
    ['update msign(g) + I', /'\+' of a r×c and a \?×\? matrix|sizes cannot agree/],
    ['update g / g', /only a division of a matrix by a scalar/],
    ['update mshign(g)', /unknown function 'mshign'; did you mean 'msign'\?/],
    ['update 2 * beta', /the update of a matrix rule must be a matrix/],
  ])('%s', (body, message) => {
    expect(errorOf(body)).toMatch(message);
  });

  it('symmetry is structural: Xᵀ A X with A symmetric is symmetric, X A X is not', () => {
    expect(errorOf("state L = beta * L + g * g'\nupdate pow(g' * L * g + I, -1/2) * g'")).toMatch(/shape of the parameter/);
    expect(errorOf("state L = beta * L + g * g'\nupdate pow(g' * L * g + I, -1/2) * g' * g * g' * g * g'")).toMatch(/shape of the parameter|no error/);
    expect(errorOf("state L = beta * L + g * g'\nupdate pow(L * L * g * g' + I, -1/2) * g")).toMatch(/not symmetric/);
    expect(errorOf("state L = beta * L + g * g'\nupdate pow(L * L + I, -1/2) * g")).toBe('no error');
    expect(errorOf("state P = beta * P + g * theta'\nupdate pow(P + I, -1/2) * g")).toMatch(/not symmetric/);
  });
});
