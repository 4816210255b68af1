/** Shared test helpers: seeded randomness and evaluation of a derived M on a random instance. */
import { readFileSync } from 'node:fs';
import { parseRule } from '../../src/parse/rule-file.js';
import type { Rule } from '../../src/ir/rule.js';
import { evaluate } from '../../src/ir/eval.js';
import type { CorrectionTerm } from '../../src/derive/types.js';
import type { Expr } from '../../src/ir/expr.js';
import { mulberry32 } from '../../src/ir/random.js';

export { mulberry32 };

export const loadRule = (file: string): Rule => parseRule(readFileSync(file, 'utf8'), file);

export interface Instance { theta: Float64Array; g: Float64Array; hessian: Float64Array; d: number }

/** A random point: gradient coordinates bounded away from 0 (identities hold a.e.), a symmetric H. */
export function randomInstance(rand: () => number, d = 3): Instance {
  const theta = new Float64Array(d).map(() => 2 * rand() - 1);
  const g = new Float64Array(d).map(() => (rand() < 0.5 ? -1 : 1) * (0.3 + rand()));
  const hessian = new Float64Array(d * d);
  for (let i = 0; i < d; i++) for (let j = 0; j <= i; j++) {
    const v = 2 * rand() - 1;
    hessian[i * d + j] = v;
    hessian[j * d + i] = v;
  }
  return { theta, g, hessian, d };
}

/** Evaluates a coordinate-wise expression at every coordinate. */
export function field(e: Expr, inst: Instance, env: Record<string, number>): Float64Array {
  return Float64Array.from({ length: inst.d }, (_, j) => evaluate(e, { ...env, g: inst.g[j]!, theta: inst.theta[j]! }));
}

/** Mⱼ = Σ wⱼ (H V)ⱼ or wⱼ Vⱼ from the derived terms. */
export function evalCorrection(terms: readonly CorrectionTerm[], inst: Instance, env: Record<string, number>): Float64Array {
  const M = new Float64Array(inst.d);
  for (const t of terms) {
    const w = field(t.weight, inst, env);
    const V = field(t.field, inst, env);
    for (let i = 0; i < inst.d; i++) {
      let hv = 0;
      if (t.kind === 'hvp') for (let j = 0; j < inst.d; j++) hv += inst.hessian[i * inst.d + j]! * V[j]!;
      else hv = V[i]!;
      M[i] += w[i]! * hv;
    }
  }
  return M;
}

export const paramEnv = (rule: Rule, overrides: Record<string, number> = {}) =>
  Object.fromEntries(rule.params.map((p) => [p.name, overrides[p.name] ?? Number(p.valueText)]));

export function maxRelDiff(a: Float64Array, b: Float64Array): number {
  let scale = 0;
  for (const x of [...a, ...b]) scale = Math.max(scale, Math.abs(x));
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m / Math.max(scale, 1e-300);
}

/**
 * Random parameters inside the domains for oracle comparisons: memory coefficients ≤ 0.7, so
 * that n = 400 is far past the burn-in (0.7⁴⁰⁰ ≈ 1e-62), and ε-like parameters O(0.1), so the
 * update is smooth on the scale of the random gradients.
 */
export function randomParams(rule: Rule, rand: () => number): Record<string, number> {
  const over: Record<string, number> = {};
  for (const p of rule.params) {
    const { lo, hi } = p.domain;
    if (lo === 0 && hi === 1) over[p.name] = 0.1 + 0.6 * rand();
    else if (lo >= 0 && hi === Infinity) over[p.name] = 0.05 + 0.3 * rand();
  }
  return paramEnv(rule, over);
}

/** A `shape matrix` rule file (derived by src/matrix/, not by the coordinate-wise engine). */
export const isMatrixRuleFile = (file: string): boolean => /^\s*shape\s+matrix\b/m.test(readFileSync(file, 'utf8'));
