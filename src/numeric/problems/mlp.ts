/**
 * A two-layer tanh MLP with softmax cross-entropy on seeded Gaussian blobs (mean loss):
 *
 *   aᵢ = W₁xᵢ + b₁,  hᵢ = tanh(aᵢ),  oᵢ = W₂hᵢ + b₂,  pᵢ = softmax(oᵢ)
 *   L(θ) = (1/m) Σᵢ −log pᵢ[yᵢ],   θ = [W₁ (k×p, row-major), b₁ (k), W₂ (c×k, row-major), b₂ (c)]
 *
 * The gradient is reverse mode written by hand; the Hessian-vector product is Pearlmutter's
 * R-operator R{·} = d/dε (·)(θ + εv) at ε = 0 pushed through that reverse pass
 * (forward-over-reverse), so H·v is exact, costs a small constant times a gradient, and
 * never forms H. With v = [V₁, c₁, V₂, c₂] and δₒ = (p − e_y)/m, δ_h = W₂ᵀδₒ:
 *
 *   R{a} = V₁x + c₁,   R{h} = (1 − h²) ⊙ R{a},   R{o} = V₂h + W₂R{h} + c₂
 *   R{p} = p ⊙ (R{o} − pᵀR{o})                       (softmax Jacobian: diag(p) − ppᵀ)
 *   R{δₒ} = R{p}/m,   R{δ_h} = V₂ᵀδₒ + W₂ᵀR{δₒ}
 *   R{δ_a} = R{δ_h} ⊙ (1 − h²) − 2 h ⊙ R{h} ⊙ δ_h    (d/da (1 − tanh²a) = −2 tanh a (1 − tanh²a))
 *   H·v = [R{δ_a}xᵀ, R{δ_a}, R{δₒ}hᵀ + δₒR{h}ᵀ, R{δₒ}]   summed over samples
 */
import type { FiniteSumProblem } from '../types.js';
import { finiteSum, type SampleRange } from './finite-sum.js';
import { createRng, mixSeed } from './random.js';

export interface MlpOptions {
  samples?: number;
  inputs?: number;
  hidden?: number;
  classes?: number;
  seed?: number;
  /** Standard deviation of the class centres (the within-class noise is N(0, I)). */
  spread?: number;
  /** Equal batches the samples are split into, in order (L = mean of the batch losses). */
  batches?: number;
}

export function createMlp({ samples = 150, inputs = 4, hidden = 12, classes = 3, seed = 0, spread = 1, batches = 1 }: MlpOptions = {}): FiniteSumProblem {
  for (const [k, v] of Object.entries({ samples, inputs, hidden, classes })) {
    if (!Number.isInteger(v) || v < 1) throw new RangeError(`mlp: ${k} must be a positive integer, got ${v}`);
  }
  if (classes < 2) throw new RangeError(`mlp: classes must be at least 2, got ${classes}`);
  const m = samples, P = inputs, K = hidden, C = classes;
  // Offsets of the packed blocks.
  const W1 = 0, B1 = K * P, W2 = B1 + K, B2 = W2 + C * K, dim = B2 + C;

  // Data: class yᵢ = i mod C, xᵢ = μ_{yᵢ} + N(0, I), centres μ_c ~ N(0, spread²·I).
  const rng = createRng(mixSeed(seed, 5));
  const centres = Float64Array.from({ length: C * P }, () => spread * rng.normal());
  const X = new Float64Array(m * P);
  const Y = new Int32Array(m);
  for (let i = 0; i < m; i++) {
    Y[i] = i % C;
    for (let q = 0; q < P; q++) X[i * P + q] = centres[Y[i] * P + q] + rng.normal();
  }

  // Per-sample work buffers, allocated once: grad and hvp allocate nothing (not reentrant).
  const h = new Float64Array(K), dh = new Float64Array(K), rh = new Float64Array(K);
  const p = new Float64Array(C), dout = new Float64Array(C), rout = new Float64Array(C);
  let count = m; // samples in the range being summed: δₒ carries the 1/count of the mean

  const check = (what: string, x: Float64Array) => {
    if (x.length !== dim) throw new RangeError(`mlp: ${what} has length ${x.length}, expected ${dim}`);
  };

  /** Forward pass for sample i: fills h and p, returns −log p[y]. */
  const forward = (theta: Float64Array, i: number): number => {
    const xo = i * P;
    for (let j = 0; j < K; j++) {
      let a = theta[B1 + j];
      for (let q = 0, w = W1 + j * P; q < P; q++) a += theta[w + q] * X[xo + q];
      h[j] = Math.tanh(a);
    }
    let mx = -Infinity;
    for (let c = 0; c < C; c++) {
      let o = theta[B2 + c];
      for (let j = 0, w = W2 + c * K; j < K; j++) o += theta[w + j] * h[j];
      p[c] = o;
      if (o > mx) mx = o;
    }
    // log Σ e^{o_c} = mx + log Σ e^{o_c − mx}, without overflow.
    let z = 0;
    for (let c = 0; c < C; c++) z += p[c] = Math.exp(p[c] - mx);
    const oy = Math.log(p[Y[i]]) + mx; // o_y, recovered before normalising
    for (let c = 0; c < C; c++) p[c] /= z;
    return mx + Math.log(z) - oy;
  };

  /** δₒ = (p − e_y)/m and δ_h = W₂ᵀδₒ for sample i (after forward). */
  const backwardHidden = (theta: Float64Array, i: number) => {
    for (let c = 0; c < C; c++) dout[c] = (p[c] - (c === Y[i] ? 1 : 0)) / count;
    dh.fill(0);
    for (let c = 0; c < C; c++) {
      const d = dout[c];
      for (let j = 0, w = W2 + c * K; j < K; j++) dh[j] += theta[w + j] * d;
    }
  };

  const range: SampleRange = {
    loss(theta, a, b) {
      check('theta', theta);
      let s = 0;
      for (let i = a; i < b; i++) s += forward(theta, i);
      return s / (b - a);
    },
    grad(theta, out, a, b) {
      check('theta', theta);
      check('out', out);
      out.fill(0);
      count = b - a;
      for (let i = a; i < b; i++) {
        forward(theta, i);
        backwardHidden(theta, i);
        for (let c = 0; c < C; c++) {
          const d = dout[c];
          out[B2 + c] += d;
          for (let j = 0, w = W2 + c * K; j < K; j++) out[w + j] += d * h[j];
        }
        const xo = i * P;
        for (let j = 0; j < K; j++) {
          const da = dh[j] * (1 - h[j] * h[j]); // tanh' = 1 − tanh²
          out[B1 + j] += da;
          for (let q = 0, w = W1 + j * P; q < P; q++) out[w + q] += da * X[xo + q];
        }
      }
      return out;
    },
    hvp(theta, v, out, a, b) {
      check('theta', theta);
      check('v', v);
      check('out', out);
      out.fill(0);
      count = b - a;
      for (let i = a; i < b; i++) {
        forward(theta, i);
        backwardHidden(theta, i);
        const xo = i * P;
        // R{h} = (1 − h²) ⊙ (V₁x + c₁)
        for (let j = 0; j < K; j++) {
          let ra = v[B1 + j];
          for (let q = 0, w = W1 + j * P; q < P; q++) ra += v[w + q] * X[xo + q];
          rh[j] = (1 - h[j] * h[j]) * ra;
        }
        // R{o} = V₂h + W₂R{h} + c₂, then R{δₒ} = p ⊙ (R{o} − pᵀR{o})/m
        let pro = 0;
        for (let c = 0; c < C; c++) {
          let ro = v[B2 + c];
          for (let j = 0, w = W2 + c * K; j < K; j++) ro += v[w + j] * h[j] + theta[w + j] * rh[j];
          rout[c] = ro;
          pro += p[c] * ro;
        }
        for (let c = 0; c < C; c++) rout[c] = (p[c] * (rout[c] - pro)) / count;
        // Output layer: R{gW₂} = R{δₒ}hᵀ + δₒR{h}ᵀ, R{gb₂} = R{δₒ}.
        for (let c = 0; c < C; c++) {
          const d = dout[c], rd = rout[c];
          out[B2 + c] += rd;
          for (let j = 0, w = W2 + c * K; j < K; j++) out[w + j] += rd * h[j] + d * rh[j];
        }
        // Hidden layer, one unit at a time: R{δ_h}ⱼ = (V₂ᵀδₒ + W₂ᵀR{δₒ})ⱼ, then R{δ_a}ⱼ and R{gW₁}, R{gb₁}.
        for (let j = 0; j < K; j++) {
          let rdh = 0;
          for (let c = 0, w = W2 + j; c < C; c++, w += K) rdh += v[w] * dout[c] + theta[w] * rout[c];
          const rda = rdh * (1 - h[j] * h[j]) - 2 * h[j] * rh[j] * dh[j];
          out[B1 + j] += rda;
          for (let q = 0, w = W1 + j * P; q < P; q++) out[w + q] += rda * X[xo + q];
        }
      }
      return out;
    },
  };

  // W₁ ~ N(0, 1/p), W₂ ~ N(0, 1/k) (Glorot-like, small), biases 0
  return finiteSum('mlp', dim, m, batches, range, (initSeed = 0) => {
    const r = createRng(mixSeed(initSeed, 6));
    const theta = new Float64Array(dim);
    for (let t = W1; t < B1; t++) theta[t] = r.normal() / Math.sqrt(P);
    for (let t = W2; t < B2; t++) theta[t] = r.normal() / Math.sqrt(K);
    return theta;
  });
}
