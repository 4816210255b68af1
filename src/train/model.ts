/**
 * A one-hidden-layer MLP classifier with a smooth activation and softmax cross-entropy
 * (mean over the rows of a batch):
 *
 *   A = X·W₁ + b₁,  Hd = σ(A),  O = Hd·W₂ + b₂,  P = softmax(O),  L = mean −log P[y]
 *   θ = [W₁ (p×k, row-major: one row per input), b₁ (k), W₂ (k×c, row-major), b₂ (c)]
 *
 * W₁ is stored input-major so that both big products are axpys over contiguous rows of k
 * doubles (see kernels.ts). The Hessian-vector product is Pearlmutter's R-operator pushed
 * through the reverse pass, as in src/numeric/problems/mlp.ts but batched; it reuses the
 * activations of the last `lossGrad`, so it costs about one more gradient:
 *
 *   R{A} = X·V₁ + c₁,  R{Hd} = σ'(A)⊙R{A},  R{O} = R{Hd}·W₂ + Hd·V₂ + c₂
 *   R{δO} = P⊙(R{O} − rowsum(P⊙R{O}))/m,    R{δHd} = R{δO}·W₂ᵀ + δO·V₂ᵀ
 *   R{δA} = R{δHd}⊙σ'(A) + δHd⊙σ''(A)⊙R{A}
 *   H·v = [Xᵀ·R{δA}, Σ R{δA}, R{Hd}ᵀ·δO + Hdᵀ·R{δO}, Σ R{δO}]
 */
import { createRng, mixSeed } from '../numeric/problems/random.js';
import type { SparseRows } from './data.js';
import type { Kernels } from './kernels.js';

export const ACTIVATIONS = ['tanh', 'softplus'] as const;
export type Activation = (typeof ACTIVATIONS)[number];

/** σ(a) from a; σ' and σ'' from σ(a) and a (tanh: 1 − σ², −2σ(1 − σ²); softplus: logistic s, s(1 − s)). */
const ACT: Record<Activation, { f(a: number): number; d1(s: number, a: number): number; d2(s: number, a: number): number }> = {
  tanh: { f: Math.tanh, d1: (s) => 1 - s * s, d2: (s) => -2 * s * (1 - s * s) },
  softplus: {
    f: (a) => (a > 0 ? a + Math.log1p(Math.exp(-a)) : Math.log1p(Math.exp(a))),
    d1: (_s, a) => 1 / (1 + Math.exp(-a)),
    d2: (_s, a) => { const e = 1 / (1 + Math.exp(-a)); return e * (1 - e); },
  },
};

export interface MlpShape {
  readonly inputs: number;
  readonly hidden: number;
  readonly classes: number;
  readonly activation: Activation;
}

export interface Mlp {
  readonly dim: number;
  readonly shape: MlpShape;
  /** W₁ ~ N(0, 1/p), W₂ ~ N(0, 1/k), biases 0; deterministic in the seed. */
  init(seed: number): Float64Array;
  /** L on the given rows, ∇L written into grad; keeps the activations for `hvp`. */
  lossGrad(theta: Float64Array, x: SparseRows, y: Int32Array, rows: Int32Array, grad: Float64Array): number;
  /** H·v at the θ and rows of the last `lossGrad` (which must not have been followed by a change of θ). */
  hvp(v: Float64Array, out: Float64Array): Float64Array;
  /** Mean loss and accuracy on all rows of a split (does not disturb the `hvp` cache). */
  evaluate(theta: Float64Array, x: SparseRows, y: Int32Array): { loss: number; accuracy: number };
}

/** Buffers of one forward pass over up to `rows` rows. */
function buffers(rows: number, K: number, C: number) {
  return { A: new Float64Array(rows * K), S: new Float64Array(rows * K), P: new Float64Array(rows * C) };
}

export function createMlp(shape: MlpShape, maxRows: number, kernels: Kernels): Mlp {
  const { inputs: Pn, hidden: K, classes: C } = shape;
  const act = ACT[shape.activation];
  const W1 = 0, B1 = Pn * K, W2 = B1 + K, B2 = W2 + K * C, dim = B2 + C;
  const train = buffers(maxRows, K, C), evalBuf = buffers(maxRows, K, C);
  const dO = new Float64Array(maxRows * C), dS = new Float64Array(maxRows * K), dA = new Float64Array(maxRows * K);
  const rS = new Float64Array(maxRows * K), rA = new Float64Array(maxRows * K), rdO = new Float64Array(maxRows * C);
  let last: { theta: Float64Array; x: SparseRows; rows: Int32Array } | undefined;

  /** A, S = σ(A), P = softmax(S·W₂ + b₂) for the rows; returns the summed −log P[y] and the number right. */
  function forward(theta: Float64Array, x: SparseRows, y: Int32Array, rows: Int32Array, b: ReturnType<typeof buffers>) {
    const m = rows.length, { A, S, P } = b;
    for (let r = 0; r < m; r++) A.set(theta.subarray(B1, B1 + K), r * K);
    kernels.spmm(x, rows, theta.subarray(W1, B1), A, K);
    for (let i = 0; i < m * K; i++) S[i] = act.f(A[i]!);
    let loss = 0, right = 0;
    for (let r = 0; r < m; r++) {
      const o = r * C;
      for (let c = 0; c < C; c++) P[o + c] = theta[B2 + c]!;
      for (let j = 0; j < K; j++) {
        const s = S[r * K + j]!, w = W2 + j * C;
        for (let c = 0; c < C; c++) P[o + c] += s * theta[w + c]!;
      }
      let mx = -Infinity, arg = 0;
      for (let c = 0; c < C; c++) if (P[o + c]! > mx) { mx = P[o + c]!; arg = c; }
      const label = y[rows[r]!]!;
      const oy = P[o + label]!;
      let z = 0;
      for (let c = 0; c < C; c++) z += P[o + c] = Math.exp(P[o + c]! - mx);
      for (let c = 0; c < C; c++) P[o + c] /= z;
      loss += mx + Math.log(z) - oy; // log Σ e^o − o_y without overflow
      if (arg === label) right++;
    }
    return { loss, right };
  }

  const allRows = new Map<number, Int32Array>();
  const rowsOf = (n: number) => {
    let r = allRows.get(n);
    if (!r) allRows.set(n, (r = Int32Array.from({ length: n }, (_, i) => i)));
    return r;
  };

  return {
    dim,
    shape,
    init(seed) {
      const rng = createRng(mixSeed(seed, 11));
      const theta = new Float64Array(dim);
      for (let t = W1; t < B1; t++) theta[t] = rng.normal() / Math.sqrt(Pn);
      for (let t = W2; t < B2; t++) theta[t] = rng.normal() / Math.sqrt(K);
      return theta;
    },

    lossGrad(theta, x, y, rows, grad) {
      const m = rows.length, { A, S, P } = train;
      const { loss } = forward(theta, x, y, rows, train);
      grad.fill(0);
      for (let r = 0; r < m; r++) {
        const o = r * C, label = y[rows[r]!]!;
        for (let c = 0; c < C; c++) {
          const d = (P[o + c]! - (c === label ? 1 : 0)) / m;
          dO[o + c] = d;
          grad[B2 + c] += d;
        }
        for (let j = 0; j < K; j++) {
          const s = S[r * K + j]!, w = W2 + j * C;
          let ds = 0;
          for (let c = 0; c < C; c++) {
            grad[w + c] += s * dO[o + c]!;
            ds += dO[o + c]! * theta[w + c]!;
          }
          dS[r * K + j] = ds;
          const da = ds * act.d1(s, A[r * K + j]!);
          dA[r * K + j] = da;
          grad[B1 + j] += da;
        }
      }
      kernels.spmmT(x, rows, dA, grad.subarray(W1, B1), K);
      last = { theta, x, rows };
      return loss / m;
    },

    hvp(v, out) {
      if (!last) throw new Error('hvp before lossGrad');
      const { theta, x, rows } = last, m = rows.length, { A, S, P } = train;
      for (let r = 0; r < m; r++) rA.set(v.subarray(B1, B1 + K), r * K);
      kernels.spmm(x, rows, v.subarray(W1, B1), rA, K);
      out.fill(0);
      for (let r = 0; r < m; r++) {
        const o = r * C;
        for (let c = 0; c < C; c++) rdO[o + c] = v[B2 + c]!;
        for (let j = 0; j < K; j++) {
          const i = r * K + j, rs = act.d1(S[i]!, A[i]!) * rA[i]!, w = W2 + j * C;
          rS[i] = rs;
          for (let c = 0; c < C; c++) rdO[o + c] += rs * theta[w + c]! + S[i]! * v[w + c]!;
        }
        let pro = 0;
        for (let c = 0; c < C; c++) pro += P[o + c]! * rdO[o + c]!;
        for (let c = 0; c < C; c++) {
          rdO[o + c] = (P[o + c]! * (rdO[o + c]! - pro)) / m;
          out[B2 + c] += rdO[o + c]!;
        }
        for (let j = 0; j < K; j++) {
          const i = r * K + j, w = W2 + j * C;
          let rds = 0;
          for (let c = 0; c < C; c++) {
            out[w + c] += rS[i]! * dO[o + c]! + S[i]! * rdO[o + c]!;
            rds += rdO[o + c]! * theta[w + c]! + dO[o + c]! * v[w + c]!;
          }
          const rda = rds * act.d1(S[i]!, A[i]!) + dS[i]! * act.d2(S[i]!, A[i]!) * rA[i]!;
          rA[i] = rda; // R{A} is no longer needed at this row: reuse its slot for R{δA}
          out[B1 + j] += rda;
        }
      }
      kernels.spmmT(x, rows, rA, out.subarray(W1, B1), K);
      return out;
    },

    evaluate(theta, x, y) {
      const rows = rowsOf(x.rows);
      if (rows.length > maxRows) throw new RangeError(`evaluate: ${rows.length} rows, buffers hold ${maxRows}`);
      const { loss, right } = forward(theta, x, y, rows, evalBuf);
      return { loss: loss / rows.length, accuracy: right / rows.length };
    },
  };
}
