/**
 * A problem written as a mean over samples, split into m equal batches of consecutive samples:
 * the full loss is samples [0, count), batch i is samples [i·count/m, (i+1)·count/m), and the
 * mean of the batch losses is the full loss.
 */
import type { FiniteSumProblem } from '../types.js';

/** Loss, gradient and H·v as means over the samples [a, b) (plus any regularizer, once). */
export interface SampleRange {
  loss(theta: Float64Array, a: number, b: number): number;
  grad(theta: Float64Array, out: Float64Array, a: number, b: number): Float64Array;
  hvp(theta: Float64Array, v: Float64Array, out: Float64Array, a: number, b: number): Float64Array;
}

export function finiteSum(name: string, dim: number, count: number, batches: number, range: SampleRange, initial: (seed?: number) => Float64Array): FiniteSumProblem {
  if (!Number.isInteger(batches) || batches < 1 || count % batches !== 0)
    throw new RangeError(`${name}: cannot split ${count} samples into ${batches} equal batches (give a divisor of ${count})`);
  const size = count / batches;
  const at = (batch: number) => {
    if (!Number.isInteger(batch) || batch < 0 || batch >= batches) throw new RangeError(`${name}: batch ${batch} is not in 0..${batches - 1}`);
    return batch * size;
  };
  return {
    name,
    dim,
    batches,
    initial,
    loss: (theta) => range.loss(theta, 0, count),
    grad: (theta, out) => range.grad(theta, out, 0, count),
    hvp: (theta, v, out) => range.hvp(theta, v, out, 0, count),
    batchLoss: (batch, theta) => range.loss(theta, at(batch), at(batch) + size),
    batchGrad: (batch, theta, out) => range.grad(theta, out, at(batch), at(batch) + size),
    batchHvp: (batch, theta, v, out) => range.hvp(theta, v, out, at(batch), at(batch) + size),
  };
}
