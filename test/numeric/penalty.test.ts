/**
 * Where the derivation found a potential, M = w ∘ ∇θ[Φ(∇L(θ), θ)]: the generated
 * correction equals penaltyWeight times a finite-difference gradient of θ ↦ penalty(θ).
 */
import { describe, expect, it } from 'vitest';
import { readdirSync } from 'node:fs';
import { derive } from '../../src/derive/index.js';
import { loadOptimizer } from '../../src/numeric/compile.js';
import { loadRule, maxRelDiff, mulberry32, paramEnv, isMatrixRuleFile } from '../derive/helpers.js';

/** A smooth non-quadratic loss with a full Hessian: L = Σ aᵢθᵢ²/2 + Σ θᵢ⁴/4 + Σ θᵢθᵢ₊₁/2 + Σ sin θᵢ. */
const dim = 4;
const a = [1, 2, 4, 8];
const loss = (t: Float64Array) => t.reduce((s, x, i) => s + (a[i]! * x * x) / 2 + x ** 4 / 4 + (i + 1 < dim ? (x * t[i + 1]!) / 2 : 0) + Math.sin(x), 0);
const grad = (t: Float64Array) => t.map((x, i) => a[i]! * x + x ** 3 + ((i > 0 ? t[i - 1]! : 0) + (i + 1 < dim ? t[i + 1]! : 0)) / 2 + Math.cos(x));
const hess = (t: Float64Array) => (v: Float64Array) => v.map((vi, i) => (a[i]! + 3 * t[i]! ** 2 - Math.sin(t[i]!)) * vi + ((i > 0 ? v[i - 1]! : 0) + (i + 1 < dim ? v[i + 1]! : 0)) / 2);

const RULES = readdirSync('rules').filter((f) => f.endsWith('.rule') && !isMatrixRuleFile(`rules/${f}`)).sort();

describe.each(RULES)('%s', (file) => {
  const rule = loadRule(`rules/${file}`);
  const d = derive(rule);
  const mod = loadOptimizer(rule, d);
  const has = d.interpretation.potentials?.length === 1;

  it(has ? 'M = penaltyWeight ∘ ∇θ penalty at random points' : 'M has no single potential, and the module offers no penalty', () => {
    if (!has) {
      expect(mod.penalty).toBeUndefined();
      expect(mod.penaltyWeight).toBeUndefined();
      return;
    }
    const rand = mulberry32(file.length);
    const hp = paramEnv(rule, Object.fromEntries(rule.params.filter((p) => p.domain.lo === 0 && p.domain.hi === Infinity).map((p) => [p.name, 0.2])));
    for (let trial = 0; trial < 3; trial++) {
      const theta = Float64Array.from({ length: dim }, () => 2 * rand() - 1);
      const phi = (t: Float64Array) => mod.penalty!(t, grad(t), hp, loss(t));
      const fd = new Float64Array(dim);
      const step = 1e-5;
      for (let i = 0; i < dim; i++) {
        const up = Float64Array.from(theta); up[i] += step;
        const dn = Float64Array.from(theta); dn[i] -= step;
        fd[i] = (phi(up) - phi(dn)) / (2 * step);
      }
      const w = mod.penaltyWeight!(theta, grad(theta), hp);
      const M = mod.correction(theta, grad(theta), hess(theta), hp);
      expect(maxRelDiff(M, w.map((wi, i) => wi * fd[i]!))).toBeLessThan(1e-6);
    }
  });
});
