/** A rule's generated module against the oracle, in the exact finite-n regime (shared by tests). */
import { expect } from 'vitest';
import { parseRule } from '../../src/parse/rule-file.js';
import { derive } from '../../src/derive/index.js';
import { loadOptimizer } from '../../src/numeric/compile.js';
import { oracleCorrection, oracleDirection } from '../../src/numeric/oracle.js';
import { samplePoint } from '../../src/verify/sample.js';

/** max |a − b| / max |b| (the plain difference where b is 0). */
export const maxRel = (a: Float64Array, b: Float64Array) => {
  let d = 0, s = 0;
  a.forEach((x, i) => { d = Math.max(d, Math.abs(x - b[i]!)); s = Math.max(s, Math.abs(b[i]!)); });
  return s > 0 ? d / s : d;
};

/**
 * Derives the rule (both regimes, verified), loads its module and compares its F⁽ⁿ⁾ and M⁽ⁿ⁾
 * with the oracle's at each n, at one seeded point (M⁽⁰⁾ must be exactly 0): the worst relative
 * difference, with what was built.
 */
export function agreement(source: string, params: Record<string, number>, ns: readonly number[]) {
  const rule = parseRule(source, 'rule.rule');
  const d = derive(rule, { exactN: true, verify: true });
  const mod = loadOptimizer(rule, d);
  const p = samplePoint(11);
  const hvp = (v: Float64Array) => Float64Array.from(v, (_, i) => v.reduce((acc, x, j) => acc + p.hessian[i * 3 + j]! * x, 0));
  let worst = 0;
  for (const n of ns) {
    const input = { rule, params, theta: p.theta, g: p.g, hessian: p.hessian, n };
    worst = Math.max(worst, maxRel(mod.direction(p.theta, p.g, params, n), oracleDirection(input)));
    const m = mod.correction(p.theta, p.g, hvp, params, n);
    if (n === 0) for (const x of m) expect(x).toBe(0);
    else worst = Math.max(worst, maxRel(m, oracleCorrection(input)));
  }
  return { rule, d, mod, worst, point: p };
}
