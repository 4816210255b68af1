/**
 * tanh end to end: the IR's canonical rules, derivative and interval bound, the
 * extended-precision runtime, a rule that uses it derived and verified against the oracle,
 * the generated module against the oracle at finite n, its potential, and the refusals.
 */
import { describe, expect, it } from 'vitest';
import * as E from '../../src/ir/expr.js';
import { evaluate, evaluateWithError } from '../../src/ir/eval.js';
import { bound, isContraction, isPositive } from '../../src/ir/intervals.js';
import { diff } from '../../src/derive/diff.js';
import { derive } from '../../src/derive/index.js';
import { parseRule, parseRuleFile } from '../../src/parse/rule-file.js';
import { RuleError } from '../../src/ir/diagnostics.js';
import { loadOptimizer } from '../../src/numeric/compile.js';
import { oracleCorrection, oracleCorrectionErrorBound, oracleDirection } from '../../src/numeric/oracle.js';
import { verifyModule } from '../../src/numeric/verify-module.js';
import { A } from '../../src/runtime/precise.js';
import { toText } from '../../src/emit/expr-text.js';
import { toLatex } from '../../src/emit/expr-latex.js';
import { maxRelDiff as maxRel, mulberry32, randomInstance } from './helpers.js';

const TANH_MOMENTUM = `optimizer TanhMomentum
param beta = 0.9 in (0, 1)
param c = 2 in (0, inf)
state m = beta*m + (1-beta)*g
update tanh(c*m)/c
`;

const { sym, num, mul, neg, tanh } = E;
const x = sym('x');

describe('tanh in the IR', () => {
  it('canonical forms: tanh(0) = 0, odd, sign(tanh x) = sign x', () => {
    expect(tanh(E.ZERO)).toBe(E.ZERO);
    expect(tanh(neg(x))).toBe(neg(tanh(x)));
    expect(tanh(mul(num(-3), x))).toBe(mul(num(-1), tanh(mul(num(3), x))));
    expect(tanh(E.sub(num(-1), x))).toBe(neg(tanh(E.add(E.ONE, x))));
    expect(tanh(E.sub(E.ONE, x))).not.toBe(neg(tanh(E.sub(x, E.ONE)))); // neither reads as a negation
    expect(tanh(num(-2))).toBe(neg(tanh(num(2))));
    expect(E.sign(tanh(x))).toBe(E.sign(x));
  });

  it('d tanh(u) = (1 − tanh(u)²)·u′, at random points against a central difference', () => {
    const e = tanh(E.add(mul(num(3), E.pow(x, num(2))), sym('a')));
    const de = diff(e, 'x');
    const r = mulberry32(5);
    for (let i = 0; i < 20; i++) {
      const env = { x: 2 * r() - 1, a: 2 * r() - 1 };
      const h = 1e-6;
      const fd = (evaluate(e, { ...env, x: env.x + h }) - evaluate(e, { ...env, x: env.x - h })) / (2 * h);
      expect(evaluate(de, env)).toBeCloseTo(fd, 7);
    }
  });

  it('evaluates with a rounding-error bound', () => {
    const [v, err] = evaluateWithError(tanh(x), { x: 0.5 });
    expect(v).toBe(Math.tanh(0.5));
    expect(err).toBeGreaterThan(0);
    expect(err).toBeLessThan(1e-15);
  });

  it('interval bound: increasing onto the open (−1, 1)', () => {
    const all = bound(tanh(sym('g')), new Map());
    expect(all).toEqual({ lo: -1, hi: 1, loIn: false, hiIn: false });
    expect(isContraction(all)).toBe(true);
    const far = bound(tanh(sym('c')), new Map([['c', { lo: 40, hi: 50, loIn: true, hiIn: true }]]));
    expect(far.hi).toBe(1);
    expect(far.hiIn).toBe(false); // Math.tanh(50) rounds to 1, which tanh never attains
    expect(isPositive(bound(tanh(sym('c')), new Map([['c', { lo: 0, hi: Infinity, loIn: false, hiIn: false }]])))).toBe(true);
  });

  it('printers: tanh(c·g) in text, \\tanh in LaTeX', () => {
    expect(toText(E.div(tanh(mul(sym('c'), sym('g'))), sym('c')))).toBe('tanh(c·g)/c');
    expect(toLatex(tanh(sym('g')))).toBe('\\tanh(g_j)');
  });
});

describe('tanh in the extended-precision runtime', () => {
  it('rounds to Math.tanh across the range, from subnormals to saturation', () => {
    for (const v of [0, 5e-324, -1e-300, 1e-20, -0.3, 0.5, 0.99, 1, -2.5, 10, 19, -40, 300, 1e6, -1e300]) {
      const got = A.value(A.tanh(A.num(v)));
      expect(Math.abs(got - Math.tanh(v)), String(v)).toBeLessThanOrEqual(2 * Number.EPSILON * Math.abs(Math.tanh(v)));
    }
  });

  it('keeps its digits: tanh(x) − x = −x³/3 + … at x = 10⁻²⁰, and tanh(2x) = 2·tanh x/(1 + tanh² x)', () => {
    const t = A.num(1e-20);
    expect(A.value(A.add(A.tanh(t), A.neg(t))) / (-(1e-60) / 3)).toBeCloseTo(1, 12);
    for (const v of [0.2, 0.7, 3]) {
      const th = A.tanh(A.num(v));
      const rhs = A.mul(A.num(2), th, A.inv(A.add(A.num(1), A.mul(th, th))));
      const lhs = A.tanh(A.num(2 * v));
      // far beyond float64: a difference that cancels 160 bits or more is refused as noise (Singular)
      let difference = 0;
      try { difference = A.value(A.add(lhs, A.neg(rhs))); } catch { /* cancelled ≥ 160 bits */ }
      expect(Math.abs(difference)).toBeLessThan(1e-40);
    }
  });
});

describe('a rule with tanh: TanhMomentum', () => {
  const rule = parseRule(TANH_MOMENTUM, 'tanh-momentum.rule');
  const d = derive(rule, { exactN: true, verify: true });

  it('derives, and the derivation agrees with the oracle', () => {
    expect(d.verification!.checks).toBeGreaterThan(0);
    expect(d.verification!.maxRelativeDifference).toBeLessThan(1e-9);
    expect(d.exactN && !('unavailable' in d.exactN)).toBe(true);
  });

  it('the asymptotic F is tanh(c·g)/c and M = β/(c(1 − β))·(1 − tanh²(c·g))·H·tanh(c·g), as values', () => {
    const r = mulberry32(11);
    for (let i = 0; i < 10; i++) {
      const env = { beta: 0.1 + 0.8 * r(), c: 0.2 + 3 * r(), g: 4 * r() - 2, theta: 2 * r() - 1 };
      expect(evaluate(d.asymptotic.F, env)).toBeCloseTo(Math.tanh(env.c * env.g) / env.c, 13);
      expect(d.asymptotic.M).toHaveLength(1);
      const [t] = d.asymptotic.M;
      expect(t!.kind).toBe('hvp');
      const want = (env.beta / (env.c * (1 - env.beta))) * (1 - Math.tanh(env.c * env.g) ** 2) * Math.tanh(env.c * env.g);
      expect(evaluate(t!.weight, env) * evaluate(t!.field, env)).toBeCloseTo(want, 12);
    }
  });

  it('the generated module agrees with the oracle at n = 1, 10, 100 and asymptotically', () => {
    const mod = loadOptimizer(rule, d);
    verifyModule(rule, d, mod);
    for (const seed of [1, 2, 3]) {
      const inst = randomInstance(mulberry32(seed));
      const hvp = (v: Float64Array) => Float64Array.from(v, (_, i) => v.reduce((acc, y, j) => acc + inst.hessian[i * inst.d + j]! * y, 0));
      for (const params of [{}, { beta: 0.5, c: 0.3 }, { beta: 0.99, c: 5 }] as Record<string, number>[]) {
        for (const n of [1, 10, 100]) {
          const input = { rule, params, theta: inst.theta, g: inst.g, hessian: inst.hessian, n };
          const o = oracleCorrection(input);
          const tol = Math.max(1e-10, 100 * oracleCorrectionErrorBound(input) / Math.max(...o.map(Math.abs)));
          expect(maxRel(mod.correction(inst.theta, inst.g, hvp, params, n), o), `n = ${n}`).toBeLessThan(tol);
          expect(maxRel(mod.direction(inst.theta, inst.g, params, n), oracleDirection(input))).toBeLessThan(1e-13);
        }
      }
      // n = 2000 is the asymptotic regime to double precision at β = 0.9
      const far = oracleCorrection({ rule, theta: inst.theta, g: inst.g, hessian: inst.hessian, n: 2000 });
      expect(maxRel(mod.correction(inst.theta, inst.g, hvp), far)).toBeLessThan(1e-10);
    }
  });

  it('M is the weighted gradient of Φ = Σ log cosh(c·g)/c (up to a constant), without overflow at large g', () => {
    const [p] = d.interpretation.potentials!;
    expect(p!.potential.lossCoefficient).toBe(E.ZERO);
    const phi = p!.potential.perCoordinate;
    const env = { beta: 0.9, c: 2, theta: 0.3 };
    const at = (g: number) => evaluate(phi, { ...env, g });
    for (const g of [-1.3, 0.2, 0.9]) expect(at(g) - at(0)).toBeCloseTo(Math.log(Math.cosh(2 * g)) / 2, 12);
    expect(at(1000) - at(0)).toBeCloseTo(1000 - Math.log(2) / 2, 9);
    expect(Number.isFinite(at(1e6))).toBe(true);
    const dphi = diff(phi, 'g');
    for (const g of [-2, 0.4, 3]) expect(evaluate(dphi, { ...env, g })).toBeCloseTo(Math.tanh(2 * g), 12);
  });

  it('prints tanh in every output', () => {
    expect(toText(d.asymptotic.F)).toBe('tanh(c·g)/c');
    expect(toLatex(d.asymptotic.F)).toBe('\\frac{\\tanh(c g_j)}{c}');
  });
});

describe('tanh refusals', () => {
  const located = (src: string) => {
    try { parseRuleFile(src, 'x.rule'); } catch (err) {
      expect(err).toBeInstanceOf(RuleError);
      return (err as RuleError).diagnostics[0]!;
    }
    throw new Error('no error');
  };

  it('a name cannot be tanh', () => {
    const d = located('optimizer T\nparam tanh = 1 in (0, inf)\nupdate tanh * g\n');
    expect(d.span.line).toBe(2);
  });

  it('takes one argument', () => {
    const d = located('optimizer T\nupdate tanh(g, g)\n');
    expect(d.code).toBe('rule/syntax');
    expect(d.message).toMatch(/tanh takes 1 argument/);
  });

  it('a matrix rule that uses tanh gets a located error naming the functions matrix rules know', () => {
    const d = located('optimizer M\nshape matrix\nparam mu = 0.9 in (0, 1)\nstate b = mu * b + g\nupdate tanh(b)\n');
    expect(d.code).toBe('rule/unknown-function');
    expect(d.span).toMatchObject({ file: 'x.rule', line: 5 });
    expect(d.message).toMatch(/unknown function 'tanh'.*matrix rules know/);
  });
});

describe('the verdict of a tanh momentum', () => {
  it('is proved regularizing: the weight is β/(c(1−β)) times 1 − tanh²(cg), whose bound is (0, 1]', () => {
    const d = derive(parseRule(TANH_MOMENTUM, 'tanh.rule'), {});
    expect(d.interpretation.verdict.kind).toBe('regularizing');
    expect(d.interpretation.verdict.reason).toMatch(/parameter factor of one sign times a sum/);
  });
});
