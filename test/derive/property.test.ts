/**
 * Test 3: randomly generated rule files (random EMA coefficients, nested states, update
 * forms), none of which any code knows: the symbolic M equals the oracle.
 */
import { describe, expect, it } from 'vitest';
import { derive } from '../../src/derive/index.js';
import { parseRule } from '../../src/parse/rule-file.js';
import { oracleCorrection } from '../../src/numeric/oracle.js';
import { loadOptimizer } from '../../src/numeric/compile.js';
import { loadWasmOptimizer } from '../../src/numeric/wasm-loader.js';
import { evalCorrection, maxRelDiff, mulberry32, paramEnv, randomInstance } from './helpers.js';

const pick = <T,>(rand: () => number, xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;

/** A random rule; the decays are ≤ 0.7 so that n = 300 is past the burn-in. */
function randomRule(seed: number): string {
  const rand = mulberry32(seed);
  const d = () => (0.1 + 0.6 * rand()).toFixed(3);
  const lines = [
    `optimizer Random-${seed}`,
    `param b1 = ${d()} in (0, 1)`,
    `param b2 = ${d()} in (0, 1)`,
    `param b3 = ${d()} in (0, 1)`,
    `param c = ${(0.2 + rand()).toFixed(3)} in [0, 2]`,
    `param eps = ${(0.05 + 0.3 * rand()).toFixed(3)} in (0, inf)`,
    `state m = b1 * m + (1 - b1) * ${pick(rand, ['g', 'g + c * theta', 'g - c * theta^2', 'g * (1 + c * theta^2)'])}`,
  ];
  const hasV = rand() < 0.7;
  const hasW = rand() < 0.5;
  if (hasV) lines.push(`state v = b2 * v + (1 - b2) * ${pick(rand, ['g^2', '(g - m)^2', 'm^2', 'g^2 + c * prev(m)^2'])}`);
  if (hasW) lines.push(`state w = b3 * w + ${pick(rand, ['m', '(1 - b3) * g', 'c * prev(m)', 'm * g'])}`);
  const parts = [pick(rand, ['m', 'm / (1 - b1^(n+1))', 'g + c * prev(m)', 'm / sqrt(m^2 + eps)', 'exp(-c * m^2) * g'])];
  if (hasV) parts.push(pick(rand, ['/ sqrt(v + eps)', '/ (sqrt(v + eps) + eps)', '/ (1 + c * v)']));
  if (hasW) parts.push(pick(rand, ['+ c * w', '+ c * prev(w) * m', '- c * w^2']));
  if (rand() < 0.4) parts.push('+ c * theta');
  lines.push(`update ${parts.join(' ')}`);
  return lines.join('\n') + '\n';
}

describe('random rules against the oracle', () => {
  const seeds = Array.from({ length: 14 }, (_, i) => 1000 + i);
  it.each(seeds)('rule %i: asymptotic M, generated code, and for some exact-n M', (seed) => {
    const text = randomRule(seed);
    const rule = parseRule(text, `random-${seed}.rule`);
    const exact = seed % 3 === 0;
    const d = derive(rule, { exactN: exact });
    const env = paramEnv(rule);
    const rand = mulberry32(seed);
    const inst = randomInstance(rand);
    const oracle = oracleCorrection({ rule, params: env, ...inst, n: 300 });
    expect(maxRelDiff(oracle, evalCorrection(d.asymptotic.M, inst, env)), text).toBeLessThan(1e-7);
    // the generated code, for a rule no code knows: TS module against the oracle, WebAssembly against TS
    const mod = loadOptimizer(rule, d);
    const hvp = (v: Float64Array) => Float64Array.from({ length: inst.d }, (_, i) => v.reduce((acc, x, j) => acc + inst.hessian[i * inst.d + j]! * x, 0));
    expect(maxRelDiff(oracle, mod.correction(inst.theta, inst.g, hvp, env)), text).toBeLessThan(1e-7);
    const wasm = loadWasmOptimizer(rule, d);
    const a = Float64Array.from(inst.theta);
    const b = Float64Array.from(inst.theta);
    const sa = mod.init(inst.d);
    const sb = wasm.init(inst.d);
    for (let i = 0; i < 20; i++) { mod.step(a, inst.g, sa, 0.01, env); wasm.step(b, inst.g, sb, 0.01, env); }
    expect(maxRelDiff(a, b), text).toBeLessThan(1e-14);
    if (exact && d.exactN && !('unavailable' in d.exactN)) {
      for (const n of [2, 5]) {
        const o = oracleCorrection({ rule, params: env, ...inst, n });
        expect(maxRelDiff(o, evalCorrection(d.exactN.M, inst, { ...env, n })), text).toBeLessThan(1e-7);
      }
    }
  });
});
