/** Small data for the training tests: sparse random rows, and a tiny IDX data set on disk. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { createRng } from '../../src/numeric/problems/random.js';
import type { SparseRows } from '../../src/train/data.js';
import { encodeIdx } from '../../src/train/idx.js';

/** `rows` random rows of `cols` values in [0, 1), about half of them zero, and labels 0 … classes−1. */
export function tinySparse(rows: number, cols: number, classes: number, seed: number): { x: SparseRows; y: Int32Array } {
  const rng = createRng(seed);
  const rowPtr = new Int32Array(rows + 1), colIdx: number[] = [], values: number[] = [];
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) if (rng.uniform() < 0.5) { colIdx.push(c); values.push(rng.uniform()); }
    rowPtr[r + 1] = colIdx.length;
  }
  const y = Int32Array.from({ length: rows }, (_, i) => i % classes);
  return { x: { rows, cols, rowPtr, colIdx: Int32Array.from(colIdx), values: Float64Array.from(values) }, y };
}

/**
 * An MNIST-format directory of 8×8 images, 3 classes that a small MLP can learn: each class
 * lights a different band of rows, plus noise. Training files gzipped, test files plain.
 */
export function writeTinyIdx(dir: string, train = 60, test = 30, seed = 1): void {
  mkdirSync(dir, { recursive: true });
  const rng = createRng(seed);
  const make = (count: number) => {
    const images = new Uint8Array(count * 64), labels = new Uint8Array(count);
    for (let i = 0; i < count; i++) {
      const label = i % 3;
      labels[i] = label;
      for (let p = 0; p < 64; p++) {
        const band = Math.floor(Math.floor(p / 8) / 3) === label;
        const v = (band ? 140 : 0) + (rng.uniform() < 0.3 ? Math.floor(rng.uniform() * 115) : 0);
        images[i * 64 + p] = v;
      }
    }
    return { images: encodeIdx([count, 8, 8], images), labels: encodeIdx([count], labels) };
  };
  const tr = make(train), te = make(test);
  writeFileSync(join(dir, 'train-images-idx3-ubyte.gz'), gzipSync(tr.images));
  writeFileSync(join(dir, 'train-labels-idx1-ubyte.gz'), gzipSync(tr.labels));
  writeFileSync(join(dir, 't10k-images-idx3-ubyte'), te.images);
  writeFileSync(join(dir, 't10k-labels-idx1-ubyte'), te.labels);
}
