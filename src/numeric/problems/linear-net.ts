/**
 * A two-layer linear network on seeded data, θ = (W₁, W₂) as two row-major matrix blocks:
 *
 *   L = (κ/2N)‖W₂ W₁ X − Y‖²,   R = W₂ W₁ X − Y,   κ = 1/16 (gradient O(1) at the start)
 *   ∇_{W₁} L = κ W₂ᵀ R Xᵀ / N,    ∇_{W₂} L = κ R Xᵀ W₁ᵀ / N
 *   H[(V₁, V₂)] = κ( (V₂ᵀ R Xᵀ + W₂ᵀ dR Xᵀ)/N , (dR Xᵀ W₁ᵀ + R Xᵀ V₁ᵀ)/N ),  dR = (V₂ W₁ + W₂ V₁) X
 *
 * W₁ is k×d and W₂ is o×k with o = k ≤ d < N, so both gradients have full rank generically
 * (matrix rules such as Muon need that). Y = T X + noise for a random teacher T; the start
 * is away from the minimum. Non-convex (a product of weights), exact HVP.
 */
import type { Problem } from '../types.js';
import { createRng, mixSeed, wellConditioned } from './random.js';
import * as LA from '../../matrix/linalg.js';
import type { Mat } from '../../matrix/linalg.js';

export interface LinearNetOptions { inputs?: number; hidden?: number; samples?: number; seed?: number }

export function createLinearNet({ inputs = 4, hidden = 3, samples = 40, seed = 0 }: LinearNetOptions = {}): Problem {
  const d = inputs, k = hidden, o = hidden, N = samples;
  if (!(k <= d && d < N)) throw new RangeError('linear-net: needs hidden ≤ inputs < samples');
  const rng = createRng(mixSeed(seed, 11));
  const X = LA.mat(d, N, Float64Array.from({ length: d * N }, () => rng.normal()));
  const T = LA.mat(o, d, Float64Array.from({ length: o * d }, () => 0.3 * rng.normal() / Math.sqrt(d)));
  const Y = LA.add(LA.matmul(T, X), LA.mat(o, N, Float64Array.from({ length: o * N }, () => 0.1 * rng.normal())));
  const kappa = 1 / 16;
  const blocks = [{ rows: k, cols: d }, { rows: o, cols: k }];
  const n1 = k * d, dim = n1 + o * k;
  const split = (x: Float64Array): [Mat, Mat] => [LA.mat(k, d, x.subarray(0, n1)), LA.mat(o, k, x.subarray(n1, dim))];
  const check = (what: string, x: Float64Array) => {
    if (x.length !== dim) throw new RangeError(`linear-net: ${what} has length ${x.length}, expected ${dim}`);
  };
  const residual = (W1: Mat, W2: Mat) => LA.add(LA.matmul(LA.matmul(W2, W1), X), LA.scale(-1, Y));
  const Xt = LA.transpose(X);
  return {
    name: 'linear-net',
    dim,
    blocks,
    /**
     * Both layers well-conditioned with singular values near 3 (far from the teacher, whose
     * singular values are about 1): the gradients keep full rank along a trajectory of
     * length T ≈ 2 even for normalized updates such as msign.
     */
    initial(initSeed = 0) {
      const r = createRng(mixSeed(initSeed, 12));
      const t = new Float64Array(dim);
      t.set(wellConditioned(k, d, 3, r).data, 0);
      t.set(wellConditioned(o, k, 3, r).data, n1);
      return t;
    },
    loss(theta) {
      check('theta', theta);
      const [W1, W2] = split(theta);
      const R = residual(W1, W2);
      return (kappa * R.data.reduce((s, x) => s + x * x, 0)) / (2 * N);
    },
    grad(theta, out) {
      check('theta', theta);
      check('out', out);
      const [W1, W2] = split(theta);
      const RXt = LA.matmul(residual(W1, W2), Xt);
      out.set(LA.scale(kappa / N, LA.matmul(LA.transpose(W2), RXt)).data, 0);
      out.set(LA.scale(kappa / N, LA.matmul(RXt, LA.transpose(W1))).data, n1);
      return out;
    },
    hvp(theta, v, out) {
      check('theta', theta);
      check('v', v);
      check('out', out);
      const [W1, W2] = split(theta);
      const [V1, V2] = split(v);
      const R = residual(W1, W2);
      const dR = LA.matmul(LA.add(LA.matmul(V2, W1), LA.matmul(W2, V1)), X);
      const RXt = LA.matmul(R, Xt), dRXt = LA.matmul(dR, Xt);
      out.set(LA.scale(kappa / N, LA.add(LA.matmul(LA.transpose(V2), RXt), LA.matmul(LA.transpose(W2), dRXt))).data, 0);
      out.set(LA.scale(kappa / N, LA.add(LA.matmul(dRXt, LA.transpose(W1)), LA.matmul(RXt, LA.transpose(V1)))).data, n1);
      return out;
    },
  };
}
