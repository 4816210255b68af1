/**
 * A small WebAssembly assembler: instructions carry their binary encoding and their text
 * (WAT) form together, so the module written to disk as `.wat` is the module that runs.
 * Only what the optimizer and training kernels use: f64, f64x2, f32 and f32x4 arithmetic, i32 loads and
 * address arithmetic, blocks and loops, calls to imported Math functions, one exported memory.
 * Encoding: https://webassembly.github.io/spec/core/binary/ (SIMD opcodes: 0xfd prefix).
 */

export type ValType = 'i32' | 'f32' | 'f64' | 'v128';
const VALTYPE: Record<ValType, number> = { i32: 0x7f, f32: 0x7d, f64: 0x7c, v128: 0x7b };

/** One instruction: its bytes and its WAT text. */
export interface Ins { readonly bytes: readonly number[]; readonly text: string }

function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n !== 0) b |= 0x80;
    out.push(b);
  } while (n !== 0);
  return out;
}

function sleb(n: number): number[] {
  const out: number[] = [];
  for (;;) {
    const b = n & 0x7f;
    n >>= 7;
    if ((n === 0 && (b & 0x40) === 0) || (n === -1 && (b & 0x40) !== 0)) { out.push(b); return out; }
    out.push(b | 0x80);
  }
}

function f64Bytes(x: number): number[] {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setFloat64(0, x, true);
  return [...b];
}

/** Shortest text that reads back as the same double (WAT accepts `inf`, `nan`). */
function f64Text(x: number): string {
  if (Number.isNaN(x)) return 'nan';
  if (!Number.isFinite(x)) return x > 0 ? 'inf' : '-inf';
  if (Object.is(x, -0)) return '-0';
  return String(x);
}

const op = (text: string, ...bytes: number[]): Ins => ({ bytes, text });
const simd = (text: string, code: number, ...rest: number[]): Ins => ({ bytes: [0xfd, ...uleb(code), ...rest], text });

const offsetText = (offset: number) => (offset ? ` offset=${offset}` : '');

/** The instructions, by WAT mnemonic. Memory access is 8-byte aligned (align=3) except for f32 (align=2). */
export const I = {
  localGet: (i: number) => op(`local.get ${i}`, 0x20, ...uleb(i)),
  localSet: (i: number) => op(`local.set ${i}`, 0x21, ...uleb(i)),
  localTee: (i: number) => op(`local.tee ${i}`, 0x22, ...uleb(i)),
  call: (i: number) => op(`call ${i}`, 0x10, ...uleb(i)),
  block: () => op('block', 0x02, 0x40),
  loop: () => op('loop', 0x03, 0x40),
  end: () => op('end', 0x0b),
  br: (depth: number) => op(`br ${depth}`, 0x0c, ...uleb(depth)),
  brIf: (depth: number) => op(`br_if ${depth}`, 0x0d, ...uleb(depth)),
  select: () => op('select', 0x1b),
  i32Const: (x: number) => op(`i32.const ${x}`, 0x41, ...sleb(x)),
  i32Add: () => op('i32.add', 0x6a),
  i32And: () => op('i32.and', 0x71),
  i32Shl: () => op('i32.shl', 0x74),
  i32GeU: () => op('i32.ge_u', 0x4f),
  i32LtU: () => op('i32.lt_u', 0x49),
  i32Mul: () => op('i32.mul', 0x6c),
  i32Load: () => op('i32.load align=4', 0x28, 2, 0),
  f64Const: (x: number) => op(`f64.const ${f64Text(x)}`, 0x44, ...f64Bytes(x)),
  f64Load: (offset = 0) => op(`f64.load${offsetText(offset)} align=8`, 0x2b, 3, ...uleb(offset)),
  f64Store: (offset = 0) => op(`f64.store${offsetText(offset)} align=8`, 0x39, 3, ...uleb(offset)),
  f32Load: (offset = 0) => op(`f32.load${offsetText(offset)} align=4`, 0x2a, 2, ...uleb(offset)),
  f32Store: (offset = 0) => op(`f32.store${offsetText(offset)} align=4`, 0x38, 2, ...uleb(offset)),
  f32Add: () => op('f32.add', 0x92),
  f32Mul: () => op('f32.mul', 0x94),
  f64Eq: () => op('f64.eq', 0x61),
  f64Ne: () => op('f64.ne', 0x62),
  f64Abs: () => op('f64.abs', 0x99),
  f64Sqrt: () => op('f64.sqrt', 0x9f),
  f64Add: () => op('f64.add', 0xa0),
  f64Sub: () => op('f64.sub', 0xa1),
  f64Mul: () => op('f64.mul', 0xa2),
  f64Div: () => op('f64.div', 0xa3),
  f64Copysign: () => op('f64.copysign', 0xa6),
  v128Load: (offset = 0) => simd(`v128.load${offsetText(offset)} align=8`, 0x00, 3, ...uleb(offset)),
  v128Store: (offset = 0) => simd(`v128.store${offsetText(offset)} align=8`, 0x0b, 3, ...uleb(offset)),
  f32x4Splat: () => simd('f32x4.splat', 0x13),
  f32x4Add: () => simd('f32x4.add', 0xe4),
  f32x4Mul: () => simd('f32x4.mul', 0xe6),
  f64x2Const: (x: number) => ({ bytes: [0xfd, ...uleb(0x0c), ...f64Bytes(x), ...f64Bytes(x)], text: `v128.const f64x2 ${f64Text(x)} ${f64Text(x)}` }),
  f64x2Splat: () => simd('f64x2.splat', 0x14),
  f64x2ExtractLane: (lane: number) => simd(`f64x2.extract_lane ${lane}`, 0x21, lane),
  f64x2ReplaceLane: (lane: number) => simd(`f64x2.replace_lane ${lane}`, 0x22, lane),
  f64x2Eq: () => simd('f64x2.eq', 0x47),
  f64x2Ne: () => simd('f64x2.ne', 0x48),
  v128And: () => simd('v128.and', 0x4e),
  v128Or: () => simd('v128.or', 0x50),
  v128Bitselect: () => simd('v128.bitselect', 0x52),
  f64x2Abs: () => simd('f64x2.abs', 0xec),
  f64x2Neg: () => simd('f64x2.neg', 0xed),
  f64x2Floor: () => simd('f64x2.floor', 0x75),
  f64x2Min: () => simd('f64x2.min', 0xf4),
  i32x4TruncSatF64x2SZero: () => simd('i32x4.trunc_sat_f64x2_s_zero', 0xfc),
  i64x2ExtendLowI32x4S: () => simd('i64x2.extend_low_i32x4_s', 0xc7),
  i64x2Shl: () => simd('i64x2.shl', 0xcb),
  i64x2Sub: () => simd('i64x2.sub', 0xd1),
  f64x2Sqrt: () => simd('f64x2.sqrt', 0xef),
  f64x2Add: () => simd('f64x2.add', 0xf0),
  f64x2Sub: () => simd('f64x2.sub', 0xf1),
  f64x2Mul: () => simd('f64x2.mul', 0xf2),
  f64x2Div: () => simd('f64x2.div', 0xf3),
} as const;

export interface FuncType { readonly params: readonly ValType[]; readonly results: readonly ValType[] }
export interface Import { readonly module: string; readonly name: string; readonly type: FuncType }
export interface Func {
  readonly name: string;
  readonly type: FuncType;
  /** Locals beyond the parameters, in index order. */
  readonly locals: readonly ValType[];
  readonly body: readonly Ins[];
}
export interface WasmModule { readonly imports: readonly Import[]; readonly funcs: readonly Func[] }

const typeKey = (t: FuncType) => `${t.params.join(',')}->${t.results.join(',')}`;
const vec = (items: number[][]) => [...uleb(items.length), ...items.flat()];
const section = (id: number, body: number[]) => [id, ...uleb(body.length), ...body];
const nameBytes = (s: string) => { const b = [...new TextEncoder().encode(s)]; return [...uleb(b.length), ...b]; };

/** Binary encoding: imported functions first (indices 0…), then the module's own; memory 0 is exported as "memory". */
export function encodeModule(m: WasmModule): Uint8Array {
  const types: FuncType[] = [];
  const typeIndex = (t: FuncType) => {
    let i = types.findIndex((u) => typeKey(u) === typeKey(t));
    if (i < 0) { i = types.length; types.push(t); }
    return i;
  };
  const importIdx = m.imports.map((im) => typeIndex(im.type));
  const funcIdx = m.funcs.map((f) => typeIndex(f.type));
  const out: number[] = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];
  out.push(...section(1, vec(types.map((t) => [0x60, ...vec(t.params.map((p) => [VALTYPE[p]])), ...vec(t.results.map((r) => [VALTYPE[r]]))]))));
  out.push(...section(2, vec(m.imports.map((im, i) => [...nameBytes(im.module), ...nameBytes(im.name), 0x00, ...uleb(importIdx[i]!)]))));
  out.push(...section(3, vec(funcIdx.map((t) => uleb(t)))));
  out.push(...section(5, vec([[0x00, ...uleb(1)]]))); // one memory, 1 page minimum, no maximum
  const exports = [[...nameBytes('memory'), 0x02, 0x00], ...m.funcs.map((f, i) => [...nameBytes(f.name), 0x00, ...uleb(m.imports.length + i)])];
  out.push(...section(7, vec(exports)));
  const bodies = m.funcs.map((f) => {
    // locals run-length encoded by type
    const runs: number[][] = [];
    let k = 0;
    while (k < f.locals.length) {
      let j = k;
      while (j < f.locals.length && f.locals[j] === f.locals[k]) j++;
      runs.push([...uleb(j - k), VALTYPE[f.locals[k]!]]);
      k = j;
    }
    const body = [...vec(runs), ...f.body.flatMap((ins) => ins.bytes), 0x0b];
    return [...uleb(body.length), ...body];
  });
  out.push(...section(10, vec(bodies)));
  return Uint8Array.from(out);
}

/** The same module in the WebAssembly text format (flat instructions, numeric local indices). */
export function printWat(m: WasmModule): string {
  const sig = (t: FuncType) => `${t.params.length ? ` (param ${t.params.join(' ')})` : ''}${t.results.length ? ` (result ${t.results.join(' ')})` : ''}`;
  const L = ['(module'];
  for (const im of m.imports) L.push(`  (import ${JSON.stringify(im.module)} ${JSON.stringify(im.name)} (func${sig(im.type)}))`);
  L.push('  (memory (export "memory") 1)');
  for (const f of m.funcs) {
    L.push(`  (func (export ${JSON.stringify(f.name)})${sig(f.type)}${f.locals.length ? ` (local ${f.locals.join(' ')})` : ''}`);
    let depth = 2;
    for (const ins of f.body) {
      if (ins.text === 'end') depth--;
      L.push(`${'  '.repeat(depth)}${ins.text}`);
      if (ins.text === 'block' || ins.text === 'loop') depth++;
    }
    L.push('  )');
  }
  L.push(')');
  return `${L.join('\n')}\n`;
}
