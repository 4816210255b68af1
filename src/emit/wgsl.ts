/**
 * Generates WebGPU compute kernels (WGSL, f32) for a rule and its derivation: the same four
 * functions as the TypeScript module (src/emit/optimizer-code.ts) — `step`, `direction`,
 * `correction`, `memorylessStep` — one coordinate per invocation.
 *
 * Where the GPU target differs from the TypeScript one:
 * - f32 only (WGSL has no f64). Loop-invariant values (bias corrections such as
 *   1/(1 − β₁ⁿ⁺¹), the hoisted list of `Bindings`) are computed on the CPU in f64 by a small
 *   generated JavaScript function (`uniformsJs`) and reach the kernel through a uniform
 *   buffer, rounded once to f32; so do h, n and every parameter.
 * - The Hessian-vector product cannot be a callback inside a kernel. `correction` is two
 *   kernels and a protocol (see `WgslCorrection`): `fields` writes each term's field,
 *   the caller fills `hv` with H·field, `accumulate` sums weight·(H·field or field).
 * - A Σ with no closed form (some exact-n forms) is refused by the WGSL printer; that
 *   function is then `unavailable` here, with the reason, and stays on the CPU.
 *
 * The result is plain data (JSON-serializable): the runner (src/numeric/webgpu-runner.ts)
 * needs nothing else, in Node or in a browser page.
 */
import * as E from '../ir/expr.js';
import type { Expr } from '../ir/expr.js';
import { hasInitialValue, isPrevName, stateOfPrev, type Rule } from '../ir/rule.js';
import type { CorrectionTerm, Derivation, RegimeResult } from '../derive/types.js';
import { Bindings, declarePrecise } from './optimizer-code.js';
import { codeName, nameOf as jsName } from './code-names.js';
import { PRECISE_DECLARATION_JS } from '../runtime/precise.js';
import { toText } from './expr-text.js';
import { toJs } from './expr-js.js';
import { refuseNonF32Constants, toWgsl, WGSL_PRELUDE, WgslUnsupportedError } from './expr-wgsl.js';
import { gatherInvariantCoefficients } from './gather.js';

/** Invocations per workgroup; the runner dispatches ⌈dim/64⌉ workgroups (2-D above 65535). */
export const WORKGROUP_SIZE = 64;

/** A storage buffer of a kernel, bound at `@group(0) @binding(index + 1)` (binding 0 is the uniform). */
export interface WgslBuffer {
  /** `theta`, `grad`, `state_<name>`, `fields`, `hv`, `corr` or `out`. */
  readonly name: string;
  readonly access: 'read' | 'read_write';
  /** Length in units of dim (`fields` and `hv` hold one dim-long slice per correction term). */
  readonly slices: number;
}

/** One compute kernel: a complete WGSL module with one entry point, `main`. */
export interface WgslKernel {
  readonly code: string;
  readonly buffers: readonly WgslBuffer[];
  /** Fields of the uniform struct, in order: `h`, `n`, `p_<param>`…, then hoisted `c…` values; all f32. */
  readonly uniforms: readonly string[];
  /**
   * A JavaScript function expression `(hyper, n, h) => number[]`, the values of `uniforms`
   * in order, computed in float64 (hyper holds every parameter). Text, so that the module
   * stays data; the runner compiles it with `new Function`, as src/numeric/compile.ts does.
   */
  readonly uniformsJs: string;
}

/** A function left to the CPU, and why. */
export interface Unavailable { readonly unavailable: string }

/**
 * M = Σₜ wₜ·xₜ, with xₜ = H·fieldₜ (`hvp` terms) or fieldₜ (`field` terms). Protocol:
 * 1. run `fields`: it writes fieldₜ(θ, g) into `fields[t·dim + i]` for every term t;
 * 2. for every `hvp` term t, the caller writes H·fieldₜ into `hv[t·dim + i]` (a CPU HVP, or
 *    the caller's own kernel reading `fields`); slices of `field` terms are never read;
 * 3. run `accumulate`: `out[i] = Σₜ wₜ(θᵢ, gᵢ)·xₜ[i]`, in term order as the TypeScript
 *    module sums them; `x` is read from `hv` for `hvp` terms and from `fields` for the others.
 */
export interface WgslCorrection {
  readonly terms: readonly { readonly kind: CorrectionTerm['kind'] }[];
  readonly fields: WgslKernel;
  readonly accumulate: WgslKernel;
}

export interface WgslRegime {
  /** out[i] = F⁽ⁿ⁾ᵢ (exact) or Fᵢ (asymptotic). */
  readonly direction: WgslKernel | Unavailable;
  readonly correction: WgslCorrection | Unavailable;
  /** θᵢ −= h·(Fᵢ + h·corrᵢ), with `corr` = M from `correction.accumulate`. */
  readonly memorylessStep: WgslKernel | Unavailable;
}

export interface WgslModule {
  readonly name: string;
  readonly params: readonly string[];
  readonly defaults: Readonly<Record<string, number>>;
  readonly states: readonly string[];
  /**
   * A JavaScript function expression `(hyper) => number[]`: each state's initial value, in
   * the order of `states`, in float64 (hyper holds every parameter); absent when every state
   * starts at 0. The runner compiles it as it does `uniformsJs`.
   */
  readonly initialJs?: string;
  readonly workgroupSize: number;
  /** One step of the optimizer in place: θ and every state; the caller advances n. */
  readonly step: WgslKernel;
  readonly asymptotic: WgslRegime;
  readonly exact: WgslRegime | Unavailable;
}

/** Free text in a `//` comment: WGSL ends a line comment at any of these line breaks. */
const comment = (s: string) => s.replace(/[\n\v\f\r\u0085\u2028\u2029]/g, ' ');

const PER_COORDINATE = new Set(['g', 'theta']);

/** WGSL names: the TypeScript module's names, with `u.` for everything in the uniform buffer. */
function wgslName(symbol: string): string {
  if (symbol === 'g') return 'g';
  if (symbol === 'theta') return 'th';
  if (symbol === 'n') return 'u.n';
  if (isPrevName(symbol)) return codeName.prev(stateOfPrev(symbol));
  return `u.${jsName(symbol)}`;
}

const IDENT = /^[A-Za-z_][A-Za-z0-9_]*$/;

interface KernelParts {
  readonly title: string;
  readonly buffers: readonly WgslBuffer[];
  /** Bindings whose hoisted values go to the uniform buffer. */
  readonly bindings: readonly Bindings[];
  /** Lines of the body, after `i`, `g`, `th` are defined. */
  readonly body: readonly string[];
}

class Emitter {
  constructor(private readonly rule: Rule) {}

  /** The hoisted values of `b` become uniforms: `u.c0`, printed wherever the expression occurs. */
  private hoist(b: Bindings): void {
    for (const [name, e] of b.hoisted) b.names.set(e, `u.${name}`);
  }

  bindings(roots: readonly Expr[], varying: (s: string) => boolean, prefix = ''): Bindings {
    const b = new Bindings(roots, varying, prefix);
    this.hoist(b);
    return b;
  }

  /** `let t0 = …;` lines for the per-coordinate shared values of `b`. */
  inner(b: Bindings, name = wgslName): string[] {
    return b.inner.map(([nm, e]) => {
      const line = `  let ${nm} = ${toWgsl(e, name, b.names)};`;
      b.names.set(e, nm);
      return line;
    });
  }

  kernel(p: KernelParts): WgslKernel {
    const params = this.rule.params.map((q) => q.name);
    const hoisted = p.bindings.flatMap((b) => b.hoisted);
    const uniforms = ['h', 'n', ...params.map(codeName.param), ...hoisted.map(([nm]) => nm)];
    const L: string[] = [];
    L.push(`// Generated by memloss from ${comment(this.rule.file)}: ${comment(this.rule.name)}, ${p.title}. Do not edit.`);
    L.push('// f32 throughout (WGSL has no f64); loop-invariant values arrive in `u`, computed in f64 on the CPU.');
    L.push(WGSL_PRELUDE, '');
    L.push('struct Uniforms {');
    for (const f of uniforms) L.push(`  ${f}: f32,`);
    L.push('}', '');
    L.push('@group(0) @binding(0) var<uniform> u: Uniforms;');
    p.buffers.forEach((b, k) => L.push(`@group(0) @binding(${k + 1}) var<storage, ${b.access}> ${b.name}: array<f32>;`));
    L.push('');
    L.push(`@compute @workgroup_size(${WORKGROUP_SIZE})`);
    L.push('fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {');
    L.push(`  // 2-D dispatch above 65535 workgroups: rows of nwg.x·${WORKGROUP_SIZE} coordinates`);
    L.push(`  let i = gid.x + gid.y * nwg.x * ${WORKGROUP_SIZE}u;`);
    L.push('  let dim = arrayLength(&theta);');
    L.push('  if (i >= dim) { return; }');
    L.push('  let g = grad[i];');
    L.push('  let th = theta[i];');
    L.push(...p.body);
    L.push('}');
    // the CPU half: uniform values in f64, in the order of the struct
    const J: string[] = ['(hyper, n, h) => {'];
    for (const q of params) J.push(`  const ${codeName.param(q)} = hyper[${JSON.stringify(q)}];`);
    // in extended precision, as the TypeScript module computes them: in float64 the
    // exact-n coefficients cancel for rates near 1 (and f32 could not hold what is left)
    if (hoisted.length) {
      J.push(PRECISE_DECLARATION_JS);
      J.push(...declarePrecise(hoisted, '  '));
    }
    J.push(`  return [${uniforms.join(', ')}];`, '}');
    return { code: `${L.join('\n')}\n`, buffers: p.buffers, uniforms, uniformsJs: J.join('\n') };
  }
}


const buf = (name: string, access: WgslBuffer['access'], slices = 1): WgslBuffer => ({ name, access, slices });

/** Runs a generator; a construct WGSL cannot print makes the function unavailable, with the reason. */
function orUnavailable<T>(make: () => T): T | Unavailable {
  try {
    return make();
  } catch (err) {
    if (err instanceof WgslUnsupportedError) return { unavailable: err.message };
    throw err;
  }
}

/** The WGSL kernels of a rule: step, and direction/correction/memorylessStep per regime. */
export function emitWgsl(rule: Rule, d: Derivation): WgslModule {
  refuseNonF32Constants(rule);
  for (const x of [...rule.params.map((p) => p.name), ...rule.states.map((s) => s.name)]) {
    if (!IDENT.test(x)) throw new WgslUnsupportedError(`the name ${JSON.stringify(x)} is not an ASCII identifier`);
  }
  const em = new Emitter(rule);
  const states = rule.states.map((s) => s.name);

  // step: the rule itself, states in file order; later expressions read the new values
  const step = (() => {
    const varying = (sym: string) => PER_COORDINATE.has(sym) || states.includes(sym) || isPrevName(sym);
    const gather = (e: Expr) => gatherInvariantCoefficients(e, varying);
    const rhs = rule.states.map((s) => gather(s.rhs));
    const update = gather(rule.update);
    const b = em.bindings([...rhs, update], varying);
    const name = (sym: string) => (states.includes(sym) ? codeName.state(sym) : wgslName(sym));
    const body: string[] = [];
    for (const s of states) body.push(`  let ${codeName.prev(s)} = ${codeName.buffer(s)}[i];`);
    let emitted = 0;
    const flush = (ready: (e: Expr) => boolean) => {
      while (emitted < b.inner.length && ready(b.inner[emitted]![1])) {
        const [nm, e] = b.inner[emitted]!;
        body.push(`  let ${nm} = ${toWgsl(e, name, b.names)};`);
        b.names.set(e, nm);
        emitted++;
      }
    };
    const known = new Set<string>(['g', 'theta', 'n', ...rule.params.map((p) => p.name), ...states.map((s) => `${s}@prev`)]);
    const ready = (e: Expr) => [...E.freeSymbols(e)].every((x) => known.has(x));
    for (const [k, st] of rule.states.entries()) {
      flush(ready);
      body.push(`  let ${codeName.state(st.name)} = ${toWgsl(rhs[k]!, name, b.names)};`);
      body.push(`  ${codeName.buffer(st.name)}[i] = ${codeName.state(st.name)};`);
      known.add(st.name);
    }
    flush(() => true);
    body.push(`  theta[i] = th - u.h * (${toWgsl(update, name, b.names)});`);
    return em.kernel({
      title: 'step (θ −= h·update; states advance)',
      buffers: [buf('theta', 'read_write'), buf('grad', 'read'), ...states.map((s) => buf(codeName.buffer(s), 'read_write'))],
      bindings: [b],
      body,
    });
  })();

  const regime = (derived: RegimeResult, label: string): WgslRegime => {
    const varying = (sym: string) => PER_COORDINATE.has(sym);
    const gather = (e: Expr) => gatherInvariantCoefficients(e, varying);
    const r = { F: gather(derived.F), M: derived.M.map((t) => ({ kind: t.kind, weight: gather(t.weight), field: gather(t.field) })) };
    const directionBody = (b: Bindings) => [...em.inner(b), `  let F = ${toWgsl(r.F, wgslName, b.names)};`];
    const direction = orUnavailable(() => {
      const b = em.bindings([r.F], varying);
      return em.kernel({
        title: `direction, ${label} (out = F)`,
        buffers: [buf('theta', 'read'), buf('grad', 'read'), buf('out', 'read_write')],
        bindings: [b],
        body: [...directionBody(b), '  out[i] = F;'],
      });
    });
    const correction = orUnavailable((): WgslCorrection => {
      const T = r.M.length;
      const fb = r.M.map((t, k) => em.bindings([t.field], varying, `v${k}_`));
      const fieldsBody = r.M.flatMap((t, k) => [
        `  // term ${k + 1}: ${comment(toText(t.weight))} · ${t.kind === 'hvp' ? 'H·' : ''}(${comment(toText(t.field))})`,
        '  {',
        ...em.inner(fb[k]!).map((l) => `  ${l}`),
        `    fields[${k}u * dim + i] = ${toWgsl(t.field, wgslName, fb[k]!.names)};`,
        '  }',
      ]);
      const wb = r.M.map((t, k) => em.bindings([t.weight], varying, `w${k}_`));
      const accBody = [
        '  var acc = 0.0f;',
        ...r.M.flatMap((t, k) => [
          '  {',
          ...em.inner(wb[k]!).map((l) => `  ${l}`),
          `    acc = acc + (${toWgsl(t.weight, wgslName, wb[k]!.names)}) * ${t.kind === 'hvp' ? 'hv' : 'fields'}[${k}u * dim + i];`,
          '  }',
        ]),
        '  out[i] = acc;',
      ];
      return {
        terms: r.M.map((t) => ({ kind: t.kind })),
        fields: em.kernel({
          title: `correction fields, ${label} (fields[t·dim + i] = field of term t)`,
          buffers: [buf('theta', 'read'), buf('grad', 'read'), buf('fields', 'read_write', T)],
          bindings: fb,
          body: fieldsBody,
        }),
        accumulate: em.kernel({
          title: `correction accumulate, ${label} (out = Σ weight·(H·field or field))`,
          buffers: [buf('theta', 'read'), buf('grad', 'read'), buf('fields', 'read', T), buf('hv', 'read', T), buf('out', 'read_write')],
          bindings: wb,
          body: accBody,
        }),
      };
    });
    const memorylessStep = orUnavailable(() => {
      const b = em.bindings([r.F], varying);
      return em.kernel({
        title: `memoryless step, ${label} (θ −= h·(F + h·M), M from correction)`,
        buffers: [buf('theta', 'read_write'), buf('grad', 'read'), buf('corr', 'read')],
        bindings: [b],
        body: [...directionBody(b), '  theta[i] = th - u.h * (F + u.h * corr[i]);'],
      });
    });
    return { direction, correction, memorylessStep };
  };

  const exactN = d.exactN;
  return {
    name: rule.name,
    params: rule.params.map((p) => p.name),
    defaults: Object.fromEntries(rule.params.map((p) => [p.name, Number(p.valueText)])),
    states,
    ...(rule.states.some(hasInitialValue) ? { initialJs: initialJs(rule) } : {}),
    workgroupSize: WORKGROUP_SIZE,
    step,
    asymptotic: regime(d.asymptotic, 'asymptotic (n → ∞)'),
    exact: !exactN ? { unavailable: 'the exact finite-n form was not derived (derive with exactN: true)' } : 'unavailable' in exactN ? { unavailable: exactN.recursion ? `no closed form (${exactN.unavailable}); the TypeScript module evaluates it by running the rule step by step` : exactN.unavailable } : regime(exactN, 'exact finite n'),
  };
}

/** The states' initial values as a function of the parameters, the text of `WgslModule.initialJs`. */
function initialJs(rule: Rule): string {
  const read = rule.params.filter((p) => rule.states.some((s) => E.hasSymbol(s.init, p.name)));
  return [
    '(hyper) => {',
    ...read.map((p) => `  const ${codeName.param(p.name)} = hyper[${JSON.stringify(p.name)}];`),
    `  return [${rule.states.map((s) => toJs(s.init, jsName)).join(', ')}];`,
    '}',
  ].join('\n');
}

/** Every kernel of a module with its path (`step`, `asymptotic.direction`, …), for printing and tests. */
export function wgslKernels(m: WgslModule): [string, WgslKernel][] {
  const out: [string, WgslKernel][] = [['step', m.step]];
  const regimes: [string, WgslRegime | Unavailable][] = [['asymptotic', m.asymptotic], ['exact', m.exact]];
  for (const [label, r] of regimes) {
    if ('unavailable' in r) continue;
    if (!('unavailable' in r.direction)) out.push([`${label}.direction`, r.direction]);
    if (!('unavailable' in r.correction)) out.push([`${label}.correction.fields`, r.correction.fields], [`${label}.correction.accumulate`, r.correction.accumulate]);
    if (!('unavailable' in r.memorylessStep)) out.push([`${label}.memorylessStep`, r.memorylessStep]);
  }
  return out;
}
