/**
 * The data set of a training run: the first `train` and `test` images of an MNIST-format
 * directory, scaled to [0, 1], optionally downsampled by averaging d×d blocks, and stored
 * as sparse rows (CSR). Sparse because Fashion-MNIST images are about half zeros: the
 * two big products of a step (X·W₁ and Xᵀ·δ) then cost only the non-zero pixels.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { DataError, readIdx, type IdxArray } from './idx.js';

/** Rows of a sparse matrix: the non-zeros of row r are at rowPtr[r] … rowPtr[r+1]−1. */
export interface SparseRows {
  readonly rows: number;
  readonly cols: number;
  readonly rowPtr: Int32Array;
  readonly colIdx: Int32Array;
  readonly values: Float64Array;
}

export interface Split {
  readonly x: SparseRows;
  readonly y: Int32Array;
}

export interface DataSet {
  readonly train: Split;
  readonly test: Split;
  readonly inputs: number;
  readonly classes: number;
}

export interface DataOptions {
  readonly dir: string;
  readonly train: number;
  readonly test: number;
  /** Average d×d pixel blocks (1: full resolution). */
  readonly downsample: number;
  /** Labels are 0 … classes−1 (the model's outputs); another label is an error. */
  readonly classes: number;
}

/** `train-images-idx3-ubyte.gz` or, when that is absent, the uncompressed name. */
function idxPath(dir: string, stem: string): string {
  const gz = join(dir, `${stem}.gz`);
  return existsSync(gz) || !existsSync(join(dir, stem)) ? gz : join(dir, stem);
}

export function loadDataSet(o: DataOptions): DataSet {
  const split = (prefix: string, count: number, what: string) => {
    const imagesFile = idxPath(o.dir, `${prefix}-images-idx3-ubyte`);
    const labelsFile = idxPath(o.dir, `${prefix}-labels-idx1-ubyte`);
    const images = readIdx(imagesFile), labels = readIdx(labelsFile);
    if (images.dims.length !== 3) throw new DataError(`${imagesFile}: expected 3 dimensions (count × rows × columns), got ${images.dims.length}`);
    if (labels.dims.length !== 1) throw new DataError(`${labelsFile}: expected 1 dimension (count), got ${labels.dims.length}`);
    if (images.dims[0] !== labels.dims[0])
      throw new DataError(`${imagesFile} holds ${images.dims[0]} images but ${labelsFile} holds ${labels.dims[0]} labels`);
    if (count > images.dims[0]!) throw new DataError(`data.${what} = ${count} but ${imagesFile} holds only ${images.dims[0]} images`);
    const y = Int32Array.from(labels.data.subarray(0, count));
    const i = y.findIndex((c) => c >= o.classes);
    if (i >= 0) throw new DataError(`${labelsFile}: label ${y[i]} of image ${i} is not below data.classes = ${o.classes}`);
    return { x: sparseImages(images, count, o.downsample, imagesFile), y };
  };
  const train = split('train', o.train, 'train');
  const test = split('t10k', o.test, 'test');
  if (train.x.cols !== test.x.cols) throw new DataError(`${o.dir}: training and test images differ in size`);
  return { train, test, inputs: train.x.cols, classes: o.classes };
}

/**
 * The identity of a data set as a run sees it: sha256 over its shape and every array (the
 * pixels after scaling and downsampling, the labels). A resumed run compares it with the
 * checkpoint's, so a data file that changed under a run is noticed even where its name did not.
 */
export function dataHash(d: DataSet): string {
  let hash = hashes.get(d);
  if (hash === undefined) {
    const h = createHash('sha256');
    h.update(JSON.stringify([d.inputs, d.classes, d.train.x.rows, d.test.x.rows]));
    for (const s of [d.train, d.test])
      for (const a of [s.x.rowPtr, s.x.colIdx, s.x.values, s.y]) h.update(new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
    hashes.set(d, (hash = h.digest('hex')));
  }
  return hash;
}

/** A sweep worker trains many runs on one loaded data set: hash it once. */
const hashes = new WeakMap<DataSet, string>();

/** The first `count` images as sparse rows, scaled to [0, 1] and averaged over d×d blocks. */
export function sparseImages(images: IdxArray, count: number, d: number, file: string): SparseRows {
  const [, height, width] = images.dims as [number, number, number];
  if (height % d !== 0 || width % d !== 0) throw new DataError(`${file}: ${height}×${width} images cannot be downsampled by ${d}`);
  const h = height / d, w = width / d, cols = h * w, scale = 1 / (255 * d * d);
  const rowPtr = new Int32Array(count + 1);
  const colIdx: number[] = [], values: number[] = [];
  const pixel = new Float64Array(cols);
  for (let r = 0; r < count; r++) {
    pixel.fill(0);
    const base = r * height * width;
    for (let i = 0; i < height; i++)
      for (let j = 0; j < width; j++) pixel[Math.floor(i / d) * w + Math.floor(j / d)] += images.data[base + i * width + j]!;
    for (let c = 0; c < cols; c++) if (pixel[c] !== 0) { colIdx.push(c); values.push(pixel[c]! * scale); }
    rowPtr[r + 1] = colIdx.length;
  }
  return { rows: count, cols, rowPtr, colIdx: Int32Array.from(colIdx), values: Float64Array.from(values) };
}
