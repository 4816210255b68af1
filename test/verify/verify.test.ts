/**
 * The verification stage: the derived formulas and the generated modules against the
 * oracle, including rules no code knows and the cases that were silently wrong before.
 */
import { describe, expect, it } from 'vitest';
import { derive } from '../../src/derive/index.js';
import { parseRule } from '../../src/parse/rule-file.js';
import * as E from '../../src/ir/expr.js';
import { InternalError } from '../../src/ir/diagnostics.js';
import { compareWithOracle, formulas, verifyDerivation } from '../../src/verify/index.js';
import { samplePoint } from '../../src/verify/sample.js';
import { oracleCorrection } from '../../src/numeric/oracle.js';
import { loadOptimizer } from '../../src/numeric/compile.js';
import { verifyModule } from '../../src/numeric/verify-module.js';
import { A, precise } from '../../src/runtime/precise.js';

const ADEMAMIX = `optimizer AdEMAMix
param beta1 = 0.9 in (0, 1)
param beta2 = 0.999 in (0, 1)
param beta3 = 0.9999 in (0, 1)
param alpha = 5 in [0, inf)
param eps = 1e-8 in [0, inf)
state m1 = beta1*m1 + (1-beta1)*g
state m2 = beta3*m2 + (1-beta3)*g
state v = beta2*v + (1-beta2)*g^2
update (m1/(1-beta1^(n+1)) + alpha*m2) / (sqrt(v/(1-beta2^(n+1))) + eps)
`;

const maxRel = (a: Float64Array, b: Float64Array) => {
  let d = 0, s = 0;
  a.forEach((x, i) => { d = Math.max(d, Math.abs(x - b[i]!)); s = Math.max(s, Math.abs(b[i]!)); });
  return s > 0 ? d / s : d;
};

describe('verification', () => {
  it('AdEMAMix: the exact finite-n module agrees with the oracle at n = 0, 1, 3, 10 (it was 13× off, non-zero at n = 0)', () => {
    const rule = parseRule(ADEMAMIX, 'ademamix.rule');
    const d = derive(rule, { exactN: true, verify: true });
    expect(d.verification!.checks).toBeGreaterThan(40);
    expect(d.verification!.maxRelativeDifference).toBeLessThan(1e-6);
    const mod = loadOptimizer(rule, d);
    const p = samplePoint(7);
    const hvp = (v: Float64Array) => Float64Array.from(v, (_, i) => v.reduce((acc, x, j) => acc + p.hessian[i * 3 + j]! * x, 0));
    for (const n of [0, 1, 3, 10]) {
      const o = oracleCorrection({ rule, theta: p.theta, g: p.g, hessian: p.hessian, n });
      const m = mod.correction(p.theta, p.g, hvp, {}, n);
      if (n === 0) for (const x of m) expect(Math.abs(x)).toBeLessThan(1e-12);
      else expect(maxRel(m, o)).toBeLessThan(1e-9);
    }
    verifyModule(rule, d, mod);
  });

  it('assumptions read in the user\'s terms: beta1 ≠ beta3, not (beta1^(-1))*beta3 ≠ 1', () => {
    const d = derive(parseRule(ADEMAMIX, 'ademamix.rule'), { exactN: true });
    expect(d.assumptions).toContain('beta1 ≠ beta3');
    expect(d.assumptions.join('\n')).not.toMatch(/\^\(-1\)/);
  });

  it('a schedule 0.96^((n+1)·ψ) derives like (0.96^ψ)^(n+1), and is verified at n deep enough for the rate 0.96^ψ', () => {
    const src = (pow: string) => `optimizer S\nparam beta = 0.9 in (0, 1)\nparam psi = 0.5 in (0, 1)\nstate m = beta*m + (1-beta)*g\nupdate m*(1 - 0.5*${pow})\n`;
    const a = derive(parseRule(src('0.96^((n+1)*psi)'), 's.rule'), { verify: true });
    const b = derive(parseRule(src('(0.96^psi)^(n+1)'), 's.rule'), { verify: true });
    expect(a.asymptotic.M.map((t) => E.key(t.weight))).toEqual(b.asymptotic.M.map((t) => E.key(t.weight)));
    expect(a.verification!.checks).toBeGreaterThan(0);
  });

  it('heavy-ball at β = 0.9999: the exact-n module keeps its digits (2.6·10⁻⁴ relative error before)', () => {
    const rule = parseRule('optimizer HB\nparam beta = 0.9999 in (0, 1)\nstate m = beta*m + g\nupdate m\n', 'hb.rule');
    const d = derive(rule, { exactN: true });
    const mod = loadOptimizer(rule, d);
    const p = samplePoint(3);
    const hvp = (v: Float64Array) => Float64Array.from(v, (_, i) => v.reduce((acc, x, j) => acc + p.hessian[i * 3 + j]! * x, 0));
    for (const n of [1, 2, 100, 10_000]) expect(maxRel(mod.correction(p.theta, p.g, hvp, {}, n), oracleCorrection({ rule, theta: p.theta, g: p.g, hessian: p.hessian, n }))).toBeLessThan(1e-10);
  });

  it('a parameter factor that vanishes on the domain is not divided out of the field (c = 0 gave M = 0)', () => {
    const rule = parseRule('optimizer C\nparam b = 0.5 in (0, 1)\nparam c = 1 in [0, 2]\nstate m = b*m + (1-b)*g\nupdate c*m + m^2\n', 'c.rule');
    const d = derive(rule, {});
    const v = compareWithOracle(rule, [formulas(d.asymptotic)], 'derived', { special: true });
    expect(v.checks).toBeGreaterThan(0);
  });

  it('a wrong formula is refused: an InternalError naming the quantity, n and the parameters', () => {
    const rule = parseRule('optimizer HB\nparam beta = 0.9 in (0, 1)\nstate m = beta*m + g\nupdate m\n', 'hb.rule');
    const d = derive(rule, { exactN: true });
    const wrong = { ...d.asymptotic, M: d.asymptotic.M.map((t) => ({ ...t, weight: E.mul(E.num(101, 100), t.weight) })) };
    expect(() => verifyDerivation(rule, [wrong])).toThrow(InternalError);
    expect(() => verifyDerivation(rule, [wrong])).toThrow(/derived M \(asymptotic\) of 'HB' differs from the oracle .* at beta = 0\.9/);
    expect(() => verifyDerivation(rule, [d.asymptotic, d.exactN as typeof d.asymptotic])).not.toThrow();
  });

  it('a generated module that disagrees is refused before use', () => {
    const rule = parseRule('optimizer HB\nparam beta = 0.9 in (0, 1)\nstate m = beta*m + g\nupdate m\n', 'hb.rule');
    const d = derive(rule, { exactN: true, verify: true });
    const mod = loadOptimizer(rule, d);
    const bad = { ...mod, correction: (...a: Parameters<typeof mod.correction>) => mod.correction(...a).map((x) => x * (1 + 1e-4)) };
    expect(() => verifyModule(rule, d, bad)).toThrow(/generated module M/);
  });

  it('a state with decay 0 derives asymptotically; its exact finite-n form has no closed form (not a singular update) and is evaluated by the recursion', () => {
    const rule = parseRule('optimizer ZeroDecay\nparam beta = 0.9 in (0, 1)\nstate m = beta*m + (1-beta)*g\nstate q = 0*q + g\nupdate m + 0.5*(g - q)\n', 'zero.rule');
    const d = derive(rule, { exactN: true, verify: true });
    expect(d.exactN).toMatchObject({ unavailable: expect.stringMatching(/decay 0/), recursion: expect.anything() });
    expect(verifyModule(rule, d, loadOptimizer(rule, d)).regimes).toEqual(['asymptotic', 'exact-n']);
    // each reason for a skipped check is listed once, with every parameter point it applies to
    const reasons = d.verification!.skipped.map((s) => s.replace(/ \(.*\)$/, ''));
    expect(new Set(reasons).size).toBe(reasons.length);
  });
});

describe('the extended-precision runtime', () => {
  const dd = (a: typeof A, x: readonly ReturnType<typeof A.num>[]) =>
    a.mul(a.add(a.pow(x[0]!, a.add(x[2]!, a.num(1))), a.neg(a.pow(x[1]!, a.add(x[2]!, a.num(1))))), a.inv(a.add(x[0]!, a.neg(x[1]!))));

  it('evaluates powers, logs and roots to float64 accuracy', () => {
    expect(precise([(a, x) => a.pow(x[0]!, a.num(11))], [0.9999], [true])[0]).toBe(Math.pow(0.9999, 11));
    expect(precise([(a, x) => a.log(x[0]!)], [0.9999], [true])[0]).toBeCloseTo(Math.log(0.9999), 17);
    expect(precise([(a, x) => a.exp(x[0]!)], [-3.7], [true])[0]).toBeCloseTo(Math.exp(-3.7), 15);
    expect(precise([(a, x) => a.pow(x[0]!, a.mul(a.num(1), a.inv(a.num(2))))], [2], [true])[0]).toBe(Math.SQRT2);
  });

  it('a divided difference at equal nodes is the removable limit, (n+1)·rⁿ', () => {
    expect(precise([dd], [0.9, 0.9, 5], [true, true, false])[0]).toBeCloseTo(6 * 0.9 ** 5, 14);
    // close nodes, against the positive (cancellation-free) sum Σ aᵏ·bⁿ⁻ᵏ
    const [a, b, n] = [0.9999, 0.99989999, 100_000];
    let sum = 0;
    for (let k = 0; k <= n; k++) sum += Math.exp(k * Math.log(a) + (n - k) * Math.log(b));
    expect(Math.abs(precise([dd], [a, b, n], [true, true, false])[0]! / sum - 1)).toBeLessThan(1e-9);
  });
});
