/**
 * The kernels of kernels.ts in WebAssembly SIMD (f32x4 or f64x2), assembled by our own
 * encoder (src/emit/wasm-binary.ts), one module per row length K and precision.
 *
 * Both products run through one function, `accumulate`: for each list l of (index, value)
 * entries, out[outRow[l], :] += Σ value·src[index, :]. A row of `out` is split into tiles
 * of a few vectors that stay in registers while the list is summed, so each entry costs
 * one load, one multiply and one add per vector and the output is loaded and stored once
 * per list instead of once per entry (the loop over a tile is unrolled, with constant
 * offsets; lanes left over when K is not a multiple of the vector width use scalars).
 *   spmm:  the lists are the selected rows of X (CSR as stored), src = W.
 *   spmmT: the lists are the columns of X within blocks of consecutive selected rows
 *          (a blocked CSC built here), src = D, out = G. Blocks keep the rows of D that a
 *          block reads in cache; the terms of each G entry still come in increasing r.
 * Same additions in the same order as the JavaScript kernels, hence bitwise equal to them.
 * The images are copied into WebAssembly memory once per data set (and their blocked
 * transpose once per row selection); dense operands are copied in and out on each call.
 */
import { encodeModule, I, type Func, type Ins } from '../emit/wasm-binary.js';
import type { SparseRows } from './data.js';
import { isVolatile, jsKernelFactory, type KernelFactory, type Kernels, type Precision } from './kernels.js';

/**
 * Vectors per tile. Measured on the full-size products (x86-64, V8): 4 to 7 alike within
 * noise; from 8 on V8 hoists the tile's loads above the arithmetic and spills accumulators
 * to the stack (16 vector registers), and the loop gets slower.
 */
const TILE_VECTORS = 4;

/**
 * Bytes of one (index, value) entry: the byte offset of the src row it scales (an i32, the
 * index already multiplied by the row's bytes) and the value, at VALUE_AT.
 */
const entryBytes = (precision: Precision) => (precision === 'f32' ? 8 : 16);
const VALUE_AT: Record<Precision, number> = { f32: 4, f64: 8 };

/** accumulate(n, outRow, start, end, entries, src, dst, init) for rows of K numbers. */
function accumulate(K: number, precision: Precision, tileVectors: number): Func {
  const single = precision === 'f32', es = single ? 4 : 8, lanes = 16 / es, rowBytes = K * es;
  const EB = entryBytes(precision), VA = VALUE_AT[precision];
  const [n, outRow, start, end, entries, src, dst, init] = [0, 1, 2, 3, 4, 5, 6, 7];
  const [l, p, pe, pd, ps, as, a] = [8, 9, 10, 11, 12, 13, 14];
  const vectors = Math.floor(K / lanes), scalars = K % lanes;
  const tiles = Math.max(1, Math.ceil(vectors / tileVectors));
  const accBase = 15, scalarBase = accBase + tileVectors;
  const get = I.localGet, set = I.localSet;
  const scalarLoad = (off: number) => (single ? I.f32Load(off) : I.f64Load(off));
  const scalarStore = (off: number) => (single ? I.f32Store(off) : I.f64Store(off));
  const [vAdd, vMul, splat] = single ? [I.f32x4Add, I.f32x4Mul, I.f32x4Splat] : [I.f64x2Add, I.f64x2Mul, I.f64x2Splat];
  const [sAdd, sMul] = single ? [I.f32Add, I.f32Mul] : [I.f64Add, I.f64Mul];
  const listBound = (arr: number): Ins[] => [get(arr), get(l), I.i32Const(2), I.i32Shl(), I.i32Add(), I.i32Load(), I.i32Const(EB), I.i32Mul(), get(entries), I.i32Add()];

  const tileCode = (t: number): Ins[] => {
    // the vectors [v0, v1) of this tile, and the scalar lanes when it is the last one
    const v0 = Math.floor((t * vectors) / tiles), v1 = Math.floor(((t + 1) * vectors) / tiles);
    const vecOff = Array.from({ length: v1 - v0 }, (_, i) => (v0 + i) * 16);
    const sclOff = t === tiles - 1 ? Array.from({ length: scalars }, (_, i) => vectors * 16 + i * es) : [];
    /** The entry at p: its value in `as` (splatted in `a`), the address of its src row in `ps`. */
    const readEntry = (): Ins[] => [
      get(p), scalarLoad(VA), set(as),
      ...(vecOff.length ? [get(as), splat(), set(a)] : []),
      get(p), I.i32Load(), get(src), I.i32Add(), set(ps),
    ];
    const addTerms = (): Ins[] => [
      ...vecOff.flatMap((off, i) => [get(accBase + i), get(a), get(ps), I.v128Load(off), vMul(), vAdd(), set(accBase + i)]),
      ...sclOff.flatMap((off, i) => [get(scalarBase + i), get(as), get(ps), scalarLoad(off), sMul(), sAdd(), set(scalarBase + i)]),
    ];
    // the sums start from the row `init` when given (init ≠ 0), else from the output row
    const from = [get(init), get(pd), get(init), I.select()];
    return [
      ...vecOff.flatMap((off, i) => [...from, I.v128Load(off), set(accBase + i)]),
      ...sclOff.flatMap((off, i) => [...from, scalarLoad(off), set(scalarBase + i)]),
      ...listBound(start), set(p),
      I.block(), I.loop(),
      get(p), get(pe), I.i32GeU(), I.brIf(1),
      ...readEntry(), ...addTerms(),
      get(p), I.i32Const(EB), I.i32Add(), set(p),
      I.br(0), I.end(), I.end(),
      ...vecOff.flatMap((off, i) => [get(pd), get(accBase + i), I.v128Store(off)]),
      ...sclOff.flatMap((off, i) => [get(pd), get(scalarBase + i), scalarStore(off)]),
    ];
  };

  const body: Ins[] = [
    I.i32Const(0), set(l),
    I.block(), I.loop(),
    get(l), get(n), I.i32GeU(), I.brIf(1),
    get(outRow), get(l), I.i32Const(2), I.i32Shl(), I.i32Add(), I.i32Load(), I.i32Const(rowBytes), I.i32Mul(), get(dst), I.i32Add(), set(pd),
    ...listBound(end), set(pe),
    ...Array.from({ length: tiles }, (_, t) => tileCode(t)).flat(),
    get(l), I.i32Const(1), I.i32Add(), set(l),
    I.br(0), I.end(), I.end(),
  ];
  const scalarType = single ? 'f32' : 'f64';
  return {
    name: 'accumulate',
    type: { params: ['i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32'], results: [] },
    locals: [
      'i32', 'i32', 'i32', 'i32', 'i32', scalarType, 'v128',
      ...Array<'v128'>(tileVectors).fill('v128'), ...Array<'f32' | 'f64'>(scalars).fill(scalarType),
    ],
    body,
  };
}

/**
 * interleave(n, from, to): the n contiguous values at `from` into the value slots of the
 * n entries at `to` (a matrix whose values change between calls: one bulk copy from
 * JavaScript, then this, instead of a JavaScript loop over the entries).
 */
function interleave(precision: Precision): Func {
  const single = precision === 'f32', es = single ? 4 : 8, EB = entryBytes(precision);
  const [n, from, to, i] = [0, 1, 2, 3];
  const get = I.localGet, set = I.localSet;
  return {
    name: 'interleave',
    type: { params: ['i32', 'i32', 'i32'], results: [] },
    locals: ['i32'],
    body: [
      I.i32Const(0), set(i),
      I.block(), I.loop(),
      get(i), get(n), I.i32GeU(), I.brIf(1),
      get(to), get(i), I.i32Const(EB), I.i32Mul(), I.i32Add(),
      get(from), get(i), I.i32Const(es), I.i32Mul(), I.i32Add(), single ? I.f32Load() : I.f64Load(),
      single ? I.f32Store(VALUE_AT[precision]) : I.f64Store(VALUE_AT[precision]),
      get(i), I.i32Const(1), I.i32Add(), set(i),
      I.br(0), I.end(), I.end(),
    ],
  };
}

/** Tuning (the defaults are the measured best; tests shrink them to exercise every path). */
export interface KernelOptions {
  /** Vectors per tile. */
  readonly tileVectors?: number;
  /** Bytes of D rows per block of spmmT's transpose. */
  readonly blockBytes?: number;
}

type AccumulateFn = (n: number, outRow: number, start: number, end: number, entries: number, src: number, dst: number, init: number) => void;

const PAGE = 65536;
const align16 = (n: number) => (n + 15) & ~15;

/** WebAssembly kernels for every row length and precision (one module each, built on first use); JavaScript where WebAssembly is missing. */
export function wasmKernelFactory(options: KernelOptions = {}): KernelFactory {
  const made = new Map<string, Kernels>();
  return (K, precision) => {
    const key = `${K}/${precision}`;
    let k = made.get(key);
    if (!k) made.set(key, (k = wasmKernels(K, precision, options) ?? jsKernelFactory(K, precision)));
    return k;
  };
}

/** Lists of (index, value) entries: list l adds into output row outRow[l]. */
interface Lists {
  readonly outRow: Int32Array;
  readonly start: Int32Array;
  readonly end: Int32Array;
}

/**
 * The columns of the selected rows of x, block by block: within a block of consecutive
 * positions in `rows`, one list per non-empty column, its entries in increasing position.
 */
function blockedColumns(x: SparseRows, rows: Int32Array, block: number): Lists & { readonly idx: Int32Array; readonly perm: Int32Array } {
  const { rowPtr, colIdx, cols } = x;
  let total = 0;
  for (let r = 0; r < rows.length; r++) total += rowPtr[rows[r]! + 1]! - rowPtr[rows[r]!]!;
  const idx = new Int32Array(total), perm = new Int32Array(total); // perm: the CSR entry each one comes from
  const outRow: number[] = [], start: number[] = [], end: number[] = [];
  const count = new Int32Array(cols), next = new Int32Array(cols);
  let base = 0;
  for (let b0 = 0; b0 < rows.length; b0 += block) {
    const b1 = Math.min(rows.length, b0 + block);
    count.fill(0);
    for (let r = b0; r < b1; r++) for (let k = rowPtr[rows[r]!]!; k < rowPtr[rows[r]! + 1]!; k++) count[colIdx[k]!]++;
    let p = base;
    for (let c = 0; c < cols; c++) {
      next[c] = p;
      if (count[c]! > 0) { outRow.push(c); start.push(p); end.push(p + count[c]!); }
      p += count[c]!;
    }
    for (let r = b0; r < b1; r++)
      for (let k = rowPtr[rows[r]!]!; k < rowPtr[rows[r]! + 1]!; k++) {
        const at = next[colIdx[k]!]++;
        idx[at] = r;
        perm[at] = k;
      }
    base = p;
  }
  return { outRow: Int32Array.from(outRow), start: Int32Array.from(start), end: Int32Array.from(end), idx, perm };
}

const sameRows = (a: Int32Array, b: Int32Array) => a.length === b.length && a.every((v, i) => v === b[i]);

/** WebAssembly SIMD kernels for rows of K numbers; undefined when WebAssembly is missing. */
export function wasmKernels(K: number, precision: Precision, options: KernelOptions = {}): Kernels | undefined {
  if (typeof WebAssembly === 'undefined') return undefined;
  const bytes = encodeModule({ imports: [], funcs: [accumulate(K, precision, options.tileVectors ?? TILE_VECTORS), interleave(precision)] });
  const instance = new WebAssembly.Instance(new WebAssembly.Module(bytes as Uint8Array<ArrayBuffer>), {});
  const memory = instance.exports['memory'] as WebAssembly.Memory;
  const run = instance.exports['accumulate'] as AccumulateFn;
  const interleaveValues = instance.exports['interleave'] as (n: number, from: number, to: number) => void;
  const Float = precision === 'f32' ? Float32Array : Float64Array, es = Float.BYTES_PER_ELEMENT;
  const EB = entryBytes(precision), rowBytes = K * es;
  // rows of D per block of spmmT: about 128 KiB of them, within a core's L2 cache
  const block = Math.max(16, Math.floor((options.blockBytes ?? 131072) / rowBytes));
  let top = 16; // bump allocator: data stay, scratch starts at `top` on each call
  const reserve = (n: number) => {
    const at = top;
    top = align16(top + n);
    const need = Math.ceil(top / PAGE) - memory.buffer.byteLength / PAGE;
    if (need > 0) memory.grow(need);
    return at;
  };
  const scratch = (a: Int32Array | Float64Array) => {
    const at = reserve(a.length * (a instanceof Int32Array ? 4 : es));
    if (a instanceof Int32Array) new Int32Array(memory.buffer, at, a.length).set(a);
    else new Float(memory.buffer, at, a.length).set(a);
    return at;
  };
  /** New values for the entries at `at` (their indices stay). */
  const refreshValues = (at: number, values: Float64Array) => {
    const base = top;
    interleaveValues(values.length, scratch(values), at);
    top = base;
  };
  /** The first n entries of (idx, values) written at `at`. */
  const writeEntries = (at: number, idx: Int32Array, values: Float64Array, n: number) => {
    const offsets = new Int32Array(memory.buffer, at, (n * EB) / 4), step = EB / 4;
    for (let i = 0; i < n; i++) offsets[i * step] = idx[i]! * rowBytes;
    refreshValues(at, values.subarray(0, n));
  };

  // CSR entries of each matrix, placed once (a volatile matrix's values again on each call)
  const placed = new WeakMap<SparseRows, number>();
  const placeRows = (x: SparseRows, rows: Int32Array) => {
    let at = placed.get(x);
    if (at === undefined) {
      at = reserve(x.colIdx.length * EB);
      writeEntries(at, x.colIdx, x.values, x.colIdx.length);
      placed.set(x, at);
    } else if (isVolatile(x)) {
      let last = 0;
      for (let r = 0; r < rows.length; r++) if (rows[r]! > last) last = rows[r]!;
      refreshValues(at, x.values.subarray(0, x.rowPtr[last + 1]!));
    }
    return at;
  };
  // the blocked transpose of the last row selection of each matrix, in a region of its size
  const transposed = new WeakMap<SparseRows, { rows: Int32Array; lists: Lists; perm: Int32Array; at: number }>();
  const placeColumns = (x: SparseRows, rows: Int32Array) => {
    let t = transposed.get(x);
    const gather = (perm: Int32Array) => {
      const v = new Float64Array(perm.length);
      for (let i = 0; i < perm.length; i++) v[i] = x.values[perm[i]!]!;
      return v;
    };
    if (t && sameRows(t.rows, rows)) {
      if (isVolatile(x)) refreshValues(t.at, gather(t.perm));
      return t;
    }
    const c = blockedColumns(x, rows, block);
    const at = t?.at ?? reserve(x.colIdx.length * EB);
    writeEntries(at, c.idx, gather(c.perm), c.idx.length);
    t = { rows: rows.slice(), lists: c, perm: c.perm, at };
    transposed.set(x, t);
    return t;
  };

  const call = (lists: Lists, entries: number, src: Float64Array, dst: Float64Array, init?: Float64Array) => {
    const base = top;
    const outRowAt = scratch(lists.outRow), startAt = scratch(lists.start), endAt = scratch(lists.end);
    const srcAt = scratch(src), initAt = init ? scratch(init) : 0;
    const dstAt = init ? reserve(dst.length * es) : scratch(dst); // with init, dst is only written
    run(lists.outRow.length, outRowAt, startAt, endAt, entries, srcAt, dstAt, initAt);
    dst.set(new Float(memory.buffer, dstAt, dst.length));
    top = base; // the scratch is free again (the memory keeps its size)
  };
  let identity = new Int32Array(0);
  const check = (k: number) => {
    if (k !== K) throw new RangeError(`wasm kernels built for rows of ${K}, called with ${k}`);
  };
  return {
    name: `wasm-simd-${precision}`,
    spmm(x, rows, W, out, k, init) {
      check(k);
      const at = placeRows(x, rows), m = rows.length;
      const start = new Int32Array(m), end = new Int32Array(m);
      for (let r = 0; r < m; r++) { start[r] = x.rowPtr[rows[r]!]!; end[r] = x.rowPtr[rows[r]! + 1]!; }
      if (identity.length < m) identity = Int32Array.from({ length: m }, (_, r) => r);
      call({ outRow: identity.subarray(0, m), start, end }, at, W.subarray(0, x.cols * K), out.subarray(0, m * K), init?.subarray(0, K));
    },
    spmmT(x, rows, D, G, k) {
      check(k);
      const t = placeColumns(x, rows);
      call(t.lists, t.at, D.subarray(0, rows.length * K), G.subarray(0, x.cols * K));
    },
  };
}
