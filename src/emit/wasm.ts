/**
 * WebAssembly (f64) for a rule's optimizer: the same IR, the same hoisting and binding as the
 * TypeScript module (optimizer-code.ts), compiled to kernels over WebAssembly memory, and a
 * small JavaScript loader with the API of src/numeric/types.ts.
 *
 * Division of labour: every loop-invariant value (bias corrections, powers of parameters —
 * the `Bindings` hoisted list) is computed by the loader in JavaScript, with the very code
 * the TypeScript module uses, and passed to the kernel as an f64 parameter; the kernel's
 * per-coordinate loop needs only + − × ÷ √ |·|, copysign and a zero test (sign), plus
 * imported Math.pow/exp/log/tanh where a varying argument needs one (expr-wat.ts). `step` and
 * every other loop run two coordinates at a time in f64x2 with a scalar tail;
 * `step_scalar` is the same step without SIMD. H·v comes from the caller between the field
 * and weight kernels of `correction`. A function whose expression keeps a Σ (an exact-n form
 * without closed form) runs in the embedded TypeScript module instead, as do `penalty` and
 * `penaltyWeight`.
 *
 * Hoisting and binding are optimizer-code.ts's own `Bindings`: equal bindings make equal
 * floating-point operations, so the results agree with the TypeScript module bitwise.
 *
 * The module is assembled here by our own encoder (wasm-binary.ts): no dependency, no
 * asynchronous initialisation, so the loader is synchronous.
 */
import * as E from '../ir/expr.js';
import type { Expr } from '../ir/expr.js';
import { isPrevName, type Rule } from '../ir/rule.js';
import { InternalError } from '../ir/diagnostics.js';
import type { Derivation, RegimeResult } from '../derive/types.js';
import { hasSum, IMPORT_OBJECT_JS, IMPORTS, toWat, type Lanes } from './expr-wat.js';
import { encodeModule, I, printWat, type Func, type Ins, type ValType, type WasmModule } from './wasm-binary.js';
import { Bindings, optimizerModule } from './optimizer-code.js';
import { codeName } from './code-names.js';
import { gatherRegime } from './gather.js';
import { PRECISE_DECLARATION_JS } from '../runtime/precise.js';

const PER_COORDINATE = new Set(['g', 'theta']);

// ---- kernels ---------------------------------------------------------------------------

/** A kernel's per-coordinate code, emitted once per lane width. */
interface Lane {
  readonly lanes: Lanes;
  /** The local holding an f64 parameter (splatted in f64x2 code). */
  scalar(name: string): number;
  /** Pushes the current element of an array. */
  load(array: string): Ins[];
  /** Stores a local into the current element of an array. */
  store(array: string, local: number): Ins[];
  local(): number;
}

interface KernelSpec {
  readonly name: string;
  /** Pointer parameters (byte offsets into memory 0), in order. */
  readonly arrays: readonly string[];
  /** f64 parameters after `len`, in order. */
  readonly scalars: readonly string[];
  readonly simd: boolean;
  body(lane: Lane, out: Ins[]): void;
}

/**
 * kernel(ptr…, len, scalar…): for i in [0, len) — pairs of coordinates while two remain (f64x2),
 * then the scalar tail. `i` is a byte offset; every array is 8-byte aligned.
 */
function kernel(spec: KernelSpec): Func {
  const params: ValType[] = [...spec.arrays.map(() => 'i32' as const), 'i32', ...spec.scalars.map(() => 'f64' as const)];
  const locals: ValType[] = [];
  const newLocal = (t: ValType) => { locals.push(t); return params.length + locals.length - 1; };
  const ptr = (a: string) => {
    const k = spec.arrays.indexOf(a);
    if (k < 0) throw new InternalError(`wasm kernel ${spec.name}: no array ${a}`);
    return k;
  };
  const lenParam = spec.arrays.length;
  const scalarParam = (s: string) => {
    const k = spec.scalars.indexOf(s);
    if (k < 0) throw new InternalError(`wasm kernel ${spec.name}: no parameter ${s}`);
    return lenParam + 1 + k;
  };
  const i = newLocal('i32');
  const end = newLocal('i32');
  const end2 = newLocal('i32');
  const body: Ins[] = [I.localGet(lenParam), I.i32Const(3), I.i32Shl(), I.localSet(end)];
  body.push(I.localGet(end), I.i32Const(-16), I.i32And(), I.localSet(end2));
  body.push(I.i32Const(0), I.localSet(i));
  const addr = (a: string) => [I.localGet(ptr(a)), I.localGet(i), I.i32Add()];
  const loop = (lanes: Lanes, limit: number, stride: number) => {
    const v = lanes === 'f64x2';
    const splats = new Map<string, number>();
    const pre: Ins[] = [];
    const lane: Lane = {
      lanes,
      scalar: (s) => {
        if (!v) return scalarParam(s);
        let l = splats.get(s);
        if (l === undefined) {
          l = newLocal('v128');
          splats.set(s, l);
          pre.push(I.localGet(scalarParam(s)), I.f64x2Splat(), I.localSet(l));
        }
        return l;
      },
      load: (a) => [...addr(a), v ? I.v128Load() : I.f64Load()],
      store: (a, l) => [...addr(a), I.localGet(l), v ? I.v128Store() : I.f64Store()],
      local: () => newLocal(v ? 'v128' : 'f64'),
    };
    const inner: Ins[] = [];
    spec.body(lane, inner);
    body.push(...pre); // splats before the loop
    body.push(I.block(), I.loop(), I.localGet(i), I.localGet(limit), I.i32GeU(), I.brIf(1));
    body.push(...inner);
    body.push(I.localGet(i), I.i32Const(stride), I.i32Add(), I.localSet(i), I.br(0), I.end(), I.end());
  };
  if (spec.simd) loop('f64x2', end2, 16);
  loop('f64', end, 8);
  return { name: spec.name, type: { params, results: [] }, locals, body };
}

/** Emits e into `out` on a lane, symbols resolved by `symbol`, bound subexpressions from `bound`. */
function emitExpr(e: Expr, lane: Lane, symbol: (s: string) => number, bound: Map<Expr, number>, out: Ins[]) {
  toWat(e, { lanes: lane.lanes, symbol, bound, temp: () => lane.local() }, out);
}

/** One wasm function and the JS that calls it: how the loader computes its f64 arguments. */
interface KernelPlan {
  readonly func: Func;
  /** JS lines (inside the loader function) computing the hoisted values. */
  readonly hoistedJs: string[];
  /** JS argument list after the pointers and `len`. */
  readonly scalarArgs: string;
}

/** `precise`: the hoisted values of a derived closed form, in extended precision as the TypeScript module computes them. */
function plan(spec: Omit<KernelSpec, 'scalars'>, b: Bindings, params: readonly string[], indent: string, extra: readonly string[] = [], precise = false): KernelPlan {
  const scalars = [...extra, ...params.map(codeName.param), 'n', ...b.hoisted.map(([name]) => name)];
  return { func: kernel({ ...spec, scalars }), hoistedJs: precise ? b.declarePrecise(indent) : b.declare(b.hoisted, indent), scalarArgs: scalars.join(', ') };
}

/** The step kernel: the rule's states, then θ −= h·update, as optimizer-code.ts orders it. */
function stepKernel(rule: Rule, name: string, simd: boolean): KernelPlan {
  const params = rule.params.map((p) => p.name);
  const states = rule.states.map((s) => s.name);
  const varying = (sym: string) => PER_COORDINATE.has(sym) || states.includes(sym) || isPrevName(sym);
  const b = new Bindings([...rule.states.map((s) => s.rhs), rule.update], varying);
  const body = (lane: Lane, out: Ins[]) => {
    const locals = new Map<string, number>();
    const bound = new Map<Expr, number>();
    for (const [nm, e] of b.hoisted) bound.set(e, lane.scalar(nm));
    const load = (sym: string, array: string) => {
      const l = lane.local();
      out.push(...lane.load(array), I.localSet(l));
      locals.set(sym, l);
    };
    load('g', 'grad');
    load('theta', 'theta');
    for (const s of states) load(`${s}@prev`, codeName.array(s));
    const symbol = (sym: string) => {
      const l = locals.get(sym);
      if (l !== undefined) return l;
      if (sym === 'n') return lane.scalar('n');
      if (params.includes(sym)) return lane.scalar(codeName.param(sym));
      throw new InternalError(`wasm step: symbol ${sym} has no value here`);
    };
    // shared per-coordinate values as soon as their inputs are known, like optimizer-code.ts
    let emitted = 0;
    const flush = (ready: (e: Expr) => boolean) => {
      while (emitted < b.inner.length && ready(b.inner[emitted]![1])) {
        const e = b.inner[emitted]![1];
        const l = lane.local();
        emitExpr(e, lane, symbol, bound, out);
        out.push(I.localSet(l));
        bound.set(e, l);
        emitted++;
      }
    };
    const known = new Set<string>(['g', 'theta', 'n', ...params, ...states.map((s) => `${s}@prev`)]);
    const ready = (e: Expr) => [...E.freeSymbols(e)].every((x) => known.has(x));
    for (const st of rule.states) {
      flush(ready);
      const l = lane.local();
      emitExpr(st.rhs, lane, symbol, bound, out);
      out.push(I.localSet(l), ...lane.store(codeName.array(st.name), l));
      locals.set(st.name, l);
      known.add(st.name);
    }
    flush(() => true);
    // θ − h·update
    const r = lane.local();
    out.push(I.localGet(locals.get('theta')!), I.localGet(lane.scalar('h')));
    emitExpr(rule.update, lane, symbol, bound, out);
    out.push(lane.lanes === 'f64x2' ? I.f64x2Mul() : I.f64Mul(), lane.lanes === 'f64x2' ? I.f64x2Sub() : I.f64Sub(), I.localSet(r));
    out.push(...lane.store('theta', r));
  };
  return plan({ name, arrays: ['theta', 'grad', ...states.map(codeName.array)], simd, body }, b, params, '  ', ['h']);
}

/**
 * A per-coordinate map over (θ, g) and optionally one more input array: out = f, or
 * out += f·hv (`accumulate`), with f's bindings from Bindings(prefix) as in optimizer-code.ts.
 */
function mapKernel(name: string, f: Expr, params: readonly string[], prefix: string, accumulate: boolean): KernelPlan {
  const b = new Bindings([f], (sym) => PER_COORDINATE.has(sym), prefix);
  const body = (lane: Lane, out: Ins[]) => {
    const v = lane.lanes === 'f64x2';
    const bound = new Map<Expr, number>();
    for (const [nm, e] of b.hoisted) bound.set(e, lane.scalar(nm));
    const g = lane.local();
    const th = lane.local();
    out.push(...lane.load('grad'), I.localSet(g), ...lane.load('theta'), I.localSet(th));
    const symbol = (sym: string) => {
      if (sym === 'g') return g;
      if (sym === 'theta') return th;
      if (sym === 'n') return lane.scalar('n');
      if (params.includes(sym)) return lane.scalar(codeName.param(sym));
      throw new InternalError(`wasm ${name}: symbol ${sym} has no value here`);
    };
    for (const [, e] of b.inner) {
      const l = lane.local();
      emitExpr(e, lane, symbol, bound, out);
      out.push(I.localSet(l));
      bound.set(e, l);
    }
    const r = lane.local();
    if (accumulate) {
      // out[i] += (w) * hv[i]
      out.push(...lane.load('out'));
      emitExpr(f, lane, symbol, bound, out);
      out.push(...lane.load('hv'), v ? I.f64x2Mul() : I.f64Mul(), v ? I.f64x2Add() : I.f64Add());
    } else emitExpr(f, lane, symbol, bound, out);
    out.push(I.localSet(r), ...lane.store('out', r));
  };
  return plan({ name, arrays: accumulate ? ['theta', 'grad', 'hv', 'out'] : ['theta', 'grad', 'out'], simd: true, body }, b, params, '    ', [], true);
}

/** θ −= h·(F + h·M), in place. */
function memorylessKernel(): Func {
  return kernel({
    name: 'memoryless', arrays: ['theta', 'F', 'M'], scalars: ['h'], simd: true,
    body: (lane, out) => {
      const v = lane.lanes === 'f64x2';
      const r = lane.local();
      const h = lane.scalar('h');
      out.push(...lane.load('theta'), I.localGet(h), ...lane.load('F'), I.localGet(h), ...lane.load('M'));
      out.push(v ? I.f64x2Mul() : I.f64Mul(), v ? I.f64x2Add() : I.f64Add(), v ? I.f64x2Mul() : I.f64Mul(), v ? I.f64x2Sub() : I.f64Sub(), I.localSet(r));
      out.push(...lane.store('theta', r));
    },
  });
}

// ---- the module ------------------------------------------------------------------------

export interface WasmBuild {
  readonly module: WasmModule;
  readonly binary: Uint8Array;
  /** The loader, as the body of a function (ends with `return { … }`) or as an ES module. */
  loaderSource(format: 'function' | 'esm'): string;
}

interface RegimePlan { readonly direction?: KernelPlan; readonly terms?: { kind: 'hvp' | 'field'; field: KernelPlan; weight: KernelPlan }[] }

function regimePlan(raw: RegimeResult, params: readonly string[], tag: string): RegimePlan {
  const r = gatherRegime(raw);
  const direction = hasSum(r.F) ? undefined : mapKernel(`direction_${tag}`, r.F, params, '', false);
  const sums = r.M.some((t) => hasSum(t.field) || hasSum(t.weight));
  const terms = sums ? undefined : r.M.map((t, ti) => ({
    kind: t.kind,
    field: mapKernel(`correction_${tag}_field${ti}`, t.field, params, `v${ti}_`, false),
    weight: mapKernel(`correction_${tag}_weight${ti}`, t.weight, params, `w${ti}_`, true),
  }));
  return { direction, terms };
}

export function buildWasm(rule: Rule, d: Derivation): WasmBuild {
  const params = rule.params.map((p) => p.name);
  const states = rule.states.map((s) => s.name);
  const exact = d.exactN && !('unavailable' in d.exactN) ? d.exactN : undefined;
  const step = stepKernel(rule, 'step', true);
  const stepScalar = stepKernel(rule, 'step_scalar', false);
  const asym = regimePlan(d.asymptotic, params, 'asymptotic');
  const ex = exact ? regimePlan(exact, params, 'exact') : undefined;
  const funcs: Func[] = [step.func, stepScalar.func, memorylessKernel()];
  for (const r of [asym, ex]) {
    if (!r) continue;
    if (r.direction) funcs.push(r.direction.func);
    for (const t of r.terms ?? []) funcs.push(t.field.func, t.weight.func);
  }
  const module: WasmModule = {
    imports: IMPORTS.map((im) => ({ module: im.module, name: im.name, type: { params: Array<ValType>(im.arity).fill('f64'), results: ['f64'] } })),
    funcs,
  };
  const binary = encodeModule(module);
  const loaderSource = (format: 'function' | 'esm') => loader(rule, d, { params, states, step, stepScalar, asym, ex, binary }, format);
  return { module, binary, loaderSource };
}

interface LoaderParts {
  params: readonly string[];
  states: readonly string[];
  step: KernelPlan;
  stepScalar: KernelPlan;
  asym: RegimePlan;
  ex: RegimePlan | undefined;
  binary: Uint8Array;
}

const comment = (s: string) => s.replace(/[\r\n\u2028\u2029]/g, ' ');

function base64(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s);
}

/** The loader's JavaScript: fixed runtime (memory, pointers, copies) plus per-rule calls. */
function loader(rule: Rule, d: Derivation, P: LoaderParts, format: 'function' | 'esm'): string {
  const L: string[] = [];
  const readHyper = (indent: string) => [`${indent}const p = { ...defaults, ...hyper };`, ...P.params.map((q) => `${indent}const ${codeName.param(q)} = p[${JSON.stringify(q)}];`)];
  const tsSource = optimizerModule(rule, d, { typescript: false });
  L.push(`// Generated by memloss from ${comment(rule.file)}: WebAssembly (f64, SIMD) for ${comment(rule.name)}; do not edit.`);
  L.push('// The TypeScript module, as JavaScript: the fallback for Σ forms, penalty and penaltyWeight.');
  L.push(`const ts = (function () {\n"use strict";\n${tsSource}})();`);
  L.push('const name = ts.name;', 'const defaults = ts.defaults;');
  L.push(`const wasmBase64 = ${JSON.stringify(base64(P.binary))};`);
  L.push(RUNTIME);
  // the hoisted values of the derived closed forms (P.asym, P.ex) are computed by this runtime
  L.push(PRECISE_DECLARATION_JS);
  // step
  const stepFn = (fn: string, k: KernelPlan) => {
    L.push(`function ${fn}(theta, grad, state, h, hyper = {}) {`);
    L.push('  const len = lengthOf(theta);');
    L.push(...readHyper('  '));
    L.push('  const n = state.n;');
    L.push(...k.hoistedJs);
    L.push("  const pt = ptrIn(theta, 'theta', len), pg = ptrIn(grad, 'grad', len);");
    P.states.forEach((s, i) => L.push(`  const ps${i} = ptrIn(state.arrays[${JSON.stringify(s)}], 's${i}', len);`));
    L.push(`  wasm.${k.func.name}(pt, pg, ${P.states.map((_, i) => `ps${i}, `).join('')}len, ${k.scalarArgs});`);
    L.push('  copyOut(theta, pt, len);');
    P.states.forEach((s, i) => L.push(`  state.arrays[${JSON.stringify(s)}] = settle(state.arrays[${JSON.stringify(s)}], ps${i}, len);`));
    L.push('  state.n = n + 1;');
    L.push('}', '');
  };
  stepFn('step', P.step);
  stepFn('stepScalar', P.stepScalar);
  // direction and correction on pointers, per regime
  const regime = (r: RegimePlan, tag: string, suffix: string) => {
    L.push(`function direction${suffix}(pt, pg, po, len, hyper, n) {`);
    if (r.direction) {
      L.push(...readHyper('  '));
      L.push(...r.direction.hoistedJs.map((l) => l.slice(2)));
      L.push(`  wasm.${r.direction.func.name}(pt, pg, po, len, ${r.direction.scalarArgs});`);
    } else L.push(`  // a Σ without closed form: the TypeScript module computes it\n  view(po, len).set(ts.direction(view(pt, len), view(pg, len), hyper, ${tag === 'exact' ? 'n' : 'undefined'}));`);
    L.push('}', '');
    L.push(`function correction${suffix}(pt, pg, hvp, po, len, hyper, n) {`);
    if (r.terms) {
      L.push(...readHyper('  '));
      L.push('  view(po, len).fill(0);');
      r.terms.forEach((t, ti) => {
        L.push('  {');
        L.push(...t.field.hoistedJs);
        L.push(`    const pv = scratch('v${ti}', len);`);
        L.push(`    wasm.${t.field.func.name}(pt, pg, pv, len, ${t.field.scalarArgs});`);
        L.push(t.kind === 'hvp' ? `    const phv = ptrIn(hvp(view(pv, len)), 'hv${ti}', len);` : '    const phv = pv;');
        L.push(...t.weight.hoistedJs);
        L.push(`    wasm.${t.weight.func.name}(pt, pg, phv, po, len, ${t.weight.scalarArgs});`);
        L.push('  }');
      });
    } else L.push(`  // a Σ without closed form: the TypeScript module computes it\n  view(po, len).set(ts.correction(view(pt, len), view(pg, len), hvp, hyper, ${tag === 'exact' ? 'n' : 'undefined'}));`);
    L.push('}', '');
  };
  regime(P.asym, 'asymptotic', 'Asymptotic');
  if (P.ex) regime(P.ex, 'exact', 'Exact');
  const noExact = P.ex ? '' : '  if (n !== undefined) return ts.direction(theta, grad, hyper, n); // no exact closed form: the TypeScript module evaluates it by the recursion, or says why not\n';
  const noExactM = P.ex ? '' : '  if (n !== undefined) return ts.correction(theta, grad, hvp, hyper, n); // no exact closed form: the TypeScript module evaluates it by the recursion, or says why not\n';
  const pick = (fn: string) => (P.ex ? `n === undefined ? ${fn}Asymptotic : ${fn}Exact` : `${fn}Asymptotic`);
  L.push(`function directionAt(pt, pg, po, len, hyper, n) { (${pick('direction')})(pt, pg, po, len, hyper, n); }`);
  L.push(`function correctionAt(pt, pg, hvp, po, len, hyper, n) { (${pick('correction')})(pt, pg, hvp, po, len, hyper, n); }`);
  L.push('');
  L.push('function direction(theta, grad, hyper = {}, n) {');
  L.push(noExact + "  const len = lengthOf(theta), po = scratch('out', len);");
  L.push("  directionAt(ptrIn(theta, 'theta', len), ptrIn(grad, 'grad', len), po, len, hyper, n);");
  L.push('  return view(po, len).slice();');
  L.push('}');
  L.push('function directionInto(theta, grad, out, hyper = {}, n) {');
  L.push(noExact + "  const len = lengthOf(theta), po = ptrIn(out, 'out', len, false);");
  L.push("  directionAt(ptrIn(theta, 'theta', len), ptrIn(grad, 'grad', len), po, len, hyper, n);");
  L.push('  copyOut(out, po, len);');
  L.push('  return out;');
  L.push('}');
  L.push('function correction(theta, grad, hvp, hyper = {}, n) {');
  L.push(noExactM + "  const len = lengthOf(theta), po = scratch('out', len);");
  L.push("  correctionAt(ptrIn(theta, 'theta', len), ptrIn(grad, 'grad', len), hvp, po, len, hyper, n);");
  L.push('  return view(po, len).slice();');
  L.push('}');
  L.push('function correctionInto(theta, grad, hvp, out, hyper = {}, n) {');
  L.push(noExactM + "  const len = lengthOf(theta), po = ptrIn(out, 'out', len, false);");
  L.push("  correctionAt(ptrIn(theta, 'theta', len), ptrIn(grad, 'grad', len), hvp, po, len, hyper, n);");
  L.push('  copyOut(out, po, len);');
  L.push('  return out;');
  L.push('}');
  L.push('function memorylessStep(theta, grad, hvp, h, hyper = {}, n) {');
  L.push(noExact + "  const len = lengthOf(theta), pt = ptrIn(theta, 'theta', len), pg = ptrIn(grad, 'grad', len);");
  L.push("  const pF = scratch('F', len), pM = scratch('M', len);");
  L.push('  directionAt(pt, pg, pF, len, hyper, n);');
  L.push('  correctionAt(pt, pg, hvp, pM, len, hyper, n);');
  L.push('  wasm.memoryless(pt, pF, pM, len, h);');
  L.push('  copyOut(theta, pt, len);');
  L.push('}', '');
  const exportsList = ['name', 'defaults', 'init', 'step', 'stepScalar', 'direction', 'directionInto', 'correction', 'correctionInto', 'memorylessStep', 'alloc', 'refresh', 'memory'];
  if (d.interpretation.potentials?.length === 1) {
    L.push('const penalty = ts.penalty, penaltyWeight = ts.penaltyWeight;');
    exportsList.push('penalty', 'penaltyWeight');
  }
  L.push(format === 'function' ? `return { ${exportsList.join(', ')} };` : `export { ${exportsList.join(', ')} };`);
  return `${L.join('\n')}\n`;
}

/**
 * The loader's fixed part. Memory: a bump allocator over the module's one memory, 16-byte
 * aligned; `alloc` views are registered so a view detached by memory.grow still names its
 * region (`refresh` gives a live view). Arrays outside WebAssembly memory are copied into
 * named scratch regions and back.
 */
const RUNTIME = String.raw`const wasmBytes = typeof Buffer !== 'undefined' ? new Uint8Array(Buffer.from(wasmBase64, 'base64')) : Uint8Array.from(atob(wasmBase64), (c) => c.charCodeAt(0));
const wasm = new WebAssembly.Instance(new WebAssembly.Module(wasmBytes), ${IMPORT_OBJECT_JS}).exports;
const memory = wasm.memory;
const regions = new WeakMap();
const scratchRegions = new Map();
let heapTop = 16;
function allocBytes(dim) {
  const ptr = heapTop;
  heapTop += Math.max(16, Math.ceil((dim * 8) / 16) * 16);
  const need = heapTop - memory.buffer.byteLength;
  if (need > 0) memory.grow(Math.ceil(need / 65536));
  return ptr;
}
/** A zeroed Float64Array of dim elements in WebAssembly memory: steps on it copy nothing. */
function alloc(dim) {
  const ptr = allocBytes(dim);
  const a = new Float64Array(memory.buffer, ptr, dim);
  regions.set(a, [ptr, dim]);
  return a;
}
/** A live view of an alloc'd array (a view is detached when memory grows, e.g. by a later alloc). */
function refresh(a) {
  const r = regions.get(a);
  if (!r) throw new Error('refresh: not an array from alloc()');
  if (a.buffer === memory.buffer) return a;
  const b = new Float64Array(memory.buffer, r[0], r[1]);
  regions.set(b, r);
  return b;
}
function view(ptr, len) { return new Float64Array(memory.buffer, ptr, len); }
function lengthOf(a) { const r = regions.get(a); return r ? r[1] : a.length; }
function wasmPtr(a) {
  if (a.buffer === memory.buffer) return a.byteOffset;
  const r = regions.get(a);
  return r ? r[0] : -1;
}
function scratch(key, len) {
  let s = scratchRegions.get(key);
  if (!s || s[1] < len) { s = [allocBytes(len), len]; scratchRegions.set(key, s); }
  return s[0];
}
/** The array's address in WebAssembly memory; an ordinary array is copied into scratch (unless copy = false). */
function ptrIn(a, key, len, copy = true) {
  if (lengthOf(a) !== len) throw new RangeError('array length ' + lengthOf(a) + ' does not match ' + len);
  if (a.byteOffset % 8 !== 0 && a.buffer === memory.buffer) throw new RangeError('array not 8-byte aligned in WebAssembly memory');
  const p = wasmPtr(a);
  if (p >= 0) return p;
  const q = scratch(key, len);
  if (copy) view(q, len).set(a);
  return q;
}
function copyOut(a, ptr, len) { if (wasmPtr(a) < 0) a.set(view(ptr, len)); }
/** After a step: a state array outside memory gets its values back; a detached alloc'd one is refreshed. */
function settle(a, ptr, len) {
  if (wasmPtr(a) < 0) { a.set(view(ptr, len)); return a; }
  return regions.has(a) ? refresh(a) : a;
}
/** The states at their initial values (the TypeScript module's), in WebAssembly memory; n = 0. */
function init(dim, hyper = {}) {
  const s = ts.init(dim, hyper);
  for (const k of Object.keys(s.arrays)) { const a = alloc(dim); a.set(s.arrays[k]); s.arrays[k] = a; }
  return s;
}
`;

/**
 * What `memloss codegen --target wasm` writes: a self-contained ES module (JavaScript, no
 * import) with the WebAssembly binary embedded as base64 and the loader; its exports are
 * those of {@link import('../numeric/wasm-loader.js').WasmOptimizerModule}.
 */
export function emitWasm(rule: Rule, d: Derivation): string {
  return buildWasm(rule, d).loaderSource('esm');
}

/** The same kernels in the WebAssembly text format (for reading; the loader embeds the binary). */
export function emitWat(rule: Rule, d: Derivation): string {
  return `;; Generated by memloss from ${comment(rule.file)}: kernels of ${comment(rule.name)} (imports ${IMPORTS.map((im) => `${im.module}.${im.name}`).join(', ')} are Math.*)\n${printWat(buildWasm(rule, d).module)}`;
}
