/**
 * A one-hidden-layer MLP classifier with a smooth activation and softmax cross-entropy
 * (mean over the rows of a batch):
 *
 *   A = X·W₁ + b₁,  S = σ(A),  O = S·W₂ᵀ + b₂,  P = softmax(O),  L = mean −log P[y]
 *   θ = [W₁ (p×k, row-major: one row per input), b₁ (k), W₂ (c×k, row-major: one row per class), b₂ (c)]
 *
 * The layouts make every product a sum of scaled contiguous rows (kernels.ts): the sparse
 * images against W₁, and the dense output layer through the same kernels (denseRows).
 * The Hessian-vector product is Pearlmutter's R-operator pushed through the reverse pass,
 * as in src/numeric/problems/mlp.ts but batched; it reuses the activations of the last
 * `lossGrad`, so it costs about one more gradient. With v = [V₁, c₁, V₂, c₂]:
 *
 *   R{A} = X·V₁ + c₁,  R{S} = σ'(A)⊙R{A},  R{O} = R{S}·W₂ᵀ + S·V₂ᵀ + c₂
 *   R{δO} = P⊙(R{O} − rowsum(P⊙R{O}))/m,    R{δS} = R{δO}·W₂ + δO·V₂
 *   R{δA} = R{δS}⊙σ'(A) + δS⊙σ''(A)⊙R{A}
 *   H·v = [Xᵀ·R{δA}, Σ R{δA}, R{δO}ᵀ·S + δOᵀ·R{S}, Σ R{δO}]
 */
import { createRng, mixSeed } from '../numeric/problems/random.js';
import type { SparseRows } from './data.js';
import { denseRows, type KernelFactory, type Precision } from './kernels.js';
import { tanhInto } from './tanh.js';

export const ACTIVATIONS = ['tanh', 'softplus'] as const;
export type Activation = (typeof ACTIVATIONS)[number];

const softplus = (a: number) => (a > 0 ? a + Math.log1p(Math.exp(-a)) : Math.log1p(Math.exp(a)));
const logistic = (a: number) => 1 / (1 + Math.exp(-a));

/**
 * σ over n elements (S from A), and σ', σ'' from S = σ(A) and A, written into `out` (tanh:
 * 1 − σ², −2σ(1 − σ²); softplus: logistic s, s(1 − s)). Whole arrays rather than one
 * element per call: each loop then holds its formula inline.
 */
const ACT: Record<Activation, {
  apply(A: Float64Array, S: Float64Array, n: number): void;
  d1(S: Float64Array, A: Float64Array, out: Float64Array, n: number): void;
  d2(S: Float64Array, A: Float64Array, out: Float64Array, n: number): void;
}> = {
  tanh: {
    apply: tanhInto,
    d1: (S, _A, out, n) => { for (let i = 0; i < n; i++) out[i] = 1 - S[i]! * S[i]!; },
    d2: (S, _A, out, n) => { for (let i = 0; i < n; i++) out[i] = -2 * S[i]! * (1 - S[i]! * S[i]!); },
  },
  softplus: {
    apply: (A, S, n) => { for (let i = 0; i < n; i++) S[i] = softplus(A[i]!); },
    d1: (_S, A, out, n) => { for (let i = 0; i < n; i++) out[i] = logistic(A[i]!); },
    d2: (_S, A, out, n) => { for (let i = 0; i < n; i++) { const e = logistic(A[i]!); out[i] = e * (1 - e); } },
  },
};

export interface MlpShape {
  readonly inputs: number;
  readonly hidden: number;
  readonly classes: number;
  readonly activation: Activation;
  /** Of the matrix products (kernels.ts); everything else is computed in doubles. */
  readonly precision: Precision;
}

export interface Mlp {
  readonly dim: number;
  readonly shape: MlpShape;
  /** W₁ ~ N(0, 1/p), W₂ ~ N(0, 1/k), biases 0; deterministic in the seed. */
  init(seed: number): Float64Array;
  /** L on the given rows, ∇L written into grad; keeps the activations for `hvp`. */
  lossGrad(theta: Float64Array, x: SparseRows, y: Int32Array, rows: Int32Array, grad: Float64Array): number;
  /** Accuracy of the forward pass of the last `lossGrad` (on its rows). */
  lastAccuracy(): number;
  /** H·v at the θ and rows of the last `lossGrad` (θ must not have changed since). */
  hvp(v: Float64Array, out: Float64Array): Float64Array;
  /** Mean loss and accuracy on all rows of a split (does not disturb the `hvp` cache). */
  evaluate(theta: Float64Array, x: SparseRows, y: Int32Array): { loss: number; accuracy: number };
}

export function createMlp(shape: MlpShape, maxRows: number, kernelsFor: KernelFactory): Mlp {
  const { inputs: Pn, hidden: K, classes: C } = shape;
  const act = ACT[shape.activation];
  const byK = kernelsFor(K, shape.precision), byC = kernelsFor(C, shape.precision);
  const W1 = 0, B1 = Pn * K, W2 = B1 + K, B2 = W2 + C * K, dim = B2 + C;
  const ident = Int32Array.from({ length: maxRows }, (_, i) => i);
  const first = (m: number) => ident.subarray(0, m);
  const buffers = () => {
    const S = new Float64Array(maxRows * K);
    return { A: new Float64Array(maxRows * K), S, Sx: denseRows(maxRows, K, S), P: new Float64Array(maxRows * C), right: 0 };
  };
  const train = buffers(), evalBuf = buffers();
  const dO = new Float64Array(maxRows * C), dOx = denseRows(maxRows, C, dO);
  const dS = new Float64Array(maxRows * K), dA = new Float64Array(maxRows * K);
  const D1 = new Float64Array(maxRows * K), D2 = new Float64Array(maxRows * K); // σ', σ'' at the last lossGrad's A
  let d2Fresh = false;
  const rA = new Float64Array(maxRows * K), rS = new Float64Array(maxRows * K), rSx = denseRows(maxRows, K, rS);
  const rdO = new Float64Array(maxRows * C), rdOx = denseRows(maxRows, C, rdO), rdS = new Float64Array(maxRows * K);
  const W2T = new Float64Array(K * C), zerosK = new Float64Array(K);
  /** W₂ᵀ (k×c) of a c×k block at `at`: the right-hand side of S·W₂ᵀ. */
  const transposed = (t: Float64Array, at: number) => {
    for (let c = 0; c < C; c++) for (let j = 0; j < K; j++) W2T[j * C + c] = t[at + c * K + j]!;
    return W2T;
  };
  let last: { theta: Float64Array; x: SparseRows; rows: Int32Array } | undefined;

  /** A, S = σ(A), P = softmax(S·W₂ᵀ + b₂) for the rows; returns the summed −log P[y] (and counts the right ones). */
  function forward(theta: Float64Array, x: SparseRows, y: Int32Array, rows: Int32Array, b: ReturnType<typeof buffers>): number {
    const m = rows.length, { A, S, P } = b;
    byK.spmm(x, rows, theta.subarray(W1, B1), A, K, theta.subarray(B1, B1 + K)); // A = b₁ + X·W₁
    act.apply(A, S, m * K);
    byC.spmm(b.Sx, first(m), transposed(theta, W2), P, C, theta.subarray(B2, B2 + C)); // O = b₂ + S·W₂ᵀ
    let loss = 0, right = 0;
    for (let r = 0; r < m; r++) {
      const o = r * C;
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
    b.right = right;
    return loss;
  }

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
      const loss = forward(theta, x, y, rows, train);
      grad.fill(0);
      for (let r = 0; r < m; r++) {
        const o = r * C, label = y[rows[r]!]!;
        for (let c = 0; c < C; c++) {
          const d = (P[o + c]! - (c === label ? 1 : 0)) / m;
          dO[o + c] = d;
          grad[B2 + c] += d;
        }
      }
      byK.spmmT(dOx, first(m), S, grad.subarray(W2, B2), K); // ∇W₂ = δOᵀ·S
      byK.spmm(dOx, first(m), theta.subarray(W2, B2), dS, K, zerosK); // δS = δO·W₂
      act.d1(S, A, D1, m * K);
      d2Fresh = false;
      for (let r = 0; r < m; r++)
        for (let j = 0, i = r * K; j < K; j++, i++) {
          const da = dS[i]! * D1[i]!;
          dA[i] = da;
          grad[B1 + j] += da;
        }
      byK.spmmT(x, rows, dA, grad.subarray(W1, B1), K); // ∇W₁ = Xᵀ·δA
      last = { theta, x, rows };
      return loss / m;
    },

    lastAccuracy() {
      if (!last) throw new Error('lastAccuracy before lossGrad');
      return train.right / last.rows.length;
    },

    hvp(v, out) {
      if (!last) throw new Error('hvp before lossGrad');
      const { theta, x, rows } = last, m = rows.length, { A, S, P } = train;
      if (!d2Fresh) act.d2(S, A, D2, m * K);
      d2Fresh = true;
      byK.spmm(x, rows, v.subarray(W1, B1), rA, K, v.subarray(B1, B1 + K)); // R{A} = X·V₁ + c₁
      for (let i = 0; i < m * K; i++) rS[i] = D1[i]! * rA[i]!;
      byC.spmm(rSx, first(m), transposed(theta, W2), rdO, C, v.subarray(B2, B2 + C)); // R{O} = R{S}·W₂ᵀ + S·V₂ᵀ + c₂
      byC.spmm(train.Sx, first(m), transposed(v, W2), rdO, C);
      out.fill(0);
      for (let r = 0; r < m; r++) {
        const o = r * C;
        let pro = 0;
        for (let c = 0; c < C; c++) pro += P[o + c]! * rdO[o + c]!;
        for (let c = 0; c < C; c++) {
          rdO[o + c] = (P[o + c]! * (rdO[o + c]! - pro)) / m;
          out[B2 + c] += rdO[o + c]!;
        }
      }
      const outW2 = out.subarray(W2, B2);
      byK.spmmT(rdOx, first(m), S, outW2, K); // R{∇W₂} = R{δO}ᵀ·S + δOᵀ·R{S}
      byK.spmmT(dOx, first(m), rS, outW2, K);
      byK.spmm(rdOx, first(m), theta.subarray(W2, B2), rdS, K, zerosK); // R{δS} = R{δO}·W₂ + δO·V₂
      byK.spmm(dOx, first(m), v.subarray(W2, B2), rdS, K);
      for (let r = 0; r < m; r++)
        for (let j = 0, i = r * K; j < K; j++, i++) {
          const rda = rdS[i]! * D1[i]! + dS[i]! * D2[i]! * rA[i]!;
          rA[i] = rda; // R{A} is not needed after this element: its slot holds R{δA}
          out[B1 + j] += rda;
        }
      byK.spmmT(x, rows, rA, out.subarray(W1, B1), K); // R{∇W₁} = Xᵀ·R{δA}
      return out;
    },

    evaluate(theta, x, y) {
      if (x.rows > maxRows) throw new RangeError(`evaluate: ${x.rows} rows, buffers hold ${maxRows}`);
      const loss = forward(theta, x, y, first(x.rows), evalBuf);
      return { loss: loss / x.rows, accuracy: evalBuf.right / x.rows };
    },
  };
}
