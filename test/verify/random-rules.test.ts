// Property test of the whole promise on rules no code knows: random decays (short, within
// 10⁻³ to 10⁻⁵ of 1, equal between states, 0), chained and nested states, prev(g), random
// update forms. Each rule is derived with verification on (the derived F⁽ⁿ⁾, M⁽ⁿ⁾ against
// the oracle at the defaults and parameter draws, n = 0, 1, 2, 3, 10, 100 and large n), its
// generated module is compared with the oracle in both regimes, and at n = 10⁴ once more;
// or it is refused with a located reason. Seeded: the same 60 rules every run.
import { describe, expect, it } from 'vitest';
import { parseRule } from '../../src/parse/rule-file.js';
import { derive } from '../../src/derive/index.js';
import { RuleError } from '../../src/ir/diagnostics.js';
import { mulberry32 } from '../../src/ir/random.js';
import { loadOptimizer } from '../../src/numeric/compile.js';
import { verifyModule } from '../../src/numeric/verify-module.js';
import { oracleCorrection, oracleCorrectionErrorBound, oracleDirection } from '../../src/numeric/oracle.js';
import { matVec, samplePoint } from '../../src/verify/sample.js';

const pick = <T,>(rand: () => number, xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;

function randomRule(seed: number): string {
  const rand = mulberry32(seed);
  const decay = () => (rand() < 0.2 ? (1 - 10 ** -(3 + 2 * rand())).toFixed(6) : (0.1 + 0.6 * rand()).toFixed(3));
  const lines = [`optimizer Random-${seed}`, `param b1 = ${decay()} in (0, 1)`, `param b2 = ${decay()} in (0, 1)`,
    `param c = ${(0.2 + rand()).toFixed(3)} in [0, 2]`, `param eps = ${(0.1 + 0.5 * rand()).toFixed(3)} in (0, inf)`];
  const states: string[] = [];
  const count = 1 + Math.floor(rand() * 3);
  for (let i = 0; i < count; i++) {
    const name = `s${i}`;
    // two states may share a decay (equal rates), and one may have none (decay 0)
    const a = pick(rand, ['b1', 'b1', 'b2', 'b2', '0']);
    const earlier = states.length ? pick(rand, states) : 'g';
    const drive = pick(rand, ['g', 'g^2', '(g - prev(g))', `${earlier}`, `(g - ${earlier})^2`, `c * prev(${earlier === 'g' ? 'g' : earlier})`, `g * ${earlier}`, 'g + c * theta']);
    const scale = a === '0' ? '' : `(1 - ${a}) * `;
    lines.push(`state ${name} = ${a} * ${name} + ${scale}${drive}`);
    states.push(name);
  }
  const first = states[0]!, last = states[states.length - 1]!;
  const update = pick(rand, [
    `${last}`, `${first} / (1 - b1^(n+1))`, `${first} / sqrt(${last}^2 + eps)`, `tanh(c * ${last}) + g`,
    `${last} / (sqrt(abs(${first}) + eps) + eps)`, `g + c * prev(${last})`, `${first} * exp(-c * ${last}^2)`, `${last} + c * (g - prev(g))`,
  ]);
  lines.push(`update ${update}${rand() < 0.3 ? ' + c * theta' : ''}`);
  return `${lines.join('\n')}\n`;
}

const maxRel = (a: Float64Array, b: Float64Array) => {
  let d = 0, s = 0;
  a.forEach((x, i) => { d = Math.max(d, Math.abs(x - b[i]!)); s = Math.max(s, Math.abs(b[i]!)); });
  return s > 0 ? d / s : d;
};

describe('60 random rules: verified, or refused with a located reason', () => {
  const outcomes = { derived: 0, refused: 0, recursion: 0 };
  it.each(Array.from({ length: 60 }, (_, i) => 5000 + i))('rule %i', (seed) => {
    const text = randomRule(seed);
    let d;
    const rule = parseRule(text, `random-${seed}.rule`);
    try {
      d = derive(rule, { exactN: true, verify: true });
    } catch (e) {
      // a refusal names its place in the file, one line per reason, in the user's names
      expect(e, text).toBeInstanceOf(RuleError);
      for (const g of (e as RuleError).diagnostics) {
        expect(g.span.line, text).toBeGreaterThan(0);
        expect(g.message, text).not.toMatch(/@|_prev\b/);
      }
      outcomes.refused++;
      return;
    }
    outcomes.derived++;
    expect(d.verification!.checks, text).toBeGreaterThan(0);
    const mod = loadOptimizer(rule, d);
    expect(verifyModule(rule, d, mod).regimes, text).toEqual(['asymptotic', 'exact-n']);
    if (d.exactN && 'unavailable' in d.exactN) outcomes.recursion++;
    // and far out, where closed forms overflow or cancel if they are going to
    const p = samplePoint(seed);
    const input = { rule, theta: p.theta, g: p.g, hessian: p.hessian, n: 10_000 };
    const oM = oracleCorrection(input);
    const M = mod.correction(p.theta, p.g, (v) => matVec(p.hessian, v), {}, 10_000);
    const bound = oracleCorrectionErrorBound(input);
    const scale = oM.reduce((m, x) => Math.max(m, Math.abs(x)), 0);
    expect(M.every((x, i) => Math.abs(x - oM[i]!) <= 1e-6 * scale + bound + 1e-300), `${text}M at n = 10⁴: ${maxRel(M, oM)}`).toBe(true);
    expect(maxRel(mod.direction(p.theta, p.g, {}, 10_000), oracleDirection(input)), text).toBeLessThan(1e-9);
  }, 60_000);

  it('covers both outcomes and the recursion', () => {
    expect(outcomes.derived).toBeGreaterThan(30);
    expect(outcomes.recursion).toBeGreaterThan(3);
  });
});
