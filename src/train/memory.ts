/**
 * What a training run will allocate, estimated from its shape before anything big is
 * allocated, so that a config that cannot fit is refused at once with the estimate instead
 * of running out of memory minutes later. The counts follow the allocations of model.ts,
 * wasm-kernels.ts, data.ts and the training loop; the estimate is meant to be within tens
 * of percent, not exact (the JavaScript heap adds its own overhead).
 */
import type { Precision } from './kernels.js';

export interface RunShape {
  readonly inputs: number;
  readonly hidden: number;
  readonly classes: number;
  /** Rows of the training and of the test subset. */
  readonly trainRows: number;
  readonly testRows: number;
  /** Non-zero pixels of the training and of the test subset. */
  readonly trainNonZeros: number;
  readonly testNonZeros: number;
  /** Arrays of the optimizer state (one per `state` of the rule). */
  readonly states: number;
  readonly precision: Precision;
  /** Whether the WebAssembly kernels run (they copy the data into their own memory). */
  readonly wasm: boolean;
}

export interface MemoryEstimate {
  /** θ, the gradients, F, M, the optimizer state and the checkpoint's buffers. */
  readonly parameters: number;
  /** The model's buffers, sized for every row of the larger subset (logged steps evaluate all of them). */
  readonly activations: number;
  readonly data: number;
  /** WebAssembly memory (entries of the sparse matrices and scratch), of the larger of the two kernel modules. */
  readonly kernels: number;
  readonly total: number;
  /** Numbers in the largest single array (typed arrays and the kernels' int32 offsets have limits). */
  readonly largestArray: number;
}

/** WebAssembly memory has 32-bit addresses: one module can use at most 4 GiB. */
export const WASM_MEMORY_LIMIT = 2 ** 32;
/** The kernels index rows with int32 offsets. */
export const ARRAY_LIMIT = 2 ** 31 - 1;

export function estimateMemory(s: RunShape): MemoryEstimate {
  const { inputs: P, hidden: K, classes: C } = s;
  const rows = Math.max(s.trainRows, s.testRows);
  const dim = P * K + K + C * K + C;
  // θ, grad, full grad, the HVP's output, F, M, the cancellation's gradient and a few
  // temporaries of the generated code; each state array, and the checkpoint's two copies
  const parameters = dim * 8 * (10 + 3 * s.states);
  // per row: 11 float64 buffers of K (A, S twice, dS, dA, σ', σ'', rA, rS, rdS), 3 int32
  // column lists of K (the dense rows given to the kernels), 4 float64 buffers of C and 2 lists
  const activations = rows * (K * (11 * 8 + 3 * 4) + C * (4 * 8 + 2 * 4) + 4);
  const nonZeros = s.trainNonZeros + s.testNonZeros;
  // kept: int32 index and float64 value per non-zero; while loading, number[] copies of both
  const data = nonZeros * (12 + 16) + (s.trainRows + s.testRows) * 8 + (s.trainRows + s.testRows) * P;
  const entry = s.precision === 'f32' ? 8 : 16, scalar = s.precision === 'f32' ? 4 : 8;
  // module for rows of K: the images by rows (both subsets) and by columns (training), the
  // output layer's δ as rows, W₁ and a result of rows×K as scratch
  const byK = (2 * s.trainNonZeros + s.testNonZeros) * entry + 2 * rows * C * entry + (P * K + 2 * rows * K) * scalar;
  // module for rows of C: the hidden activations as dense rows (training, evaluation, R-pass) and their transposes
  const byC = 5 * rows * K * entry + (K * C + 2 * rows * C) * scalar;
  const kernels = s.wasm ? Math.max(byK, byC) : 0;
  const both = s.wasm ? byK + byC : 0;
  return { parameters, activations, data, kernels, total: parameters + activations + data + both, largestArray: Math.max(dim, rows * K) };
}

/** Bytes as a short text: 61.2 TB, 2.5 GB, 800 kB. */
export function formatBytes(b: number): string {
  const units = ['bytes', 'kB', 'MB', 'GB', 'TB', 'PB'];
  let u = 0;
  while (b >= 1000 && u < units.length - 1) { b /= 1000; u++; }
  return u === 0 ? `${b} bytes` : `${b.toPrecision(3)} ${units[u]}`;
}

/** Why a run of this estimate cannot run within `limit` bytes of memory, or undefined when it can. */
export function memoryRefusal(e: MemoryEstimate, limit: number): string | undefined {
  const parts = `parameters ${formatBytes(e.parameters)}, activations ${formatBytes(e.activations)}, data ${formatBytes(e.data)}${e.kernels ? `, WebAssembly ${formatBytes(e.kernels)}` : ''}`;
  if (e.total > limit) return `the run needs about ${formatBytes(e.total)} of memory (${parts}), more than the ${formatBytes(limit)} available`;
  if (e.kernels > WASM_MEMORY_LIMIT) return `the kernels need about ${formatBytes(e.kernels)} of WebAssembly memory, more than its limit of ${formatBytes(WASM_MEMORY_LIMIT)}`;
  if (e.largestArray > ARRAY_LIMIT) return `an array of the model would hold ${e.largestArray} numbers, more than ${ARRAY_LIMIT} (the kernels' int32 indices)`;
  return undefined;
}
