/**
 * The numeric oracle for matrix rules, from the definition of M (docs/theory.md §2, §8.1):
 * run the rule's literal recursion (states from 0, the update at step n) on the history
 * θⱼ = θ + t·D_{n−j}, D_k = Σ_{s=n−k}^{n−1} F⁽ˢ⁾(θ), with F⁽ˢ⁾ the updates of the same
 * recursion on the constant history, and differentiate in t at 0 by a fourth-order central
 * difference. No closed form and no derivative formula is used: only the rule's own
 * expressions, evaluated.
 */
import { prevName, type MatrixRule } from '../ir/rule.js';
import { MatrixEvaluator } from '../matrix/eval.js';
import * as LA from '../matrix/linalg.js';
import type { Mat } from '../matrix/linalg.js';

export interface MatrixOracleInput {
  readonly rule: MatrixRule;
  readonly params: Readonly<Record<string, number>>;
  /** ∇L at a point. */
  readonly grad: (theta: Mat) => Mat;
  readonly theta: Mat;
  readonly n: number;
}

/** The updates U₀ … Uₙ of the literal recursion on a history θ₀ … θₙ. */
export function literalUpdates(rule: MatrixRule, params: Readonly<Record<string, number>>, grad: (t: Mat) => Mat, history: readonly Mat[]): Mat[] {
  const shape = { rows: history[0]!.rows, cols: history[0]!.cols };
  const dims = (d: 'r' | 'c') => (d === 'r' ? shape.rows : shape.cols);
  let states = new Map<string, Mat>(rule.states.map((s) => [s.name, LA.mat(dims(s.rows), dims(s.cols))]));
  const out: Mat[] = [];
  history.forEach((theta, j) => {
    const leaves = new Map<string, Mat>([['g', grad(theta)], ['theta', theta]]);
    const next = new Map<string, Mat>();
    for (const s of rule.states) {
      leaves.set(prevName(s.name), states.get(s.name)!);
      const v = new MatrixEvaluator(leaves, { ...params, n: j }, shape).eval(s.rhs);
      leaves.set(s.name, v);
      next.set(s.name, v);
    }
    out.push(new MatrixEvaluator(leaves, { ...params, n: j }, shape).eval(rule.update));
    states = next;
  });
  return out;
}

export function matrixOracleCorrection({ rule, params, grad, theta, n }: MatrixOracleInput): Mat {
  const F = literalUpdates(rule, params, grad, Array.from({ length: n + 1 }, () => theta));
  const D: Mat[] = [LA.mat(theta.rows, theta.cols)]; // D[k] = Σ_{s=n−k}^{n−1} F⁽ˢ⁾
  for (let k = 1; k <= n; k++) D.push(LA.add(D[k - 1]!, F[n - k]!));
  const size = Math.max(1e-300, ...D.map((d) => d.data.reduce((m, x) => Math.max(m, Math.abs(x)), 0)));
  const t = 1e-3 / size;
  const at = (tt: number) => literalUpdates(rule, params, grad, Array.from({ length: n + 1 }, (_, j) => LA.add(theta, LA.scale(tt, D[n - j]!))))[n]!;
  const d1 = LA.add(at(t), LA.scale(-1, at(-t)));
  const d2 = LA.add(at(2 * t), LA.scale(-1, at(-2 * t)));
  return LA.scale(1 / (12 * t), LA.add(LA.scale(8, d1), LA.scale(-1, d2)));
}
