/**
 * The two products that dominate a training step, sparse images X (CSR) against a dense
 * row-major matrix with K columns:
 *
 *   spmm:  out[r, :] += Σ_k X[rows[r], k]·W[k, :]      (X·W₁, the first layer's forward)
 *          or, given a row `init`, out[r, :] = init + Σ_k …  (the bias; out is then only written)
 *   spmmT: G[k, :]   += Σ_r X[rows[r], k]·D[r, :]      (Xᵀ·δ, the first layer's gradient)
 *
 * Both are sums of scaled rows of K numbers, once per non-zero pixel. Every backend adds
 * the terms of each output entry in the same order (increasing k for spmm, increasing r
 * for spmmT), multiply then add (no fused multiply-add), in the same precision, so they
 * agree bitwise. Precision 'f32' rounds the operands, every product and every sum to
 * single precision (the results come back widened to doubles); 'f64' is double throughout.
 */
import type { SparseRows } from './data.js';

export const PRECISIONS = ['f32', 'f64'] as const;
export type Precision = (typeof PRECISIONS)[number];

/** Kernels for rows of a given length and precision (one WebAssembly module for each). */
export type KernelFactory = (rowLength: number, precision: Precision) => Kernels;

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

export const isVolatile = (x: SparseRows): boolean => (x as { volatile?: boolean }).volatile === true;

export interface Kernels {
  readonly name: string;
  spmm(x: SparseRows, rows: Int32Array, W: Float64Array, out: Float64Array, K: number, init?: Float64Array): void;
  spmmT(x: SparseRows, rows: Int32Array, D: Float64Array, G: Float64Array, K: number): void;
}

/**
 * Plain JavaScript over typed arrays: the reference (and the fallback without WebAssembly).
 * In single precision the operands are rounded first; a product of two singles is exact in
 * a double and a sum of two singles rounds correctly through a double, so rounding each
 * result with Math.fround gives exactly the single-precision arithmetic of f32x4.
 */
function jsKernels(precision: Precision): Kernels {
  const single = precision === 'f32';
  const operand = (a: Float64Array) => (single ? Float32Array.from(a) : a);
  const roundRange = (a: Float64Array, n: number) => {
    if (single) for (let i = 0; i < n; i++) a[i] = Math.fround(a[i]!);
  };
  /**
   * Over the non-zeros a = X[rows[r], k]: dst[t, :] += a·src[u, :], with (t, u) = (r, k)
   * (spmm: src = W, dst = out) or (k, r) (spmmT: src = D, dst = G); terms in order of r, k.
   */
  const addScaledRows = (x: SparseRows, rows: Int32Array, src: Float64Array | Float32Array, dst: Float64Array, K: number, transposed: boolean) => {
    const { rowPtr, colIdx, values } = x;
    for (let r = 0; r < rows.length; r++) {
      const s = rows[r]!, end = rowPtr[s + 1]!;
      for (let k = rowPtr[s]!; k < end; k++) {
        const a = single ? Math.fround(values[k]!) : values[k]!;
        const t = (transposed ? colIdx[k]! : r) * K, u = (transposed ? r : colIdx[k]!) * K;
        if (single) for (let j = 0; j < K; j++) dst[t + j] = Math.fround(dst[t + j]! + Math.fround(a * src[u + j]!));
        else for (let j = 0; j < K; j++) dst[t + j] += a * src[u + j]!;
      }
    }
  };
  return {
    name: `js-${precision}`,
    spmm(x, rows, W, out, K, init) {
      if (init) for (let r = 0; r < rows.length; r++) out.set(init.subarray(0, K), r * K);
      roundRange(out, rows.length * K);
      addScaledRows(x, rows, operand(W), out, K, false);
    },
    spmmT(x, rows, D, G, K) {
      roundRange(G, x.cols * K);
      addScaledRows(x, rows, operand(D), G, K, true);
    },
  };
}

const JS_KERNELS: Record<Precision, Kernels> = { f32: jsKernels('f32'), f64: jsKernels('f64') };

export const jsKernelFactory: KernelFactory = (_K, precision) => JS_KERNELS[precision];
