/**
 * L2-regularised logistic regression on seeded synthetic data, mean loss over m samples:
 *
 *   L(w) = (1/m) Σᵢ [ log(1 + e^{zᵢ}) − yᵢ zᵢ ] + (μ/2)‖w‖²,   zᵢ = xᵢ·w,  yᵢ ∈ {0, 1}
 *   ∇L(w) = (1/m) Xᵀ(σ(z) − y) + μ w
 *   H(w) v = (1/m) Xᵀ diag(σ(z)(1 − σ(z))) X v + μ v
 *
 * Feature j is N(0, sⱼ²) with sⱼ log-spaced in [sMin, sMax], so H is ill-conditioned
 * (λ ≈ sⱼ²/4 near w = 0). Labels come from a random teacher w*, scaled so the teacher's
 * logit has standard deviation 3, plus N(0, 1) logit noise (about 10% of labels disagree
 * with the teacher), which keeps the data non-separable and the minimiser finite.
 */
import type { FiniteSumProblem } from '../types.js';
import { finiteSum, type SampleRange } from './finite-sum.js';
import { createRng, mixSeed } from './random.js';

export interface LogisticOptions {
  samples?: number;
  features?: number;
  seed?: number;
  /** L2 coefficient μ. */
  l2?: number;
  /** Smallest and largest feature scale. */
  sMin?: number;
  sMax?: number;
  /** Equal batches the samples are split into, in order (L = mean of the batch losses). */
  batches?: number;
}

/** σ(z) = 1/(1 + e^{−z}), written so that neither branch overflows. */
function sigmoid(z: number): number {
  if (z >= 0) return 1 / (1 + Math.exp(-z));
  const e = Math.exp(z);
  return e / (1 + e);
}

/** log(1 + e^z) = max(z, 0) + log1p(e^{−|z|}), exact for any z. */
function softplus(z: number): number {
  return Math.max(z, 0) + Math.log1p(Math.exp(-Math.abs(z)));
}

export function createLogistic({ samples = 200, features = 10, seed = 0, l2 = 0.01, sMin = 0.5, sMax = 3, batches = 1 }: LogisticOptions = {}): FiniteSumProblem {
  if (!Number.isInteger(samples) || samples < 1) throw new RangeError(`logistic: samples must be a positive integer, got ${samples}`);
  if (!Number.isInteger(features) || features < 1) throw new RangeError(`logistic: features must be a positive integer, got ${features}`);
  const m = samples, d = features, mu = l2;
  const rng = createRng(mixSeed(seed, 3));
  const scale = Float64Array.from({ length: d }, (_, j) => (d === 1 ? sMax : sMin * (sMax / sMin) ** (j / (d - 1))));
  // Teacher: wⱼ* = 3 nⱼ/(sⱼ√d), so xᵢ·w* ~ N(0, 9·Σnⱼ²/d) ≈ N(0, 9).
  const teacher = Float64Array.from({ length: d }, (_, j) => (3 * rng.normal()) / (scale[j] * Math.sqrt(d)));
  const X = new Float64Array(m * d); // row-major, row i = xᵢ
  const y = new Float64Array(m);
  for (let i = 0; i < m; i++) {
    let z = 0;
    for (let j = 0; j < d; j++) {
      const x = scale[j] * rng.normal();
      X[i * d + j] = x;
      z += x * teacher[j];
    }
    y[i] = z + rng.normal() > 0 ? 1 : 0;
  }

  const check = (what: string, x: Float64Array) => {
    if (x.length !== d) throw new RangeError(`logistic: ${what} has length ${x.length}, expected ${d}`);
  };
  const dot = (row: number, w: Float64Array) => {
    let z = 0;
    for (let j = 0, o = row * d; j < d; j++) z += X[o + j] * w[j];
    return z;
  };

  /** The mean loss over samples [a, b) plus the L2 term; gradient and H·v likewise. */
  const range: SampleRange = {
    loss(w, a, b) {
      check('theta', w);
      let s = 0, w2 = 0;
      for (let i = a; i < b; i++) {
        const z = dot(i, w);
        s += softplus(z) - y[i] * z;
      }
      for (let j = 0; j < d; j++) w2 += w[j] * w[j];
      return s / (b - a) + 0.5 * mu * w2;
    },
    grad(w, out, a, b) {
      check('theta', w);
      check('out', out);
      for (let j = 0; j < d; j++) out[j] = mu * w[j];
      for (let i = a, o = a * d; i < b; i++, o += d) {
        const r = (sigmoid(dot(i, w)) - y[i]) / (b - a);
        for (let j = 0; j < d; j++) out[j] += r * X[o + j];
      }
      return out;
    },
    hvp(w, v, out, a, b) {
      check('theta', w);
      check('v', v);
      check('out', out);
      for (let j = 0; j < d; j++) out[j] = mu * v[j];
      for (let i = a, o = a * d; i < b; i++, o += d) {
        const s = sigmoid(dot(i, w));
        const t = (s * (1 - s) * dot(i, v)) / (b - a);
        for (let j = 0; j < d; j++) out[j] += t * X[o + j];
      }
      return out;
    },
  };

  return finiteSum('logistic', d, m, batches, range, (initSeed = 0) => {
    // small random weights wⱼ ~ N(0, 0.1²): logits of order 0.1–1, gradient of order 1
    const r = createRng(mixSeed(initSeed, 4));
    return Float64Array.from({ length: d }, () => 0.1 * r.normal());
  });
}
