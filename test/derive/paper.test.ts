/** Test 2: the paper's headline results (docs/theory.md §5), checked as values, not strings. */
import { describe, expect, it } from 'vitest';
import { derive } from '../../src/derive/index.js';
import { evaluate } from '../../src/ir/eval.js';
import { show } from '../../src/ir/show.js';
import { evalCorrection, loadRule, maxRelDiff, mulberry32, randomInstance } from './helpers.js';

describe('heavy-ball', () => {
  const rule = loadRule('rules/heavy-ball.rule');
  const d = derive(rule);

  it('M = β/(1−β)³ · H∇L', () => {
    const rand = mulberry32(11);
    for (let i = 0; i < 5; i++) {
      const beta = 0.05 + 0.9 * rand();
      const inst = randomInstance(rand);
      const M = evalCorrection(d.asymptotic.M, inst, { beta });
      const expected = new Float64Array(inst.d);
      for (let r = 0; r < inst.d; r++) for (let c = 0; c < inst.d; c++) expected[r] += (beta / (1 - beta) ** 3) * inst.hessian[r * inst.d + c]! * inst.g[c]!;
      expect(maxRelDiff(M, expected)).toBeLessThan(1e-12);
    }
  });

  it('is preconditioned descent on L + h·β/(2(1−β)²)·‖∇L‖², regularizing', () => {
    const ml = d.interpretation.modifiedLoss!;
    expect(ml).toBeDefined();
    for (const beta of [0.1, 0.5, 0.9]) {
      expect(evaluate(ml.preconditioner, { beta, g: 0.7, theta: 0.3 })).toBeCloseTo(1 / (1 - beta), 12);
      // c·Φ per coordinate equals β/(2(1−β)²)·g²
      const cPhi = evaluate(ml.coefficient, { beta }) * evaluate(ml.potential.perCoordinate, { g: 0.7, theta: 0.3, beta });
      expect(cPhi).toBeCloseTo((beta / (2 * (1 - beta) ** 2)) * 0.49, 12);
    }
    expect(d.interpretation.verdict.kind).toBe('regularizing');
    expect(d.interpretation.verdict.condition).toBeUndefined();
  });
});

describe('AdamW with ε → 0', () => {
  const rule = loadRule('rules/adamw.rule');
  const d = derive(rule, { limits: ['eps'] });

  it('has weight (β₁/(1−β₁) − β₂/(1−β₂))/|gⱼ| on ∂ⱼ[‖∇L‖₁ + λ(θᵀ∇L − L)]', () => {
    const [p] = d.interpretation.potentials!;
    expect(d.interpretation.potentials).toHaveLength(1);
    const rand = mulberry32(5);
    for (let i = 0; i < 5; i++) {
      const env = { beta1: 0.05 + 0.9 * rand(), beta2: 0.05 + 0.9 * rand(), lambda: rand(), g: 2 * rand() - 1, theta: 2 * rand() - 1 };
      const c = env.beta1 / (1 - env.beta1) - env.beta2 / (1 - env.beta2);
      expect(evaluate(p!.weight, env)).toBeCloseTo(c / Math.abs(env.g), 10);
      // Φ per coordinate = |g| + λθg, plus −λ·L
      expect(evaluate(p!.potential.perCoordinate, env)).toBeCloseTo(Math.abs(env.g) + env.lambda * env.theta * env.g, 10);
      expect(evaluate(p!.potential.lossCoefficient, env)).toBeCloseTo(-env.lambda, 12);
    }
  });

  it('M agrees with w ∘ H(sign(∇L) + λθ)', () => {
    const rand = mulberry32(9);
    const env = { beta1: 0.9, beta2: 0.999, lambda: 0.01 };
    const inst = randomInstance(rand);
    const M = evalCorrection(d.asymptotic.M, inst, env);
    const c = 0.9 / 0.1 - 0.999 / 0.001;
    const V = inst.g.map((g, j) => Math.sign(g) + 0.01 * inst.theta[j]!);
    const expected = inst.g.map((g, r) => (c / Math.abs(g)) * V.reduce((acc, v, col) => acc + inst.hessian[r * inst.d + col]! * v, 0));
    expect(maxRelDiff(M, expected)).toBeLessThan(1e-12);
  });

  it('is anti-regularizing when β₂ > β₁', () => {
    const v = d.interpretation.verdict;
    expect(v.kind).toBe('anti-regularizing');
    expect(v.condition).toBeDefined();
    const { lhs, op, rhs } = v.condition!;
    // the condition holds exactly when β₁ < β₂
    for (const [b1, b2] of [[0.9, 0.999], [0.5, 0.6], [0.99, 0.9], [0.3, 0.1]] as const) {
      const l = evaluate(lhs, { beta1: b1, beta2: b2 });
      const r = evaluate(rhs, { beta1: b1, beta2: b2 });
      expect(op === '<' ? l < r : l > r).toBe(b1 < b2);
    }
    expect(v.condition!.otherwise).toBe('regularizing');
    expect(`${show(lhs)} ${op} ${show(rhs)}`).toBe('beta2 > beta1');
  });
});

describe('Lion', () => {
  it('exact sign: M = 0 almost everywhere, and the result says why', () => {
    const d = derive(loadRule('rules/lion.rule'));
    expect(d.asymptotic.M).toHaveLength(0);
    expect(d.interpretation.verdict.kind).toBe('none');
    expect(d.notes.join(' ')).toMatch(/sign.*memory path.*almost everywhere/);
  });
  it('Lion-K (smooth): no anti-regularizing term; memory regularizes the perturbed one-norm', () => {
    const d = derive(loadRule('rules/lion-k.rule'));
    expect(d.interpretation.verdict.kind).toBe('regularizing');
    const [p] = d.interpretation.potentials!;
    const env = { beta1: 0.9, beta2: 0.99, lambda: 0, delta: 0.1, g: 0.4, theta: 0 };
    // Φ = √(g² + δ²) up to a constant
    const phi = (g: number) => evaluate(p!.potential.perCoordinate, { ...env, g });
    expect(phi(0.4) - phi(0.2)).toBeCloseTo(Math.sqrt(0.16 + 0.01) - Math.sqrt(0.04 + 0.01), 12);
  });
});
