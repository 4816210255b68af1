/**
 * Hand-built derivations for the emitter tests (the engine is tested elsewhere): the
 * closed forms below are the theory's worked examples (docs/theory.md §5).
 */
import { readFileSync } from 'node:fs';
import * as E from '../../src/ir/expr.js';
import type { Rule } from '../../src/ir/rule.js';
import { parseRule } from '../../src/parse/rule-file.js';
import type { Derivation, RegimeResult } from '../../src/derive/types.js';

const ruleFile = (name: string): Rule => {
  const file = `rules/${name}.rule`;
  return parseRule(readFileSync(new URL(`../../${file}`, import.meta.url), 'utf8'), file);
};

const { sym, num, add, sub, mul, div, pow, abs, sign, ONE, ZERO } = E;
const g = sym('g');
const theta = sym('theta');
const n = sym('n');
const k = sym('k');
const beta = sym('beta');
const beta1 = sym('beta1');
const beta2 = sym('beta2');
const lambda = sym('lambda');
const oneMinus = (x: E.Expr) => sub(ONE, x);

/** Heavy-ball: F = g/(1−β), J_k = βᵏ H, Σ_k k βᵏ = β/(1−β)², so M = β/(1−β)² · H·(g/(1−β)). */
export function heavyBall(): Derivation {
  const rule = ruleFile('heavy-ball');
  const F = div(g, oneMinus(beta));
  const asymptotic: RegimeResult = {
    regime: 'asymptotic',
    F,
    states: [{ name: 'm', decay: beta, constantHistory: F, weightG: pow(beta, k), weightTheta: ZERO }],
    lagWeightG: pow(beta, k),
    lagWeightTheta: ZERO,
    sums: [{ summand: mul(k, pow(beta, k)), index: 'k', lo: ONE, value: div(beta, pow(oneMinus(beta), num(2))) }],
    M: [{ kind: 'hvp', weight: div(beta, pow(oneMinus(beta), num(2))), field: F }],
  };
  // exact n: F⁽ⁿ⁾ = (1 − βⁿ⁺¹)/(1 − β)·g and Σ_{k=1}^{n} k βᵏ = β(1 − (n+1)βⁿ + nβⁿ⁺¹)/(1 − β)²
  const Fn = mul(div(oneMinus(pow(beta, add(n, ONE))), oneMinus(beta)), g);
  const finite = div(mul(beta, add(ONE, mul(num(-1), add(n, ONE), pow(beta, n)), mul(n, pow(beta, add(n, ONE))))), pow(oneMinus(beta), num(2)));
  const exactN: RegimeResult = {
    regime: 'exact-n',
    F: Fn,
    states: [{ name: 'm', decay: beta, constantHistory: Fn, weightG: pow(beta, k), weightTheta: ZERO }],
    lagWeightG: pow(beta, k),
    lagWeightTheta: ZERO,
    sums: [{ summand: mul(k, pow(beta, k)), index: 'k', lo: ONE, hi: n, value: finite }],
    M: [{ kind: 'hvp', weight: finite, field: div(g, oneMinus(beta)) }],
  };
  const half = div(pow(g, num(2)), num(2));
  return {
    rule,
    limits: [],
    asymptotic,
    exactN,
    interpretation: {
      potentials: [{ weight: div(beta, pow(oneMinus(beta), num(3))), potential: { perCoordinate: half, lossCoefficient: ZERO } }],
      modifiedLoss: { preconditioner: div(ONE, oneMinus(beta)), coefficient: div(beta, pow(oneMinus(beta), num(2))), potential: { perCoordinate: half, lossCoefficient: ZERO } },
      signCoefficient: beta,
      verdict: { kind: 'regularizing', reason: 'the weight β/(1 − β)³ is positive on 0 < β < 1' },
      notes: [],
    },
    assumptions: ['memory decays exponentially: every state coefficient has magnitude < 1 on the parameter domain'],
    notes: [],
  };
}

/** AdamW with ε → 0: F = sign(g) + λθ, M = c/|g| · H·(sign(g) + λθ), c = β₁/(1−β₁) − β₂/(1−β₂). */
export function adamw(): Derivation {
  const rule = ruleFile('adamw');
  const c = sub(div(beta1, oneMinus(beta1)), div(beta2, oneMinus(beta2)));
  const F = add(sign(g), mul(lambda, theta));
  const asymptotic: RegimeResult = {
    regime: 'asymptotic',
    F,
    states: [
      { name: 'm', decay: beta1, constantHistory: g, weightG: mul(oneMinus(beta1), pow(beta1, k)), weightTheta: ZERO },
      { name: 'v', decay: beta2, constantHistory: pow(g, num(2)), weightG: mul(num(2), g, oneMinus(beta2), pow(beta2, k)), weightTheta: ZERO },
    ],
    lagWeightG: div(sub(mul(oneMinus(beta1), pow(beta1, k)), mul(oneMinus(beta2), pow(beta2, k))), abs(g)),
    lagWeightTheta: ZERO,
    sums: [
      { summand: mul(k, pow(beta1, k)), index: 'k', lo: ONE, value: div(beta1, pow(oneMinus(beta1), num(2))) },
      { summand: mul(k, pow(beta2, k)), index: 'k', lo: ONE, value: div(beta2, pow(oneMinus(beta2), num(2))) },
    ],
    M: [{ kind: 'hvp', weight: div(c, abs(g)), field: F }],
  };
  return {
    rule,
    limits: ['eps'],
    asymptotic,
    exactN: { unavailable: 'the bias corrections 1 − βⁿ⁺¹ leave a sum without closed form' },
    interpretation: {
      potentials: [{ weight: div(c, abs(g)), potential: { perCoordinate: add(abs(g), mul(lambda, theta, g)), lossCoefficient: E.neg(lambda) } }],
      signCoefficient: c,
      verdict: {
        kind: 'anti-regularizing',
        condition: { lhs: beta2, op: '>', rhs: beta1, otherwise: 'regularizing' },
        reason: 'c = β₁/(1 − β₁) − β₂/(1 − β₂) < 0 when β₂ > β₁: memory rewards a large ‖∇L‖₁',
        suggestLimits: ['eps'],
      },
      notes: ['for small enough λ'],
    },
    assumptions: ['ε → 0 taken after the derivation', 'generic parameters'],
    notes: ['M vanishes: the memoryless iteration is θ̃ₙ₊₁ = θ̃ₙ − h·F(θ̃ₙ) to second order (not really; a note with Unicode)'],
  };
}

/** Lion: exact sign on the memory path, so M = 0 almost everywhere; no potential. */
export function lion(): Derivation {
  const rule = ruleFile('lion');
  const F = add(sign(g), mul(lambda, theta));
  const r = (regime: RegimeResult['regime']): RegimeResult => ({
    regime, F,
    states: [{ name: 'm', decay: beta2, constantHistory: g, weightG: mul(oneMinus(beta2), pow(beta2, k)), weightTheta: ZERO }],
    lagWeightG: ZERO, lagWeightTheta: ZERO, sums: [], M: [],
  });
  return {
    rule, limits: [], asymptotic: r('asymptotic'), exactN: r('exact-n'),
    interpretation: { verdict: { kind: 'none', reason: 'M = 0 almost everywhere' }, notes: [] },
    assumptions: [], notes: ['exact sign on the memory path: its derivative is zero almost everywhere; use a smooth surrogate such as x/√(x² + δ²)'],
  };
}

/** A result keeping a Σ without closed form, a field term, a negative weight and m@prev. */
export function unusual(): Derivation {
  const base = heavyBall();
  const s = sym('s');
  const open = E.sum('s', ZERO, n, mul(pow(beta, s), abs(sub(g, mul(s, theta)))));
  const r: RegimeResult = {
    ...base.asymptotic,
    M: [
      { kind: 'hvp', weight: mul(num(-3, 4), open), field: g },
      { kind: 'field', weight: div(lambda, num(7)), field: add(theta, sym('m@prev')) },
      { kind: 'hvp', weight: ONE, field: sign(g) },
    ],
  };
  return { ...base, asymptotic: r, exactN: { ...r, regime: 'exact-n' } };
}

/** The heavy-ball derivation under a rule whose name and citation try to inject markup. */
export function hostile(): Derivation {
  const base = heavyBall();
  const rule: Rule = { ...base.rule, name: '<script>alert("x")</script> & \'q\'', cite: '"Evil" <img src=x onerror=alert(1)> & $x_1^2 #5 % {}' };
  return { ...base, rule, notes: ['<b>bold</b> & "quotes"'] };
}

export const ALL = { heavyBall, adamw, lion, unusual, hostile } as const;
