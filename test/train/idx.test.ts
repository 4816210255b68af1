/** The IDX loader and the data set: round trip, gzip, and one clear error per malformed file. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { loadDataSet, sparseImages } from '../../src/train/data.js';
import { DataError, encodeIdx, readIdx } from '../../src/train/idx.js';
import { writeTinyIdx } from './fixtures.js';

const tmp = mkdtempSync(join(tmpdir(), 'memloss-idx-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const file = (name: string, bytes: Uint8Array) => {
  const f = join(tmp, name);
  writeFileSync(f, bytes);
  return f;
};

describe('readIdx', () => {
  const data = Uint8Array.from({ length: 2 * 3 * 4 }, (_, i) => i * 7);
  it('reads plain and gzipped files alike', () => {
    const plain = readIdx(file('a.idx', encodeIdx([2, 3, 4], data)));
    const gz = readIdx(file('a.idx.gz', gzipSync(encodeIdx([2, 3, 4], data))));
    expect(plain.dims).toEqual([2, 3, 4]);
    expect([...plain.data]).toEqual([...data]);
    expect(gz).toEqual(plain);
  });
  it.each([
    ['missing', () => join(tmp, 'nope.idx'), /^cannot read .*nope\.idx: no such file$/],
    ['bad magic', () => file('m.idx', Uint8Array.from([1, 2, 8, 1, 0, 0, 0, 1, 5])), /m\.idx: bad magic number: an IDX file starts with two zero bytes, got 0x0102$/],
    ['other data type', () => file('t.idx', Uint8Array.from([0, 0, 0x0d, 1, 0, 0, 0, 1, 5])), /t\.idx: unsupported IDX data type 0x0d/],
    ['truncated header', () => file('h.idx', Uint8Array.from([0, 0, 8, 3, 0, 0])), /h\.idx: truncated IDX header \(3 dimensions need 16 bytes, the file has 6\)$/],
    ['truncated data', () => file('d.idx', encodeIdx([2, 3, 4], data).subarray(0, 30)), /d\.idx: truncated: the header \(2×3×4\) needs 24 data bytes, the file has 14$/],
    ['trailing data', () => file('x.idx', Uint8Array.from([...encodeIdx([2], Uint8Array.from([1, 2])), 9])), /x\.idx: 1 bytes after the data/],
    ['broken gzip', () => file('g.idx.gz', gzipSync(encodeIdx([2, 3, 4], data)).subarray(0, 20)), /g\.idx\.gz: not a valid gzip file/],
  ])('%s: one DataError naming the file', (_name, make, message) => {
    const f = make();
    expect(() => readIdx(f)).toThrow(DataError);
    expect(() => readIdx(f)).toThrow(message);
  });
});

describe('data set', () => {
  it('loads a directory with gzipped and plain files, as sparse rows', () => {
    const dir = join(tmp, 'set');
    writeTinyIdx(dir, 12, 6);
    const ds = loadDataSet({ dir, train: 10, test: 6, downsample: 1, classes: 3 });
    expect(ds.inputs).toBe(64);
    expect(ds.classes).toBe(3);
    expect(ds.train.x.rows).toBe(10);
    expect([...ds.train.y.subarray(0, 4)]).toEqual([0, 1, 2, 0]);
    expect(() => loadDataSet({ dir, train: 13, test: 6, downsample: 1, classes: 3 })).toThrow(/data\.train = 13 but .* holds only 12 images/);
    expect(() => loadDataSet({ dir: join(tmp, 'none'), train: 1, test: 1, downsample: 1, classes: 3 })).toThrow(/cannot read .*train-images-idx3-ubyte.gz: no such file/);
    expect(() => loadDataSet({ dir, train: 1, test: 1, downsample: 3, classes: 3 })).toThrow(/8×8 images cannot be downsampled by 3/);
    // a label at or beyond data.classes is refused, not a wider model
    expect(() => loadDataSet({ dir, train: 10, test: 6, downsample: 1, classes: 2 })).toThrow(/train-labels-idx1-ubyte\.gz: label 2 of image 2 is not below data\.classes = 2/);
  });
  it('downsamples by averaging blocks and keeps only non-zeros', () => {
    // one 4×4 image: a 2×2 block of 255 in the top-left corner, zeros elsewhere
    const img = new Uint8Array(16);
    for (const i of [0, 1, 4, 5]) img[i] = 255;
    img[15] = 51;
    const x = sparseImages({ dims: [1, 4, 4], data: img }, 1, 2, 'f');
    expect(x.cols).toBe(4);
    expect([...x.colIdx]).toEqual([0, 3]);
    expect([...x.values]).toEqual([1, 51 / 255 / 4]);
  });
});
