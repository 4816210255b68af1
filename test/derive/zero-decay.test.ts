// States with decay 0 and the previous gradient (Adan, MARS): the lag weights 0^k of such a
// state are Kronecker factors [k = 0], which the exponential-polynomial sums resolve
// (src/derive/exp-poly.ts); prev(g) and prev(theta) read through a decay-0 state the parser adds.
import { describe, expect, it } from 'vitest';
import * as E from '../../src/ir/expr.js';
import { evaluate } from '../../src/ir/eval.js';
import { parseRule } from '../../src/parse/rule-file.js';
import { derive } from '../../src/derive/index.js';
import { sumClosedForm } from '../../src/derive/exp-poly.js';
import { RuleError } from '../../src/ir/diagnostics.js';
import { loadOptimizer } from '../../src/numeric/compile.js';
import { verifyModule } from '../../src/numeric/verify-module.js';
import { ruleFacts, runValidation, validationParams } from '../../src/numeric/validate.js';
import { PROBLEMS } from '../../src/numeric/problems/index.js';
import { toText } from '../../src/emit/expr-text.js';

const ctx = { domains: new Map([['b', { lo: 0.1, hi: 0.9, loIn: true, hiIn: true }]]), assume: () => {}, kronecker: true };
const u = E.sym('@u'), k = E.sym('@K'), b = E.sym('b');
const zeroTo = (x: E.Expr) => E.pow(E.ZERO, x);

/** A closed form against the literal sum, at lags 0..6 (0⁰ = 1). */
function literal(summand: E.Expr, index: string, lo: number, hi: (K: number) => number, K: number, beta: number): number {
  let acc = 0;
  for (let i = lo; i <= hi(K); i++) acc += evaluate(summand, { [index]: i, '@K': K, b: beta });
  return acc;
}

describe('Kronecker factors in the sums', () => {
  it('Σ_{u=0}^{K−1} b^u·0^(K−u−1) = b^(K−1)·[K ≥ 1], at every K including 0', () => {
    const summand = E.mul(E.pow(b, u), zeroTo(E.sub(E.sub(k, u), E.ONE)));
    const r = sumClosedForm(summand, '@u', E.ZERO, E.sub(k, E.ONE), ctx);
    if ('reason' in r) throw new Error(r.reason);
    for (let K = 0; K <= 6; K++) expect(evaluate(r, { '@K': K, b: 0.7 })).toBeCloseTo(literal(summand, '@u', 0, (x) => x - 1, K, 0.7), 14);
  });

  it('infinite sums keep the one lag: Σ_{k≥1} k·0^(k−1) = 1, Σ_{k≥1} 0^k = 0, Σ_{k≥1} k·b^k·0^(k−2) = 2b²', () => {
    const at = (e: E.Expr) => { const r = sumClosedForm(e, '@K', E.ONE, undefined, ctx); if ('reason' in r) throw new Error(r.reason); return evaluate(r, { b: 0.5 }); };
    expect(at(E.mul(k, zeroTo(E.sub(k, E.ONE))))).toBe(1);
    expect(at(zeroTo(k))).toBe(0);
    expect(at(E.mul(k, E.pow(b, k), zeroTo(E.sub(k, E.num(2)))))).toBeCloseTo(0.5, 15);
  });

  it('without kronecker (the exact finite-n regime) the sum is refused with a reason, not a singular power', () => {
    const r = sumClosedForm(zeroTo(E.sub(k, u)), '@u', E.ZERO, k, { ...ctx, kronecker: false });
    expect(r).toEqual({ reason: expect.stringMatching(/decay 0/) });
  });

  it('prints as the Iverson bracket of its equation', () => {
    expect(toText(zeroTo(E.sub(E.sym('k'), E.ONE)))).toBe('[k = 1]');
  });
});

describe('prev(g) and prev(theta)', () => {
  it('a momentum over 2g − prev(g): M = (2β − 1)/(1 − β)·H g, verified against the oracle', () => {
    const rule = parseRule('optimizer P\nparam beta = 0.8 in (0, 1)\nstate m = beta*m + (1-beta)*(2*g - prev(g))\nupdate m\n', 'p.rule');
    expect(rule.states.map((s) => [s.name, s.implicit ?? false])).toEqual([['g_prev', true], ['m', false]]);
    const d = derive(rule, { exactN: true, verify: true });
    expect(d.verification!.checks).toBeGreaterThan(0);
    expect(d.asymptotic.M).toHaveLength(1);
    expect(evaluate(d.asymptotic.M[0]!.weight, { beta: 0.8, g: 0.3, theta: 0 })).toBeCloseTo(0.6 / 0.2, 12);
    expect(verifyModule(rule, d, loadOptimizer(rule, d)).regimes).toEqual(['asymptotic', 'exact-n']);
  });

  it('theta − prev(theta): the direct dependence on the last iterate gives M = −λ·g', () => {
    const rule = parseRule('optimizer Q\nparam lambda = 0.3 in [0, 1]\nupdate g + lambda*(theta - prev(theta))\n', 'q.rule');
    const d = derive(rule, { exactN: true, verify: true });
    expect(d.asymptotic.M).toHaveLength(1);
    const t = d.asymptotic.M[0]!;
    const value = evaluate(t.weight, { lambda: 0.3, g: 0.7, theta: 0 }) * evaluate(t.field, { lambda: 0.3, g: 0.7, theta: 0 });
    expect(t.kind).toBe('field');
    expect(value).toBeCloseTo(-0.3 * 0.7, 12);
  });

  it('the added state takes a free name, and prev() of anything else is a located error', () => {
    const rule = parseRule('optimizer P\nparam beta = 0.8 in (0, 1)\nstate g_prev = beta*g_prev + g\nupdate g_prev + g - prev(g)\n', 'p.rule');
    expect(rule.states.map((s) => s.name)).toEqual(['g_prev2', 'g_prev']);
    expect(() => parseRule('optimizer P\nparam beta = 0.8 in (0, 1)\nupdate g - prev(beta)\n', 'p.rule')).toThrow(RuleError);
    expect(() => parseRule('optimizer P\nparam beta = 0.8 in (0, 1)\nupdate g - prev(beta)\n', 'p.rule')).toThrow(/p\.rule:3:.*prev\(\) takes a state, g or theta; 'beta' is none of them/);
  });

  it('Adan (Xie et al., 2022): derived, verified, and validated at shortened memories with slope ≈ 2', () => {
    const rule = parseRule(`optimizer Adan
param beta1 = 0.02 in (0, 1)
param beta2 = 0.08 in (0, 1)
param beta3 = 0.01 in (0, 1)
param eps = 1e-8 in [0, inf)
state m = (1 - beta1)*m + beta1*g
state v = (1 - beta2)*v + beta2*(g - prev(g))
state s = (1 - beta3)*s + beta3*(g + (1 - beta2)*(g - prev(g)))^2
update (m + (1 - beta2)*v)/(sqrt(s) + eps)
`, 'adan.rule');
    const d = derive(rule, { exactN: true, verify: true });
    const hs = [0.02, 0.01, 0.005];
    const set = { beta1: 0.5, beta2: 0.5, beta3: 0.5, eps: 1 };
    const hyper = Object.fromEntries(validationParams(rule, d, hs, set).map((p) => [p.name, p.value]));
    const r = runValidation({ module: loadOptimizer(rule, d), problem: PROBLEMS['quartic']!({ seed: 1 }), hs, horizon: 2, hyper, facts: ruleFacts(rule, d, hyper) });
    expect(r.slopes.exact).toBeGreaterThan(1.8);
    expect(r.slopes.none).toBeLessThan(1.3);
  });
});
