/**
 * A numeric interpretation of a matrix rule's M (docs/matrix-optimizers.md §3–§4), from the
 * derivation alone (no rule is recognized by name):
 *
 * 1. Is the constant-history update F(G) a gradient field, F = ∇Φ(G)? Then
 *    H[F] = ∇θ Φ(∇L(θ)). Tested by the symmetry of its Fréchet derivative DF(G) (a
 *    symmetric Jacobian on a convex domain is a Hessian), computed symbolically and evaluated.
 * 2. M = K[H[F]]: is the linear map K symmetric, and what is the sign of its eigenvalues?
 *    K ⪰ 0: the memory term −h²K[∇Φ] descends Φ (regularizing); K ⪯ 0: it ascends Φ.
 *
 * Both on fixed pseudo-random instances (shapes 3×3, 4×2, 2×4; parameters at their
 * defaults): the result is numeric evidence, labelled as such, not a proof.
 */
import { toNumber } from '../ir/rational.js';
import { mulberry32 } from '../ir/random.js';
import type { MatrixDerivation } from './derive.js';
import { FIELD, HVP } from './expr.js';
import { frechet } from './diff.js';
import * as M from './expr.js';
import { MatrixEvaluator } from './eval.js';
import * as LA from './linalg.js';
import type { Mat } from './linalg.js';
import { operatorMatrix } from './operator.js';

export type Definiteness = 'positive definite' | 'positive semidefinite' | 'negative definite' | 'negative semidefinite' | 'indefinite' | 'zero';

export interface MatrixInterpretation {
  /** Instances examined. */
  readonly instances: number;
  /** DF(G) symmetric at every instance: F = ∇Φ for a potential Φ of G. */
  readonly fieldIsGradient: boolean;
  /** K symmetric at every instance (undefined when M reads more than H[F]). */
  readonly operatorSymmetric?: boolean;
  /** The sign of K over all instances (undefined when M reads more than H[F]). */
  readonly definiteness?: Definiteness;
  readonly verdict: 'regularizing' | 'anti-regularizing' | 'mixed' | 'none' | 'not analysed';
  /** One sentence. */
  readonly reason: string;
}

const SHAPES = [[3, 3], [4, 2], [2, 4]] as const;
const PER_SHAPE = 4;
const ZERO_EIG = 1e-9;
const SYM_TOL = 1e-8;

/** Symmetry defect of a square matrix relative to its largest entry. */
function asymmetry(K: Mat): number {
  let a = 0, m = 0;
  for (let i = 0; i < K.rows; i++) for (let j = 0; j < K.cols; j++) {
    a = Math.max(a, Math.abs(K.data[i * K.cols + j]! - K.data[j * K.cols + i]!));
    m = Math.max(m, Math.abs(K.data[i * K.cols + j]!));
  }
  return m === 0 ? 0 : a / m;
}

/** The matrix of X ↦ DF(G)[X] on row-major vectors. */
function jacobian(dF: M.MExpr, G: Mat, env: Record<string, number>): Mat {
  const rc = G.rows * G.cols;
  const J = LA.mat(rc, rc);
  for (let j = 0; j < rc; j++) {
    const X = LA.mat(G.rows, G.cols);
    X.data[j] = 1;
    const col = M.isZero(dF) ? LA.mat(G.rows, G.cols) : new MatrixEvaluator(new Map([['g', G], ['theta', LA.mat(G.rows, G.cols)], [HVP, X]]), env, G).eval(dF);
    for (let i = 0; i < rc; i++) J.data[i * rc + j] = col.data[i]!;
  }
  return J;
}

export function interpretMatrix(d: Omit<MatrixDerivation, 'interpretation'>): MatrixInterpretation {
  const r = d.asymptotic;
  // spread, not assignment: a parameter named __proto__ stays an own property
  const env: Record<string, number> = { n: 0, ...Object.fromEntries(d.rule.params.map((p) => [p.name, toNumber(p.value)])) };
  const dF = frechet(r.F, new Map([['g', M.leaf(HVP, 'r', 'c')]]));
  const readsOnlyHvp = !M.readsLeaf(r.M, FIELD) && !M.readsLeaf(r.M, 'theta') && !M.readsLeaf(r.F, 'theta');
  const rand = mulberry32(20260401);
  let gradient = true, symmetric = true, pos = false, neg = false, zero = false, instances = 0;
  for (const [rows, cols] of SHAPES) {
    for (let t = 0; t < PER_SHAPE; t++) {
      const G = LA.mat(rows, cols, Float64Array.from({ length: rows * cols }, () => 2 * rand() - 1));
      instances++;
      if (asymmetry(jacobian(dF, G, env)) > SYM_TOL) gradient = false;
      if (!readsOnlyHvp) continue;
      const K = operatorMatrix(r, G, env);
      if (asymmetry(K) > SYM_TOL) symmetric = false;
      const ev = LA.symEig(LA.scale(0.5, LA.add(K, LA.transpose(K)))).values;
      const big = Math.max(...ev.map(Math.abs));
      if (big === 0) { zero = true; continue; }
      for (const l of ev) {
        if (l > ZERO_EIG * big) pos = true;
        else if (l < -ZERO_EIG * big) neg = true;
        else zero = true;
      }
    }
  }
  const what = `on ${instances} pseudo-random gradients G (3×3, 4×2, 2×4) at the default parameters`;
  if (!readsOnlyHvp)
    return { instances, fieldIsGradient: gradient, verdict: 'not analysed', reason: `M reads the field F or θ itself, not only H[F]; its sign is not analysed` };
  const definiteness: Definiteness = !pos && !neg ? 'zero' : pos && neg ? 'indefinite' : pos ? (zero ? 'positive semidefinite' : 'positive definite') : zero ? 'negative semidefinite' : 'negative definite';
  const base = { instances, fieldIsGradient: gradient, operatorSymmetric: symmetric, definiteness };
  if (!gradient)
    return { ...base, verdict: 'not analysed', reason: `F is not a gradient field (its Fréchet derivative is not symmetric ${what}), so H[F] is not the gradient of a potential of ∇L` };
  const verdict = definiteness === 'zero' ? 'none' : definiteness === 'indefinite' ? 'mixed' : definiteness.startsWith('positive') ? 'regularizing' : 'anti-regularizing';
  const sense = verdict === 'regularizing' ? 'the memory term descends Φ(∇L)' : verdict === 'anti-regularizing' ? 'the memory term ascends Φ(∇L)' : verdict === 'mixed' ? 'the sign depends on the direction' : 'M vanishes';
  return {
    ...base,
    verdict,
    reason: `F = ∇Φ(G) and M = K[∇θ Φ(∇L)] with K ${symmetric ? 'symmetric' : 'not symmetric'} and ${definiteness} ${what} (numeric evidence, not a proof): ${sense}`,
  };
}
