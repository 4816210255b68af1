/**
 * The committed derivations/ are golden files: they must be what `memloss build` writes now
 * (so they never go stale), and their formulas, read back from the JSON's mathjs strings by
 * an independent parser, must agree with the oracle built from the definition of M.
 */
import { describe, expect, it } from 'vitest';
import { readdirSync, readFileSync } from 'node:fs';
import { main } from '../src/cli.js';
import { mathjsWithSumOver } from '../src/emit/mathjs-eval.js';
import { oracleCorrection } from '../src/numeric/oracle.js';
import { loadOptimizer } from '../src/numeric/compile.js';
import { derive } from '../src/derive/index.js';
import { capture } from './capture.js';
import { loadRule, maxRelDiff, mulberry32, randomInstance, randomParams, type Instance, isMatrixRuleFile } from './derive/helpers.js';

const math = mathjsWithSumOver();
const names = readdirSync('rules').filter((f) => f.endsWith('.rule') && !isMatrixRuleFile(`rules/${f}`)).map((f) => f.slice(0, -5)).sort();

interface JsonTerm { kind: 'hvp' | 'field'; weight: { mathjs: string }; field: { mathjs: string } }

function correctionFromJson(terms: JsonTerm[], inst: Instance, env: Record<string, number>): Float64Array {
  const M = new Float64Array(inst.d);
  for (const t of terms) {
    const at = (src: string) => Float64Array.from({ length: inst.d }, (_, j) => Number(math.evaluate(src, { ...env, g: inst.g[j], theta: inst.theta[j] })));
    const w = at(t.weight.mathjs);
    const V = at(t.field.mathjs);
    for (let i = 0; i < inst.d; i++) {
      let hv = t.kind === 'field' ? V[i]! : 0;
      if (t.kind === 'hvp') for (let j = 0; j < inst.d; j++) hv += inst.hessian[i * inst.d + j]! * V[j]!;
      M[i] += w[i]! * hv;
    }
  }
  return M;
}

describe('derivations/', () => {
  it('is what `memloss build` writes now (build --check passes)', async () => {
    const r = await capture(() => main(['build', '--check']));
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
  });

  it.each(names)('%s: the committed M agrees with the oracle and the generated correction', (name) => {
    const json = JSON.parse(readFileSync(`derivations/${name}/derivation.json`, 'utf8'));
    const rule = loadRule(`rules/${name}.rule`);
    const rand = mulberry32(name.length * 31 + 7);
    const env = randomParams(rule, rand);
    const inst = randomInstance(rand);
    const oracle = oracleCorrection({ rule, params: env, ...inst, n: 400 });
    const fromJson = correctionFromJson(json.regimes.asymptotic.M, inst, env);
    expect(maxRelDiff(oracle, fromJson)).toBeLessThan(1e-7);
    // the generated module's correction is the JSON's terms, evaluated by mathjs
    const mod = loadOptimizer(rule, derive(rule));
    const hvp = (v: Float64Array) => Float64Array.from({ length: inst.d }, (_, i) => v.reduce((acc, x, j) => acc + inst.hessian[i * inst.d + j]! * x, 0));
    expect(maxRelDiff(fromJson, mod.correction(inst.theta, inst.g, hvp, env))).toBeLessThan(1e-10);
  });
});
