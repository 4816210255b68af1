/**
 * An ill-conditioned, coupled quartic with a closed-form gradient and Hessian:
 *
 *   L(θ) = Σᵢ (aᵢ/2) θᵢ² + (b/4) Σᵢ θᵢ⁴ + Σᵢ cᵢ θᵢ θᵢ₊₁,   cᵢ = (ρ/2)·√(aᵢ aᵢ₊₁)
 *   ∇L(θ)ᵢ = aᵢ θᵢ + b θᵢ³ + cᵢ₋₁ θᵢ₋₁ + cᵢ θᵢ₊₁
 *   (H v)ᵢ = (aᵢ + 3b θᵢ²) vᵢ + cᵢ₋₁ vᵢ₋₁ + cᵢ vᵢ₊₁
 *
 * The aᵢ are log-spaced over two orders of magnitude (permuted by the seed, so neighbours
 * have unrelated scales). The quadratic part is D^{1/2}(I + (ρ/2)T)D^{1/2} with D = diag(a)
 * and T the path graph's adjacency (eigenvalues in (−2, 2)), so it is positive definite for
 * ρ < 1; the quartic part is convex, hence L is strongly convex with its minimum at θ = 0.
 */
import type { Problem } from '../types.js';
import { createRng, mixSeed } from './random.js';
import { shuffleInPlace } from '../../ir/random.js';

export interface QuarticOptions {
  dim?: number;
  seed?: number;
  /** Smallest and largest aᵢ (log-spaced between them). */
  aMin?: number;
  aMax?: number;
  /** Quartic coefficient b ≥ 0. */
  b?: number;
  /** Relative coupling ρ ∈ [0, 1). */
  rho?: number;
}

export function createQuartic({ dim = 10, seed = 0, aMin = 0.02, aMax = 2, b = 1, rho = 0.5 }: QuarticOptions = {}): Problem {
  if (!Number.isInteger(dim) || dim < 1) throw new RangeError(`quartic: dim must be a positive integer, got ${dim}`);
  if (!(rho >= 0 && rho < 1)) throw new RangeError(`quartic: rho must lie in [0, 1) for a convex problem, got ${rho}`);
  const rng = createRng(mixSeed(seed, 1));
  const a = new Float64Array(dim);
  for (let i = 0; i < dim; i++) a[i] = dim === 1 ? aMax : aMin * (aMax / aMin) ** (i / (dim - 1));
  shuffleInPlace(a, rng.uniform);
  const c = new Float64Array(Math.max(dim - 1, 0)); // cᵢ couples θᵢ and θᵢ₊₁
  for (let i = 0; i < dim - 1; i++) c[i] = 0.5 * rho * Math.sqrt(a[i] * a[i + 1]);

  const check = (what: string, x: Float64Array) => {
    if (x.length !== dim) throw new RangeError(`quartic: ${what} has length ${x.length}, expected ${dim}`);
  };

  return {
    name: 'quartic',
    dim,
    /** Coordinates ±U(0.5, 1): O(1) and away from the minimum, so ‖∇L‖ is O(1). */
    initial(initSeed = 0) {
      const r = createRng(mixSeed(initSeed, 2));
      return Float64Array.from({ length: dim }, () => (r.uniform() < 0.5 ? -1 : 1) * r.between(0.5, 1));
    },
    loss(theta) {
      check('theta', theta);
      let s = 0;
      for (let i = 0; i < dim; i++) {
        const t = theta[i], t2 = t * t;
        s += 0.5 * a[i] * t2 + 0.25 * b * t2 * t2;
        if (i + 1 < dim) s += c[i] * t * theta[i + 1];
      }
      return s;
    },
    /** Writes ∇L(θ) into `out` and returns `out`; `out` must not alias `theta`. */
    grad(theta, out) {
      check('theta', theta);
      check('out', out);
      for (let i = 0; i < dim; i++) {
        const t = theta[i];
        let g = a[i] * t + b * t * t * t;
        if (i > 0) g += c[i - 1] * theta[i - 1];
        if (i + 1 < dim) g += c[i] * theta[i + 1];
        out[i] = g;
      }
      return out;
    },
    /** Writes H(θ)·v into `out` and returns `out`; `out` must alias neither `theta` nor `v`. */
    hvp(theta, v, out) {
      check('theta', theta);
      check('v', v);
      check('out', out);
      for (let i = 0; i < dim; i++) {
        const t = theta[i];
        let hv = (a[i] + 3 * b * t * t) * v[i];
        if (i > 0) hv += c[i - 1] * v[i - 1];
        if (i + 1 < dim) hv += c[i] * v[i + 1];
        out[i] = hv;
      }
      return out;
    },
  };
}
