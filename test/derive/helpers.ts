/** Shared test helpers: seeded randomness and evaluation of a derived M on a random instance. */
import { readFileSync } from 'node:fs';
import { parseRule } from '../../src/parse/rule-file.js';
import type { Rule } from '../../src/ir/rule.js';
import { evaluate } from '../../src/ir/eval.js';
import type { CorrectionTerm } from '../../src/derive/types.js';
import type { Expr } from '../../src/ir/expr.js';

export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

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
