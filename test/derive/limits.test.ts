/** `--limit`: names checked against the rule before deriving; the limit itself checked for continuity. */
import { describe, expect, it } from 'vitest';
import { parseRule } from '../../src/parse/rule-file.js';
import { derive } from '../../src/derive/index.js';
import { RuleError, formatDiagnostic } from '../../src/ir/diagnostics.js';
import { evaluate } from '../../src/ir/eval.js';

const rule = parseRule(`optimizer A
param beta = 0.9 in (0, 1)
param eps = 1e-3 in (0, inf)
param gamma = 0.7 in (0.5, 1)
state v = beta * v + (1 - beta) * g^2
update g / (sqrt(v) + eps) + gamma * theta
`, 'a.rule');

const messages = (f: () => unknown) => {
  try { f(); } catch (err) { if (err instanceof RuleError) return err.diagnostics.map(formatDiagnostic); throw err; }
  return [];
};

describe('--limit', () => {
  it('a parameter whose domain keeps away from 0 is a located error', () => {
    expect(messages(() => derive(rule, { limits: ['gamma'] }))).toEqual([
      "a.rule:4:7: --limit 'gamma' sends gamma to 0, but 0 is not in the closure of its domain (0.5, 1) [rule/limit]",
    ]);
  });
  it('every unknown name is reported, with a hint where one is close', () => {
    const m = messages(() => derive(rule, { limits: ['esp', 'zeta'] }));
    expect(m).toHaveLength(2);
    expect(m[0]).toMatch(/^a\.rule:2:7: --limit 'esp' is not a parameter of A; did you mean 'eps'\?/);
  });
  it('a singular limit is refused (the state s tends to eps/(1 − beta), so g/s blows up)', () => {
    const singular = parseRule(`optimizer B
param eps = 1e-3 in (0, inf)
param beta = 0.9 in (0, 1)
state s = beta * s + eps
update g / s
`, 'b.rule');
    expect(messages(() => derive(singular, { limits: ['eps'] }))[0]).toMatch(/^b\.rule:2:7: the limit eps → 0 is singular/);
  });
  it('a continuous limit is taken: RMSProp-like M at ε → 0 has weight −β/((1 − β)|g|)', () => {
    const d = derive(rule, { limits: ['eps'] });
    expect(d.limits).toEqual(['eps']);
    expect(d.asymptotic.M).toHaveLength(1);
    const [t] = d.asymptotic.M;
    for (const [beta, gv] of [[0.9, 0.3], [0.5, -2]] as const) {
      const env = { beta, gamma: 0.7, g: gv, theta: 0.1 };
      expect(evaluate(t!.weight, env) * evaluate(t!.field, env)).toBeCloseTo((-beta / ((1 - beta) * Math.abs(gv))) * Math.sign(gv) + (-beta / ((1 - beta) * Math.abs(gv))) * 0.7 * 0.1, 10);
    }
  });
});
