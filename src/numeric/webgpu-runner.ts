/// <reference types="@webgpu/types" />
/**
 * Runs the WGSL kernels of `emitWgsl` (src/emit/wgsl.ts) on a WebGPU device, in Node (the
 * `webgpu` package: see `nodeGpu` in ./webgpu-node.ts) and in a browser (navigator.gpu),
 * with the same small API. It imports nothing but the module's data, so a bundler can put
 * it in a page as it is.
 *
 * Arrays live on the GPU in f32; `step` copies nothing but the uniform values (h, n,
 * parameters and the loop-invariant values, computed on the CPU in f64). Reads go through
 * a staging buffer and are the only points that wait for the GPU.
 */
import type { WgslKernel, WgslModule, WgslRegime } from '../emit/wgsl.js';

export type Hyper = Readonly<Record<string, number>>;
/** H·v at the current iterate (f32 in, any numbers out); may be asynchronous. */
export type GpuHvp = (v: Float32Array) => ArrayLike<number> | Promise<ArrayLike<number>>;

export interface GpuContext {
  readonly device: GPUDevice;
  /** What the adapter calls itself: "SwiftShader driver 5.0.0" on this machine, a GPU elsewhere. */
  readonly adapterName: string;
}

/** The adapter's name from its info: the description when it has one, else vendor, architecture, device. */
export function adapterName(info: GPUAdapterInfo): string {
  return info.description || [info.vendor, info.architecture, info.device].filter(Boolean).join(' ') || 'unknown adapter';
}

/**
 * An adapter and a device from a `GPU` (navigator.gpu, or `nodeGpu()`), with the adapter's
 * largest storage-buffer limits (10⁸ f32 parameters need 400 MB per array); undefined when
 * there is no adapter.
 */
export async function openGpu(gpu: GPU, options: GPURequestAdapterOptions = { powerPreference: 'high-performance' }): Promise<GpuContext | undefined> {
  const adapter = await gpu.requestAdapter(options);
  if (!adapter) return undefined;
  const device = await adapter.requestDevice({
    requiredLimits: {
      maxStorageBufferBindingSize: adapter.limits.maxStorageBufferBindingSize,
      maxBufferSize: adapter.limits.maxBufferSize,
      maxStorageBuffersPerShaderStage: adapter.limits.maxStorageBuffersPerShaderStage,
    },
  });
  return { device, adapterName: adapterName(adapter.info) };
}

export interface GpuOptimizer {
  readonly dim: number;
  /** The step index n of the true optimizer (advanced by `step`, reset by `reset`). */
  readonly n: number;
  /** The GPU buffers, for a caller that computes H·field with its own kernel (see `WgslCorrection`). */
  readonly buffers: Readonly<Record<'theta' | 'grad' | 'fields' | 'hv' | 'out' | 'corr', GPUBuffer>> & { readonly states: Readonly<Record<string, GPUBuffer>> };
  writeTheta(x: ArrayLike<number>): void;
  writeGrad(g: ArrayLike<number>): void;
  readTheta(): Promise<Float32Array>;
  readState(name: string): Promise<Float32Array>;
  /**
   * Sets every state to its initial value (0 unless the rule gives one, `from …`, which may
   * read these hyperparameters) and n to 0; θ and g stay.
   */
  reset(hyper?: Partial<Hyper>): void;
  /** The optimizer: θ −= h·update with the gradient in `grad`, states advance, n + 1. Queued, not awaited. */
  step(h: number, hyper?: Partial<Hyper>): void;
  /** F⁽ⁿ⁾(θ) at the current θ and g: exact finite-n when n is given, else the n → ∞ form. */
  direction(hyper?: Partial<Hyper>, n?: number): Promise<Float32Array>;
  /**
   * M⁽ⁿ⁾(θ): the fields kernel, then hvp(fieldₜ) on the CPU for every `hvp` term, then the
   * accumulate kernel; the result also stays in `buffers.corr` for `memorylessStep`.
   */
  correction(hvp: GpuHvp, hyper?: Partial<Hyper>, n?: number): Promise<Float32Array>;
  /** θ −= h·(F⁽ⁿ⁾ + h·M⁽ⁿ⁾), in place on the GPU (M through `correction`). */
  memorylessStep(hvp: GpuHvp, h: number, hyper?: Partial<Hyper>, n?: number): Promise<void>;
  /** Waits for every queued kernel; throws the first GPU error seen, if any. */
  finish(): Promise<void>;
  destroy(): void;
}

interface Compiled {
  readonly kernel: WgslKernel;
  readonly pipeline: GPUComputePipeline;
  readonly uniform: GPUBuffer;
  readonly values: (hyper: Hyper, n: number, h: number) => number[];
  readonly bind: GPUBindGroup;
}

const STORAGE = 0x80 | 0x4 | 0x8; // GPUBufferUsage.STORAGE | COPY_SRC | COPY_DST, without the global

/**
 * Compiles every kernel of `m` for arrays of length dim, the states at their initial values
 * (at `hyper`: pass the hyperparameters `step` will get); rejects with the WGSL error if a
 * kernel does not compile.
 */
export async function createGpuOptimizer(device: GPUDevice, m: WgslModule, dim: number, hyper: Partial<Hyper> = {}): Promise<GpuOptimizer> {
  if (!Number.isInteger(dim) || dim < 1) throw new RangeError(`dim must be a positive integer, got ${dim}`);
  const errors: string[] = [];
  const onError = (ev: Event) => errors.push((ev as GPUUncapturedErrorEvent).error.message);
  device.addEventListener('uncapturederror', onError);
  const maxTerms = Math.max(1, ...[m.asymptotic, m.exact].map((r) => ('unavailable' in r || 'unavailable' in r.correction ? 0 : r.correction.terms.length)));
  const storage = (length: number, label: string) => device.createBuffer({ label, size: Math.max(4, 4 * length), usage: STORAGE });
  const M = storage(dim, 'corr');
  const buffers = {
    theta: storage(dim, 'theta'),
    grad: storage(dim, 'grad'),
    fields: storage(maxTerms * dim, 'fields'),
    hv: storage(maxTerms * dim, 'hv'),
    out: storage(dim, 'out'),
    corr: M,
    states: Object.fromEntries(m.states.map((s) => [s, storage(dim, `state_${s}`)])) as Record<string, GPUBuffer>,
  };
  // names in the kernels → buffers; the accumulate kernel's `out` is M, which memorylessStep reads as `corr`
  const resolve = (kernelPath: string, name: string): GPUBuffer => {
    if (name.startsWith('state_')) return buffers.states[name.slice('state_'.length)]!;
    if (name === 'out' && kernelPath.endsWith('accumulate')) return M;
    return (buffers as unknown as Record<string, GPUBuffer>)[name]!;
  };

  const compile = async (path: string, kernel: WgslKernel): Promise<Compiled> => {
    const module = device.createShaderModule({ label: path, code: kernel.code });
    const info = await module.getCompilationInfo();
    const bad = info.messages.filter((x) => x.type === 'error');
    if (bad.length) throw new Error(`WGSL of ${m.name} ${path} does not compile: ${bad.map((x) => `${x.lineNum}:${x.linePos} ${x.message}`).join('; ')}`);
    // an explicit layout: a kernel that does not read a buffer (θ in heavy-ball's F) still binds it
    const layout = device.createBindGroupLayout({
      label: path,
      entries: [
        { binding: 0, visibility: 4 /* COMPUTE */, buffer: { type: 'uniform' } },
        ...kernel.buffers.map((b, k) => ({ binding: k + 1, visibility: 4, buffer: { type: b.access === 'read' ? ('read-only-storage' as const) : ('storage' as const) } })),
      ],
    });
    const pipeline = await device.createComputePipelineAsync({ label: path, layout: device.createPipelineLayout({ bindGroupLayouts: [layout] }), compute: { module, entryPoint: 'main' } });
    const uniform = device.createBuffer({ label: `${path} uniforms`, size: Math.ceil((4 * kernel.uniforms.length) / 16) * 16, usage: 0x40 | 0x8 /* UNIFORM | COPY_DST */ });
    const bind = device.createBindGroup({
      layout,
      entries: [
        { binding: 0, resource: { buffer: uniform } },
        ...kernel.buffers.map((b, k) => {
          const buffer = resolve(path, b.name);
          // a rule with no correction term still binds one slice: a binding cannot be empty
          return { binding: k + 1, resource: { buffer, size: 4 * Math.max(1, b.slices) * dim } };
        }),
      ],
    });
    // the CPU half of the kernel: uniform values in float64 (generated code, no rule text)
    const values = new Function(`"use strict"; return (${kernel.uniformsJs});`)() as Compiled['values'];
    compiled.push(uniform);
    return { kernel, pipeline, uniform, values, bind };
  };
  const compiled: GPUBuffer[] = [];

  const step = await compile('step', m.step);
  type Fns = { direction?: Compiled; fields?: Compiled; accumulate?: Compiled; memoryless?: Compiled; terms: readonly { kind: string }[] };
  const regime = async (label: string, r: WgslRegime | { unavailable: string }): Promise<Fns | string> => {
    if ('unavailable' in r) return r.unavailable;
    const out: Fns = { terms: 'unavailable' in r.correction ? [] : r.correction.terms };
    if (!('unavailable' in r.direction)) out.direction = await compile(`${label}.direction`, r.direction);
    if (!('unavailable' in r.correction)) {
      out.fields = await compile(`${label}.correction.fields`, r.correction.fields);
      out.accumulate = await compile(`${label}.correction.accumulate`, r.correction.accumulate);
    }
    if (!('unavailable' in r.memorylessStep)) out.memoryless = await compile(`${label}.memorylessStep`, r.memorylessStep);
    return out;
  };
  const asymptotic = await regime('asymptotic', m.asymptotic);
  const exact = await regime('exact', m.exact);
  const reasonOf = (r: WgslRegime | { unavailable: string }, fn: keyof WgslRegime) => ('unavailable' in r ? r.unavailable : 'unavailable' in r[fn] ? (r[fn] as { unavailable: string }).unavailable : '');
  const pick = (n: number | undefined, fn: 'direction' | 'fields' | 'accumulate' | 'memoryless'): Compiled => {
    const r = n === undefined ? asymptotic : exact;
    const c = typeof r === 'string' ? undefined : r[fn];
    if (c) return c;
    const wgslFn = fn === 'fields' || fn === 'accumulate' ? 'correction' : fn === 'memoryless' ? 'memorylessStep' : 'direction';
    const why = typeof r === 'string' ? r : reasonOf(n === undefined ? m.asymptotic : m.exact, wgslFn);
    throw new Error(`${m.name}: no WGSL ${n === undefined ? 'asymptotic' : 'exact finite-n'} ${wgslFn}: ${why}`);
  };

  const groups = Math.ceil(dim / m.workgroupSize);
  const gx = Math.min(groups, device.limits.maxComputeWorkgroupsPerDimension);
  const gy = Math.ceil(groups / gx);
  const run = (c: Compiled, hyper: Partial<Hyper>, n: number, h: number) => {
    const vals = c.values({ ...m.defaults, ...(hyper as Hyper) }, n, h);
    device.queue.writeBuffer(c.uniform, 0, new Float32Array(vals));
    const enc = device.createCommandEncoder();
    const pass = enc.beginComputePass();
    pass.setPipeline(c.pipeline);
    pass.setBindGroup(0, c.bind);
    pass.dispatchWorkgroups(gx, gy);
    pass.end();
    device.queue.submit([enc.finish()]);
  };
  const throwErrors = () => {
    if (errors.length) throw new Error(`WebGPU error in ${m.name}: ${errors.join('; ')}`);
  };
  let staging: GPUBuffer | undefined;
  const read = async (src: GPUBuffer, offset = 0, length = dim): Promise<Float32Array> => {
    const bytes = 4 * length;
    if (!staging || staging.size < bytes) {
      staging?.destroy();
      staging = device.createBuffer({ label: 'staging', size: bytes, usage: 0x1 | 0x8 /* MAP_READ | COPY_DST */ });
    }
    const enc = device.createCommandEncoder();
    enc.copyBufferToBuffer(src, 4 * offset, staging, 0, bytes);
    device.queue.submit([enc.finish()]);
    await staging.mapAsync(1 /* GPUMapMode.READ */, 0, bytes);
    const out = new Float32Array(staging.getMappedRange(0, bytes).slice(0));
    staging.unmap();
    throwErrors();
    return out;
  };
  const write = (dst: GPUBuffer, x: ArrayLike<number>, offset = 0) => {
    if (x.length !== dim) throw new RangeError(`expected ${dim} numbers, got ${x.length}`);
    device.queue.writeBuffer(dst, 4 * offset, x instanceof Float32Array ? x : Float32Array.from(x));
  };
  // the states' initial values; a new buffer is zeroed, so only a rule that says `from …` writes them
  const initial = m.initialJs === undefined ? undefined : new Function(`"use strict"; return (${m.initialJs});`)() as (hyper: Hyper) => number[];
  const initStates = (hyper: Partial<Hyper>) => {
    if (!initial) return;
    const values = initial({ ...m.defaults, ...(hyper as Hyper) });
    m.states.forEach((s, k) => write(buffers.states[s]!, new Float32Array(dim).fill(values[k]!)));
  };
  initStates(hyper);
  let n = 0;
  const correction = async (hvp: GpuHvp, hyper: Partial<Hyper>, nn: number | undefined): Promise<void> => {
    const fields = pick(nn, 'fields');
    const accumulate = pick(nn, 'accumulate');
    const terms = (nn === undefined ? asymptotic : exact) as Fns; // pick() has checked it is compiled
    run(fields, hyper, nn ?? 0, 0);
    for (let t = 0; t < terms.terms.length; t++) {
      if (terms.terms[t]!.kind !== 'hvp') continue;
      const hv = await hvp(await read(buffers.fields, t * dim));
      write(buffers.hv, hv, t * dim);
    }
    run(accumulate, hyper, nn ?? 0, 0);
  };

  return {
    dim,
    get n() { return n; },
    buffers,
    writeTheta: (x) => write(buffers.theta, x),
    writeGrad: (g) => write(buffers.grad, g),
    readTheta: () => read(buffers.theta),
    readState: (s) => {
      const b = buffers.states[s];
      if (!b) throw new Error(`${m.name} has no state ${JSON.stringify(s)}`);
      return read(b);
    },
    reset(hyper = {}) {
      const enc = device.createCommandEncoder();
      for (const b of Object.values(buffers.states)) enc.clearBuffer(b);
      device.queue.submit([enc.finish()]);
      initStates(hyper);
      n = 0;
    },
    step(h, hyper = {}) {
      run(step, hyper, n, h);
      n += 1;
    },
    async direction(hyper = {}, nn) {
      run(pick(nn, 'direction'), hyper, nn ?? 0, 0);
      return read(buffers.out);
    },
    async correction(hvp, hyper = {}, nn) {
      await correction(hvp, hyper, nn);
      return read(M);
    },
    async memorylessStep(hvp, h, hyper = {}, nn) {
      const memoryless = pick(nn, 'memoryless');
      await correction(hvp, hyper, nn);
      run(memoryless, hyper, nn ?? 0, h);
    },
    async finish() {
      await device.queue.onSubmittedWorkDone();
      throwErrors();
    },
    destroy() {
      device.removeEventListener('uncapturederror', onError);
      for (const b of [buffers.theta, buffers.grad, buffers.fields, buffers.hv, buffers.out, M, ...Object.values(buffers.states), ...compiled]) b.destroy();
      staging?.destroy();
    },
  };
}
