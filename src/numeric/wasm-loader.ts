/**
 * The WebAssembly optimizer (src/emit/wasm.ts), loaded in memory: the same API as the
 * TypeScript module (`loadOptimizer`), synchronous (the binary is assembled by our own
 * encoder and compiled with `new WebAssembly.Module`; browsers allow that only for small
 * modules off the main thread — use the emitted ES module there).
 */
import type { Rule } from '../ir/rule.js';
import type { Derivation } from '../derive/types.js';
import { buildWasm } from '../emit/wasm.js';
import type { Hvp, Hyper, OptimizerModule, OptimizerState } from './types.js';

/**
 * An OptimizerModule whose arrays may live in WebAssembly memory. Arrays from `alloc` (and
 * the states from `init`) are used in place: a step on them copies nothing. Ordinary
 * Float64Arrays work too and are copied in and out. `alloc` may grow the memory, which
 * detaches every earlier view: get a live one with `refresh(view)` (the step functions
 * accept detached alloc'd views and refresh the state's own arrays themselves).
 */
export interface WasmOptimizerModule extends OptimizerModule {
  /** A zeroed array of `dim` doubles in WebAssembly memory. */
  alloc(dim: number): Float64Array;
  /** A live view of the same region as an alloc'd (possibly detached) view. */
  refresh(a: Float64Array): Float64Array;
  /** `step` without SIMD: one coordinate at a time (for comparison). */
  stepScalar(theta: Float64Array, grad: Float64Array, state: OptimizerState, h: number, hyper?: Partial<Hyper>): void;
  /** F⁽ⁿ⁾(θ) written into `out` (no allocation when all arrays are alloc'd). */
  directionInto(theta: Float64Array, grad: Float64Array, out: Float64Array, hyper?: Partial<Hyper>, n?: number): Float64Array;
  /** M⁽ⁿ⁾(θ) written into `out`; hvp receives a view into WebAssembly memory. */
  correctionInto(theta: Float64Array, grad: Float64Array, hvp: Hvp, out: Float64Array, hyper?: Partial<Hyper>, n?: number): Float64Array;
  readonly memory: WebAssembly.Memory;
}

export function loadWasmOptimizer(rule: Rule, d: Derivation): WasmOptimizerModule {
  const source = buildWasm(rule, d).loaderSource('function');
  return new Function(`"use strict";\n${source}`)() as WasmOptimizerModule;
}
