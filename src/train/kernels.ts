/**
 * The two products that dominate a training step, sparse images X (CSR) against a dense
 * row-major matrix with K columns:
 *
 *   spmm:  out[r, :] += Σ_k X[rows[r], k]·W[k, :]      (X·W₁, the first layer's forward)
 *   spmmT: G[k, :]   += Σ_r X[rows[r], k]·D[r, :]      (Xᵀ·δ, the first layer's gradient)
 *
 * Both are axpys over contiguous rows of K doubles, once per non-zero pixel. Every backend
 * does the same additions in the same order (no fused multiply-add), so they agree bitwise.
 */
import type { SparseRows } from './data.js';

/** Kernels for rows of a given length (one WebAssembly module per length). */
export type KernelFactory = (rowLength: number) => Kernels;

/**
 * A dense rows×cols buffer seen as sparse rows with every entry present, so that the dense
 * products of the output layer run through the same kernels. `volatile`: the values change
 * between calls (backends that copy data must copy them each time).
 */
export function denseRows(rows: number, cols: number, values: Float64Array): SparseRows & { readonly volatile: true } {
  const rowPtr = Int32Array.from({ length: rows + 1 }, (_, r) => r * cols);
  const colIdx = Int32Array.from({ length: rows * cols }, (_, i) => i % cols);
  return { rows, cols, rowPtr, colIdx, values, volatile: true };
}

export interface Kernels {
  readonly name: string;
  spmm(x: SparseRows, rows: Int32Array, W: Float64Array, out: Float64Array, K: number): void;
  spmmT(x: SparseRows, rows: Int32Array, D: Float64Array, G: Float64Array, K: number): void;
}

export const jsKernelFactory: KernelFactory = () => jsKernels;

/** Plain JavaScript over typed arrays: the reference (and the fallback without WebAssembly SIMD). */
export const jsKernels: Kernels = {
  name: 'js',
  spmm(x, rows, W, out, K) {
    const { rowPtr, colIdx, values } = x;
    for (let r = 0; r < rows.length; r++) {
      const s = rows[r]!, o = r * K, end = rowPtr[s + 1]!;
      for (let k = rowPtr[s]!; k < end; k++) {
        const a = values[k]!, w = colIdx[k]! * K;
        for (let j = 0; j < K; j++) out[o + j] += a * W[w + j]!;
      }
    }
  },
  spmmT(x, rows, D, G, K) {
    const { rowPtr, colIdx, values } = x;
    for (let r = 0; r < rows.length; r++) {
      const s = rows[r]!, o = r * K, end = rowPtr[s + 1]!;
      for (let k = rowPtr[s]!; k < end; k++) {
        const a = values[k]!, g = colIdx[k]! * K;
        for (let j = 0; j < K; j++) G[g + j] += a * D[o + j]!;
      }
    }
  },
};
