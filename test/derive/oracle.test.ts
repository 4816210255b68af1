/**
 * Test 1 of the engine: the symbolic M agrees with the oracle built from the definition of
 * M⁽ⁿ⁾ (src/numeric/oracle.ts, no shared code) at random points, for every shipped rule:
 * the asymptotic form at large n, the exact-n form at small n.
 */
import { describe, expect, it } from 'vitest';
import { readdirSync } from 'node:fs';
import { derive } from '../../src/derive/index.js';
import type { RegimeResult } from '../../src/derive/types.js';
import { loadOptimizer } from '../../src/numeric/compile.js';
import { oracleCorrection, oracleDirection } from '../../src/numeric/oracle.js';
import { evalCorrection, field, loadRule, maxRelDiff, mulberry32, randomInstance, randomParams, isMatrixRuleFile } from './helpers.js';

const RULES = readdirSync('rules').filter((f) => f.endsWith('.rule') && !isMatrixRuleFile(`rules/${f}`)).sort();


describe.each(RULES)('%s against the oracle', (file) => {
  const rule = loadRule(`rules/${file}`);
  const d = derive(rule, { exactN: true });

  it('asymptotic M matches M⁽ⁿ⁾ at n = 400', () => {
    const rand = mulberry32(file.length * 7919);
    for (let trial = 0; trial < 3; trial++) {
      const env = randomParams(rule, rand);
      const inst = randomInstance(rand);
      const oracle = oracleCorrection({ rule, params: env, ...inst, n: 400 });
      const symbolic = evalCorrection(d.asymptotic.M, inst, env);
      expect(maxRelDiff(oracle, symbolic)).toBeLessThan(1e-7);
      const Fo = oracleDirection({ rule, params: env, ...inst, n: 400 });
      expect(maxRelDiff(Fo, field(d.asymptotic.F, inst, env))).toBeLessThan(1e-9);
    }
  });

  it('exact-n M and F match at n = 1, 3, 10 (the closed form, or the module\'s recursion where there is none)', () => {
    const exact = d.exactN!;
    const rand = mulberry32(file.length * 104729);
    // without a closed form, the generated module runs the rule with tangents instead
    const recursion = 'unavailable' in exact ? loadOptimizer(rule, d) : undefined;
    if ('unavailable' in exact) expect(exact.recursion).toBeDefined();
    for (const n of [1, 3, 10]) {
      const env = randomParams(rule, rand);
      const inst = randomInstance(rand);
      const hvp = (v: Float64Array) => Float64Array.from(v, (_, i) => v.reduce((acc, x, j) => acc + inst.hessian[i * v.length + j]! * x, 0));
      const M = recursion ? recursion.correction(inst.theta, inst.g, hvp, env, n) : evalCorrection((exact as RegimeResult).M, inst, { ...env, n });
      const F = recursion ? recursion.direction(inst.theta, inst.g, env, n) : field((exact as RegimeResult).F, inst, { ...env, n });
      expect(maxRelDiff(oracleCorrection({ rule, params: env, ...inst, n }), M)).toBeLessThan(1e-7);
      expect(maxRelDiff(oracleDirection({ rule, params: env, ...inst, n }), F)).toBeLessThan(1e-9);
    }
  });
});
