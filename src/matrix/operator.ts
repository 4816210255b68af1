/**
 * M of a matrix rule as an explicit linear map on r×c matrices, for the interpretation
 * (docs/matrix-optimizers.md §4): K with M = K[H[V]] at a given gradient G (θ-free rules),
 * as an (rc)×(rc) matrix acting on row-major vectors, and Φ_ε(G) = Σᵢ (√(σᵢ² + ε) − √ε),
 * whose gradient (GGᵀ + ε)^(−1/4) G (GᵀG + ε)^(−1/4) is the constant-history update of
 * Shampoo (ε → 0: the nuclear norm ‖G‖₊ and msign(G)).
 */
import type { Env } from '../ir/eval.js';
import type { MatrixRegimeResult } from './derive.js';
import { FIELD, HVP } from './expr.js';
import { MatrixEvaluator } from './eval.js';
import * as LA from './linalg.js';
import type { Mat } from './linalg.js';

export function operatorMatrix(r: MatrixRegimeResult, G: Mat, params: Env): Mat {
  const rc = G.rows * G.cols;
  const K = LA.mat(rc, rc);
  for (let j = 0; j < rc; j++) {
    const basis = LA.mat(G.rows, G.cols);
    basis.data[j] = 1;
    const leaves = new Map<string, Mat>([['g', G], ['theta', LA.mat(G.rows, G.cols)], [FIELD, LA.mat(G.rows, G.cols)], [HVP, basis]]);
    const col = r.M.kind === 'zero' ? LA.mat(G.rows, G.cols) : new MatrixEvaluator(leaves, params, G).eval(r.M);
    for (let i = 0; i < rc; i++) K.data[i * rc + j] = col.data[i]!;
  }
  return K;
}

/** Σᵢ (√(σᵢ² + ε) − √ε) over the singular values of G. */
export function perturbedNuclearNorm(G: Mat, eps: number): number {
  const e = LA.symEig(LA.polarGram(G));
  let s = 0;
  for (const l of e.values) s += Math.sqrt(Math.max(l, 0) + eps) - Math.sqrt(eps);
  return s;
}
