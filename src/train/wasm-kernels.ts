/**
 * The kernels of kernels.ts in WebAssembly with f64x2 SIMD, assembled by our own encoder
 * (src/emit/wasm-binary.ts). The axpy over a row of K doubles is unrolled completely (one
 * module per K), with constant memory offsets. Same operations in the same order as the
 * JavaScript kernels (multiply, then add; no fused multiply-add), hence bitwise equal.
 * The images are copied into WebAssembly memory once per data set; the dense operands
 * are copied in and out on each call (a few milliseconds against the product's time).
 */
import { encodeModule, I, type Func, type Ins } from '../emit/wasm-binary.js';
import type { SparseRows } from './data.js';
import { jsKernels, type KernelFactory, type Kernels } from './kernels.js';

/** spmm (transposed = false) or spmmT: (rows, m, rowPtr, colIdx, values, src, dst) byte addresses. */
function kernel(name: string, K: number, transposed: boolean): Func {
  const [rowsA, m, rowPtr, col, val, src, dst] = [0, 1, 2, 3, 4, 5, 6];
  const [r, k, end, rowOff, colOff, pd, ps, a] = [7, 8, 9, 10, 11, 12, 13, 14];
  const kb = K * 8;
  const get = I.localGet, set = I.localSet;
  const axpy: Ins[] = [];
  for (let off = 0; off < kb; off += 16) {
    // dst[pd + off] = dst[pd + off] + a·src[ps + off]
    axpy.push(get(pd), get(pd), I.v128Load(off), get(a), get(ps), I.v128Load(off), I.f64x2Mul(), I.f64x2Add(), I.v128Store(off));
  }
  const body: Ins[] = [
    I.i32Const(0), set(r),
    I.block(), I.loop(),
    get(r), get(m), I.i32GeU(), I.brIf(1),
    // s = rows[r]; k = rowPtr[s]; end = rowPtr[s + 1]
    get(rowPtr), get(rowsA), get(r), I.i32Const(2), I.i32Shl(), I.i32Add(), I.i32Load(), I.i32Const(2), I.i32Shl(), I.i32Add(), I.localTee(end),
    I.i32Load(), set(k),
    get(end), I.i32Const(4), I.i32Add(), I.i32Load(), set(end),
    get(r), I.i32Const(kb), I.i32Mul(), set(rowOff),
    I.block(), I.loop(),
    get(k), get(end), I.i32GeU(), I.brIf(1),
    get(val), get(k), I.i32Const(3), I.i32Shl(), I.i32Add(), I.f64Load(), I.f64x2Splat(), set(a),
    get(col), get(k), I.i32Const(2), I.i32Shl(), I.i32Add(), I.i32Load(), I.i32Const(kb), I.i32Mul(), set(colOff),
    get(dst), get(transposed ? colOff : rowOff), I.i32Add(), set(pd),
    get(src), get(transposed ? rowOff : colOff), I.i32Add(), set(ps),
    ...axpy,
    get(k), I.i32Const(1), I.i32Add(), set(k),
    I.br(0), I.end(), I.end(),
    get(r), I.i32Const(1), I.i32Add(), set(r),
    I.br(0), I.end(), I.end(),
  ];
  return {
    name,
    type: { params: ['i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32'], results: [] },
    locals: ['i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'v128'],
    body,
  };
}

type KernelFn = (rows: number, m: number, rowPtr: number, col: number, val: number, src: number, dst: number) => void;

const PAGE = 65536;
const align16 = (n: number) => (n + 15) & ~15;

/** WebAssembly kernels for every even row length, JavaScript for odd ones (one module per length, built on first use). */
export function wasmKernelFactory(): KernelFactory {
  const made = new Map<number, Kernels>();
  return (K) => {
    let k = made.get(K);
    if (!k) made.set(K, (k = wasmKernels(K) ?? jsKernels));
    return k;
  };
}

/** WebAssembly SIMD kernels for rows of K doubles (K even); undefined when K is odd or WebAssembly is missing. */
export function wasmKernels(K: number): Kernels | undefined {
  if (K % 2 !== 0 || typeof WebAssembly === 'undefined') return undefined;
  const bytes = encodeModule({ imports: [], funcs: [kernel('spmm', K, false), kernel('spmmT', K, true)] });
  const instance = new WebAssembly.Instance(new WebAssembly.Module(bytes as Uint8Array<ArrayBuffer>), {});
  const memory = instance.exports['memory'] as WebAssembly.Memory;
  const spmm = instance.exports['spmm'] as KernelFn, spmmT = instance.exports['spmmT'] as KernelFn;
  let top = 16; // bump allocator: sparse matrices stay, scratch starts at `top` on each call
  const reserve = (bytes: number) => {
    const at = top;
    top = align16(top + bytes);
    const need = Math.ceil(top / PAGE) - memory.buffer.byteLength / PAGE;
    if (need > 0) memory.grow(need);
    return at;
  };
  const placed = new WeakMap<SparseRows, { rowPtr: number; col: number; val: number }>();
  const place = (x: SparseRows) => {
    let p = placed.get(x);
    if (!p) {
      p = { rowPtr: reserve(x.rowPtr.byteLength), col: reserve(x.colIdx.byteLength), val: reserve(x.values.byteLength) };
      new Int32Array(memory.buffer, p.rowPtr, x.rowPtr.length).set(x.rowPtr);
      new Int32Array(memory.buffer, p.col, x.colIdx.length).set(x.colIdx);
      new Float64Array(memory.buffer, p.val, x.values.length).set(x.values);
      placed.set(x, p);
    }
    return p;
  };
  const call = (fn: KernelFn, x: SparseRows, rows: Int32Array, src: Float64Array, dst: Float64Array, k: number) => {
    if (k !== K) throw new RangeError(`wasm kernels built for rows of ${K}, called with ${k}`);
    const p = place(x);
    if ((x as { volatile?: boolean }).volatile) {
      let last = 0;
      for (let r = 0; r < rows.length; r++) if (rows[r]! > last) last = rows[r]!;
      const used = x.rowPtr[last + 1]!;
      new Float64Array(memory.buffer, p.val, used).set(x.values.subarray(0, used));
    }
    const base = top;
    const rowsAt = reserve(rows.byteLength), srcAt = reserve(src.byteLength), dstAt = reserve(dst.byteLength);
    new Int32Array(memory.buffer, rowsAt, rows.length).set(rows);
    new Float64Array(memory.buffer, srcAt, src.length).set(src);
    new Float64Array(memory.buffer, dstAt, dst.length).set(dst);
    fn(rowsAt, rows.length, p.rowPtr, p.col, p.val, srcAt, dstAt);
    dst.set(new Float64Array(memory.buffer, dstAt, dst.length));
    top = base; // the scratch is free again (the memory keeps its size)
  };
  return {
    name: 'wasm-simd',
    spmm: (x, rows, W, out, k) => call(spmm, x, rows, W, out, k),
    spmmT: (x, rows, D, G, k) => call(spmmT, x, rows, D, G, k),
  };
}
