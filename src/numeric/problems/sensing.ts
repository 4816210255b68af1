/**
 * Matrix sensing with a factored (Burer–Monteiro) parameter W (r×c), on seeded data:
 *
 *   L(W) = (1/2m) Σᵢ (⟨Aᵢ, W Wᵀ⟩ − yᵢ)²,   Aᵢ symmetric r×r,  yᵢ = ⟨Aᵢ, W* W*ᵀ⟩
 *   ∇L = (2/m) Σᵢ ρᵢ Aᵢ W,   ρᵢ = ⟨Aᵢ, WWᵀ⟩ − yᵢ
 *   H[V] = (2/m) Σᵢ ( 2⟨Aᵢ W, V⟩ Aᵢ W + ρᵢ Aᵢ V )
 *
 * Quartic and non-convex, exact HVP; one matrix block.
 */
import type { Problem } from '../types.js';
import { createRng, mixSeed } from './random.js';
import * as LA from '../../matrix/linalg.js';
import type { Mat } from '../../matrix/linalg.js';
import { wellConditioned } from './random.js';

export interface SensingOptions { rows?: number; cols?: number; measurements?: number; seed?: number }

export function createSensing({ rows = 4, cols = 3, measurements = 120, seed = 0 }: SensingOptions = {}): Problem {
  const r = rows, c = cols, m = measurements, dim = r * c;
  const rng = createRng(mixSeed(seed, 13));
  const A: Mat[] = Array.from({ length: m }, () => {
    const a = LA.mat(r, r, Float64Array.from({ length: r * r }, () => rng.normal() / (4 * r)));
    return LA.scale(0.5, LA.add(a, LA.transpose(a)));
  });
  const star = LA.mat(r, c, Float64Array.from({ length: dim }, () => 0.3 * rng.normal()));
  const dot = (a: Mat, b: Mat) => a.data.reduce((s, x, i) => s + x * b.data[i]!, 0);
  const starGram = LA.matmul(star, LA.transpose(star));
  const y = A.map((a) => dot(a, starGram));
  const check = (what: string, x: Float64Array) => {
    if (x.length !== dim) throw new RangeError(`sensing: ${what} has length ${x.length}, expected ${dim}`);
  };
  const residuals = (W: Mat) => {
    const G = LA.matmul(W, LA.transpose(W));
    return A.map((a, i) => dot(a, G) - y[i]!);
  };
  return {
    name: 'sensing',
    dim,
    blocks: [{ rows: r, cols: c }],
    /**
     * W = s·Q + noise with Q of orthonormal columns (rows when wide) and s = 4: far from
     * W* and well-conditioned, so the gradient (about c·WWᵀW) keeps full rank along a
     * trajectory of length T ≈ 2 even for normalized updates such as msign.
     */
    initial(initSeed = 0) {
      const u = createRng(mixSeed(initSeed, 14));
      return wellConditioned(r, c, 4, u).data;
    },
    loss(theta) {
      check('theta', theta);
      return residuals(LA.mat(r, c, theta)).reduce((s, x) => s + x * x, 0) / (2 * m);
    },
    grad(theta, out) {
      check('theta', theta);
      const W = LA.mat(r, c, theta);
      const rho = residuals(W);
      let S = LA.mat(r, r);
      A.forEach((a, i) => (S = LA.add(S, LA.scale(rho[i]!, a))));
      out.set(LA.scale(2 / m, LA.matmul(S, W)).data);
      return out;
    },
    hvp(theta, v, out) {
      check('theta', theta);
      check('v', v);
      const W = LA.mat(r, c, theta), V = LA.mat(r, c, v);
      const rho = residuals(W);
      let acc = LA.mat(r, c);
      A.forEach((a, i) => {
        const AW = LA.matmul(a, W);
        acc = LA.add(acc, LA.add(LA.scale(2 * dot(AW, V), AW), LA.scale(rho[i]!, LA.matmul(a, V))));
      });
      out.set(LA.scale(2 / m, acc).data);
      return out;
    },
  };
}
