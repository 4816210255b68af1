/**
 * Test 1 of the engine: the symbolic M agrees with the oracle built from the definition of
 * M⁽ⁿ⁾ (src/numeric/oracle.ts, no shared code) at random points, for every shipped rule:
 * the asymptotic form at large n, the exact-n form at small n.
 */
import { describe, expect, it } from 'vitest';
import { readdirSync } from 'node:fs';
import { derive } from '../../src/derive/index.js';
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

  it('exact-n M and F match at n = 1, 3, 10', () => {
    const exact = d.exactN!;
    expect('unavailable' in exact).toBe(false);
    if ('unavailable' in exact) return;
    const rand = mulberry32(file.length * 104729);
    for (const n of [1, 3, 10]) {
      const env = randomParams(rule, rand);
      const inst = randomInstance(rand);
      const oracle = oracleCorrection({ rule, params: env, ...inst, n });
      expect(maxRelDiff(oracle, evalCorrection(exact.M, inst, { ...env, n }))).toBeLessThan(1e-7);
      const Fo = oracleDirection({ rule, params: env, ...inst, n });
      expect(maxRelDiff(Fo, field(exact.F, inst, { ...env, n }))).toBeLessThan(1e-9);
    }
  });
});
