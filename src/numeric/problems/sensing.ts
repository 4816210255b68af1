/**
 * Matrix sensing with a factored (Burer–Monteiro) parameter W (r×c), on seeded data:
 *
 *   L(W) = (1/2m) Σᵢ (⟨Aᵢ, W Wᵀ⟩ − yᵢ)²,   Aᵢ symmetric r×r,  yᵢ = ⟨Aᵢ, W* W*ᵀ⟩
 *   ∇L = (2/m) Σᵢ ρᵢ Aᵢ W,   ρᵢ = ⟨Aᵢ, WWᵀ⟩ − yᵢ
 *   H[V] = (2/m) Σᵢ ( 2⟨Aᵢ W, V⟩ Aᵢ W + ρᵢ Aᵢ V ),   2⟨Aᵢ W, V⟩ = ⟨Aᵢ, VWᵀ + WVᵀ⟩
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
    const a = LA.mat(r, r, Float64Array.from({ length: r * r }, () => rng.normal() / (2 * r)));
    return LA.scale(0.5, LA.add(a, LA.transpose(a)));
  });
  // the measurements as rows of an m × r² matrix: ⟨Aᵢ, X⟩ = (Ā vec X)ᵢ and Σᵢ wᵢ Aᵢ = unvec(Āᵀ w)
  const Abar = new Float64Array(m * r * r);
  A.forEach((a, i) => Abar.set(a.data, i * r * r));
  const measure = (X: Mat) => Float64Array.from({ length: m }, (_, i) => {
    let s = 0;
    for (let j = 0; j < r * r; j++) s += Abar[i * r * r + j]! * X.data[j]!;
    return s;
  });
  const combine = (w: Float64Array): Mat => {
    const out = LA.mat(r, r);
    for (let i = 0; i < m; i++) for (let j = 0; j < r * r; j++) out.data[j] += w[i]! * Abar[i * r * r + j]!;
    return out;
  };
  const star = LA.mat(r, c, Float64Array.from({ length: dim }, () => 0.3 * rng.normal()));
  const y = measure(LA.matmul(star, LA.transpose(star)));
  const check = (what: string, x: Float64Array) => {
    if (x.length !== dim) throw new RangeError(`sensing: ${what} has length ${x.length}, expected ${dim}`);
  };
  const residuals = (W: Mat) => measure(LA.matmul(W, LA.transpose(W))).map((v, i) => v - y[i]!);
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
      check('out', out);
      const W = LA.mat(r, c, theta);
      out.set(LA.scale(2 / m, LA.matmul(combine(residuals(W)), W)).data);
      return out;
    },
    hvp(theta, v, out) {
      check('theta', theta);
      check('v', v);
      check('out', out);
      const W = LA.mat(r, c, theta), V = LA.mat(r, c, v);
      const S = combine(residuals(W));
      // 2⟨Aᵢ W, V⟩ = ⟨Aᵢ, VWᵀ + WVᵀ⟩
      const T = combine(measure(LA.add(LA.matmul(V, LA.transpose(W)), LA.matmul(W, LA.transpose(V)))));
      out.set(LA.scale(2 / m, LA.add(LA.matmul(T, W), LA.matmul(S, V))).data);
      return out;
    },
  };
}
