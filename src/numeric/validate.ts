/**
 * The O(h²) claim measured (docs/theory.md §2, §8.2). From one θ₀ and for each step size h, run
 * N = round(T/h) steps of
 *   the true optimizer         θₙ₊₁ = θₙ − h·F⁽ⁿ⁾(θₙ, θₙ₋₁, …, θ₀)               (module.step)
 *   the memoryless iteration   θ̃ₙ₊₁ = θ̃ₙ − h·(F⁽ⁿ⁾(θ̃ₙ) + h·M(θ̃ₙ))
 * with the exact finite-n F⁽ⁿ⁾ always (its limit in its place costs the second order, §3) and
 * three choices of M: the exact finite-n M⁽ⁿ⁾, the asymptotic M, and none. The gap
 * maxₙ ‖θₙ − θ̃ₙ‖∞ should scale like h² with M and like h without it.
 */
import type { Derivation } from '../derive/types.js';
import { evaluate } from '../ir/eval.js';
import { own } from '../ir/dict.js';
import type { Expr } from '../ir/expr.js';
import { children } from '../ir/expr.js';
import { prevName, type MatrixRule, type ParamDecl, type Rule } from '../ir/rule.js';
import * as E from '../ir/expr.js';
import { mchildren, type MExpr } from '../matrix/expr.js';
import type { MatrixDerivation } from '../matrix/derive.js';
import { toNumber } from '../ir/rational.js';
import { fitSlope, observedOrders } from './slopes.js';
import type { Hvp, Hyper, OptimizerModule, Problem } from './types.js';

/** Which M the memoryless iteration adds: exact finite-n, asymptotic, or none. */
export type Variant = 'exact' | 'asymptotic' | 'none';
export const VARIANTS: readonly Variant[] = ['exact', 'asymptotic', 'none'];

/** The slope with the exact M that counts as second order. */
export const PASS_SLOPE = 1.8;

/** Gaps at or below this (relative to max(1, ‖θ₀‖∞)) are rounding: the two iterations agree. */
const ROUNDING_GAP = 1e-12;
/** Memory counts as decayed within the horizon when every state's decayᴺ is below this. */
const MEMORY_LEFT = 0.05;

/** What validation needs to know about the rule beyond its module (see `ruleFacts`). */
export interface RuleFacts {
  /** Each state's decay coefficient a (s ← a·s + …) at the hyperparameters used. */
  readonly decays: readonly { readonly state: string; readonly value: number }[];
  /** Set when exact sign lies on the memory path (M vanishes a.e.): what the derivation says about it. */
  readonly signOnMemoryPath?: string;
  /** The update or a state reads abs or sign: smooth only away from their zeros. */
  readonly readsAbsOrSign: boolean;
  /** Small perturbation parameters (eps, delta, …) the update is smooth only on the scale of. */
  readonly smoothingParams: readonly { readonly name: string; readonly value: number }[];
  /** The derivation's M is identically zero. */
  readonly mVanishes: boolean;
}

export interface ValidationOptions {
  readonly module: OptimizerModule;
  readonly problem: Problem;
  /** Step sizes; run from the largest to the smallest. */
  readonly hs: readonly number[];
  /** The fixed time horizon T: N = round(T/h) steps per step size. */
  readonly horizon: number;
  /** Overrides of module.defaults. */
  readonly hyper?: Partial<Hyper>;
  readonly seed?: number;
  /** Enables the diagnosis of a failing run; without it only the numeric causes are named. */
  readonly facts?: RuleFacts;
  /** Called now and then with the steps done and the steps in all. */
  readonly onProgress?: (done: number, total: number) => void;
}

export type PerVariant<T> = Record<Variant, T>;

export interface StepSizeRun {
  readonly h: number;
  readonly steps: number;
  /** maxₙ ‖θₙ − θ̃ₙ‖∞ per variant (Infinity when an iterate became non-finite). */
  readonly gap: PerVariant<number>;
  /** The first step n with θₙ ≠ θ̃ₙ beyond rounding; null when the gap stayed at rounding level. */
  readonly firstGapStep: PerVariant<number | null>;
  /** Where a gap first became non-finite, and what was non-finite first. */
  readonly nonFinite: PerVariant<NonFinite | null>;
}

export interface NonFinite {
  /** The step n whose update produced it. */
  readonly step: number;
  /** 'optimizer': the true iterate; 'direction' / 'correction': the module's F⁽ⁿ⁾ or M; 'iterate': θ̃ itself. */
  readonly cause: 'optimizer' | 'direction' | 'correction' | 'iterate';
}

/** Coordinates of an array that changed sign along the true trajectory at the smallest h. */
export interface Crossing {
  /** 'g' for the gradient, else a state's name. */
  readonly array: string;
  readonly coordinates: number;
  /** The time t = n·h of the first sign change. */
  readonly firstTime: number;
}

export type Diagnosis =
  | 'second-order' // passed: slope with exact M ≥ PASS_SLOPE
  | 'exact' // passed: the memoryless iteration reproduces the optimizer up to rounding
  | 'sign-on-memory-path'
  | 'non-smooth'
  | 'memory-not-decayed'
  | 'h-too-large'
  | 'diverged'
  | 'non-finite-form' // a bug: the module's F⁽ⁿ⁾ or M is NaN/∞ where the optimizer is finite
  | 'unclear';

export interface Verdict {
  readonly ok: boolean;
  readonly diagnosis: Diagnosis;
  /** One line. */
  readonly reason: string;
}

export interface ValidationResult {
  readonly problem: string;
  readonly dim: number;
  readonly seed: number;
  readonly horizon: number;
  /** Every hyperparameter used (module defaults with the overrides). */
  readonly hyper: Readonly<Record<string, number>>;
  readonly runs: readonly StepSizeRun[];
  /** Observed orders between consecutive step sizes (one fewer than runs). */
  readonly orders: PerVariant<number[]>;
  /** Least-squares slopes of log gap against log h. */
  readonly slopes: PerVariant<number>;
  readonly crossings: readonly Crossing[];
  /** Per state, decayᴺ at the smallest h: the memory left at the end of the horizon. */
  readonly memoryLeft: readonly { readonly state: string; readonly value: number }[];
  readonly verdict: Verdict;
  readonly seconds: number;
}

/** Runs the true optimizer and the three memoryless iterations for every step size, and judges the slopes. */
export function runValidation(opts: ValidationOptions): ValidationResult {
  const { problem, horizon, facts } = opts;
  // a matrix rule acts on the problem's matrix blocks
  const module = problem.blocks && opts.module.forShapes ? opts.module.forShapes(problem.blocks) : opts.module;
  const seed = opts.seed ?? 1;
  if (!(horizon > 0 && Number.isFinite(horizon))) throw new RangeError(`the horizon must be a positive number, got ${horizon}`);
  const hs = [...new Set(opts.hs)].sort((a, b) => b - a);
  if (hs.length < 2) throw new RangeError('give at least two distinct step sizes');
  for (const h of hs) {
    if (!(h > 0 && Number.isFinite(h))) throw new RangeError(`step sizes must be positive numbers, got ${h}`);
    if (Math.round(horizon / h) < 1) throw new RangeError(`step size ${h} is longer than the horizon ${horizon}`);
  }
  // spread, not assignment: a parameter named __proto__ stays an own property
  const hyper: Record<string, number> = { ...module.defaults, ...Object.fromEntries(Object.entries(opts.hyper ?? {}).filter((e): e is [string, number] => e[1] !== undefined)) };

  const theta0 = problem.initial(seed);
  if (theta0.length !== problem.dim) throw new RangeError(`internal: ${problem.name}.initial() has length ${theta0.length}, not ${problem.dim}`);
  const total = hs.reduce((s, h) => s + Math.round(horizon / h), 0);
  const progress = progressEvery(total, opts.onProgress);
  const t0 = performance.now();
  const runs: StepSizeRun[] = [];
  let crossings: Crossing[] = [];
  hs.forEach((h, i) => {
    const last = i === hs.length - 1;
    const run = runStepSize(module, problem, theta0, h, Math.round(horizon / h), hyper, last, progress);
    runs.push(run.result);
    if (last) crossings = run.crossings;
  });
  progress.finish();

  const gaps = (v: Variant) => runs.map((r) => r.gap[v]);
  const per = <T>(f: (v: Variant) => T): PerVariant<T> => ({ exact: f('exact'), asymptotic: f('asymptotic'), none: f('none') });
  const orders = per((v) => observedOrders(hs, gaps(v)));
  const slopes = per((v) => fitSlope(hs, gaps(v)));
  const nMax = runs[runs.length - 1]!.steps;
  const memoryLeft = (facts?.decays ?? []).map((d) => ({ state: d.state, value: Math.abs(d.value) ** nMax }));
  const partial = { problem: problem.name, dim: problem.dim, seed, horizon, hyper, runs, orders, slopes, crossings, memoryLeft };
  const verdict = judge(partial, facts, maxAbs(theta0));
  return { ...partial, verdict, seconds: (performance.now() - t0) / 1000 };
}

export interface Progress {
  tick(): void;
  finish(): void;
}

/** Reports progress about 200 times in all, not on every step. */
export function progressEvery(total: number, report?: (done: number, total: number) => void): Progress {
  if (!report) return { tick() {}, finish() {} };
  const every = Math.max(1, Math.floor(total / 200));
  let done = 0;
  report(0, total);
  return {
    tick() {
      if (++done % every === 0) report(done, total);
    },
    finish() {
      report(total, total);
    },
  };
}

/** One memoryless trajectory: θ̃ and its own buffers for ∇L and H·v. */
interface Memoryless {
  readonly variant: Variant;
  readonly theta: Float64Array;
  readonly grad: Float64Array;
  readonly hvp: Hvp;
  gap: number;
  firstGapStep: number | null;
  nonFinite: NonFinite | null;
}

function runStepSize(
  module: OptimizerModule, problem: Problem, theta0: Float64Array, h: number, steps: number,
  hyper: Hyper, trackCrossings: boolean, progress: Progress,
): { result: StepSizeRun; crossings: Crossing[] } {
  const dim = theta0.length;
  const floor = ROUNDING_GAP * Math.max(1, maxAbs(theta0));
  const theta = theta0.slice();
  const grad = new Float64Array(dim);
  const state = module.init(dim, hyper);
  const tracks: Memoryless[] = VARIANTS.map((variant) => {
    const t = theta0.slice();
    const out = new Float64Array(dim);
    return { variant, theta: t, grad: new Float64Array(dim), hvp: (v: Float64Array) => problem.hvp(t, v, out), gap: 0, firstGapStep: null, nonFinite: null };
  });
  const stateNames = Object.keys(state.arrays).sort();
  const signs = trackCrossings ? new SignTracker(dim, ['g', ...stateNames]) : undefined;
  const failed = (tr: Memoryless) => tr.gap === Infinity;

  for (let n = 0; n < steps; n++) {
    // the true optimizer: θₙ₊₁ from θₙ and the state (the history)
    problem.grad(theta, grad);
    if (signs) signs.observe('g', grad, n * h);
    module.step(theta, grad, state, h, hyper);
    if (signs) for (const name of stateNames) signs.observe(name, state.arrays[name]!, (n + 1) * h);
    // the memoryless iterations: θ̃ₙ₊₁ = θ̃ₙ − h·(F⁽ⁿ⁾(θ̃ₙ) + h·M(θ̃ₙ))
    for (const tr of tracks) {
      const t = tr.theta;
      problem.grad(t, tr.grad);
      if (tr.gap === Infinity) continue; // this track already failed
      const F = module.direction(t, tr.grad, hyper, n);
      let M: Float64Array | undefined;
      if (tr.variant === 'none') {
        for (let j = 0; j < dim; j++) t[j] = t[j]! - h * F[j]!;
      } else {
        M = module.correction(t, tr.grad, tr.hvp, hyper, tr.variant === 'exact' ? n : undefined);
        for (let j = 0; j < dim; j++) t[j] = t[j]! - h * (F[j]! + h * M[j]!);
      }
      let gap = 0;
      for (let j = 0; j < dim; j++) {
        const d = Math.abs(theta[j]! - t[j]!);
        if (!(d <= gap)) gap = d; // NaN propagates
      }
      if (!Number.isFinite(gap)) {
        tr.gap = Infinity;
        tr.nonFinite = { step: n, cause: !allFinite(theta) ? 'optimizer' : !allFinite(F) ? 'direction' : M && !allFinite(M) ? 'correction' : 'iterate' };
        continue;
      }
      if (gap > tr.gap) tr.gap = gap;
      if (tr.firstGapStep === null && !(gap <= floor)) tr.firstGapStep = n + 1;
    }
    progress.tick();
    if (tracks.every(failed)) {
      for (let rest = n + 1; rest < steps; rest++) progress.tick();
      break;
    }
  }
  const per = <T>(f: (tr: Memoryless) => T): PerVariant<T> => ({ exact: f(tracks[0]!), asymptotic: f(tracks[1]!), none: f(tracks[2]!) });
  return {
    result: { h, steps, gap: per((tr) => tr.gap), firstGapStep: per((tr) => tr.firstGapStep), nonFinite: per((tr) => tr.nonFinite) },
    crossings: signs?.result() ?? [],
  };
}

/** Counts coordinates whose sign flips (zero does not count as a sign) along a trajectory. */
class SignTracker {
  private readonly last = new Map<string, Int8Array>();
  private readonly flipped = new Map<string, Uint8Array>();
  private readonly first = new Map<string, number>();
  constructor(dim: number, names: readonly string[]) {
    for (const name of names) {
      this.last.set(name, new Int8Array(dim));
      this.flipped.set(name, new Uint8Array(dim));
    }
  }
  observe(name: string, values: Float64Array, time: number): void {
    const last = this.last.get(name)!;
    const flipped = this.flipped.get(name)!;
    for (let j = 0; j < values.length; j++) {
      const s = values[j]! > 0 ? 1 : values[j]! < 0 ? -1 : 0;
      if (s === 0) continue;
      if (last[j] === -s) {
        flipped[j] = 1;
        if (!this.first.has(name)) this.first.set(name, time);
      }
      last[j] = s;
    }
  }
  result(): Crossing[] {
    const out: Crossing[] = [];
    for (const [name, flipped] of this.flipped) {
      const coordinates = flipped.reduce((a, b) => a + b, 0);
      if (coordinates > 0) out.push({ array: name, coordinates, firstTime: this.first.get(name)! });
    }
    return out;
  }
}

const allFinite = (x: Float64Array) => x.every(Number.isFinite);
const maxAbs = (x: Float64Array) => x.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
const fmt = (x: number, digits = 2) => (Number.isFinite(x) ? x.toFixed(digits) : String(x));

type Measured = Omit<ValidationResult, 'verdict' | 'seconds'>;

/** Pass or fail, and for a failure the likely reason (one line). */
export function judge(r: Measured, facts: RuleFacts | undefined, scale: number): Verdict {
  const floor = ROUNDING_GAP * Math.max(1, scale);
  const exact = r.runs.map((run) => run.gap.exact);
  const slope = r.slopes.exact;
  const broken = r.runs.find((run) => run.nonFinite.exact !== null);
  if (broken) {
    const { step, cause } = broken.nonFinite.exact!;
    if (cause === 'direction' || cause === 'correction')
      return {
        ok: false, diagnosis: 'non-finite-form',
        reason: `the module's exact ${cause === 'direction' ? 'F⁽ⁿ⁾' : 'M⁽ⁿ⁾'} is not finite at n = ${step} (h = ${broken.h}) although the optimizer is: a bug in memloss (likely an overflowing or underflowing power in the closed form); please report`,
      };
    return {
      ok: false, diagnosis: 'diverged',
      reason: `${cause === 'optimizer' ? 'the optimizer' : 'the memoryless iteration'} left the finite numbers at step ${step} with h = ${broken.h}: the step size is too large for this problem; use smaller --h`,
    };
  }
  if (exact.every((g) => g <= floor))
    return { ok: true, diagnosis: 'exact', reason: `the memoryless iteration reproduces the optimizer to rounding (gap ≤ ${floor.toExponential(0)} at every h)` };
  if (slope >= PASS_SLOPE) return { ok: true, diagnosis: 'second-order', reason: `slope with exact M ${fmt(slope)} ≥ ${PASS_SLOPE}` };

  const failed = `slope with exact M ${fmt(slope)} < ${PASS_SLOPE}`;
  // 1. exact sign on the memory path: M = 0 a.e., so nothing can be second order after a flip
  if (facts?.signOnMemoryPath !== undefined)
    return {
      ok: false, diagnosis: 'sign-on-memory-path',
      reason: `${failed}: expected, not a bug — exact sign lies on the memory path, so M vanishes almost everywhere and the memoryless iteration follows the optimizer exactly only until a momentum coordinate changes sign, after which the gap is O(h); validate a smooth surrogate (x/sqrt(x^2 + delta^2)) instead`,
    };
  // 2. a non-smooth update along the trajectory
  const smallest = r.runs[r.runs.length - 1]!;
  const mHasNoEffect = !facts?.mVanishes && r.runs.every((run) => Math.abs(run.gap.exact - run.gap.none) <= 1e-9 * run.gap.none);
  const lateStart = smallest.firstGapStep.exact !== null && smallest.firstGapStep.exact * smallest.h > 0.05 * r.horizon;
  // a coordinate of g or of a state crossing zero matters only where abs, sign or a small ε sits
  const sensitive = Boolean(facts?.readsAbsOrSign) || (facts?.smoothingParams.length ?? 0) > 0;
  const crossed = sensitive ? r.crossings : [];
  if (mHasNoEffect || lateStart || crossed.length > 0) {
    const where = crossed.length
      ? `; ${crossed.map((c) => `${c.coordinates} coordinate${c.coordinates === 1 ? '' : 's'} of ${c.array} changed sign (first at t = ${fmt(c.firstTime, 3)})`).join(', ')}`
      : '';
    const evidence = mHasNoEffect
      ? 'the gap with M equals the gap without M'
      : lateStart
        ? `the gap stays at 0 until t = ${fmt(smallest.firstGapStep.exact! * smallest.h, 3)}, then jumps`
        : 'a sign or abs argument crosses zero';
    const scale = facts?.smoothingParams.length
      ? `; the update is smooth only on the scale ${facts.smoothingParams.map((p) => `${p.name} = ${p.value}`).join(', ')}: raise it with --set or use smaller --h`
      : '; use smaller --h, or a smooth surrogate of abs/sign';
    return { ok: false, diagnosis: 'non-smooth', reason: `${failed}: likely a non-smooth update along the trajectory (${evidence}${where})${scale}` };
  }
  // 3. memory that has not decayed within the horizon even at the smallest h
  const slow = r.memoryLeft.filter((m) => m.value > MEMORY_LEFT);
  if (slow.length)
    return {
      ok: false, diagnosis: 'memory-not-decayed',
      reason: `${failed}: likely memory not yet decayed within the horizon (${slow.map((m) => `state ${m.state}: |decay|^N = ${m.value.toPrecision(2)}`).join(', ')} at the smallest h, N = ${smallest.steps}); lengthen --horizon, shrink --h, or lower the decay with --set`,
    };
  // 4. step sizes outside the asymptotic range: the observed order still rises toward 2
  const orders = r.orders.exact.filter(Number.isFinite);
  if (orders.length >= 2 && orders[orders.length - 1]! - orders[0]! > 0.2)
    return {
      ok: false, diagnosis: 'h-too-large',
      reason: `${failed}: likely h too large (the observed order rises from ${fmt(orders[0]!)} to ${fmt(orders[orders.length - 1]!)} as h shrinks); use smaller --h`,
    };
  return { ok: false, diagnosis: 'unclear', reason: `${failed}: no recognised cause (memory decayed, no sign change, order not rising); try smaller --h or a longer --horizon` };
}

// ---- facts about the rule -------------------------------------------------------------

/** Reads what the diagnosis needs from the rule and its derivation, at the hyperparameters used. */
export function ruleFacts(rule: Rule, d: Derivation, hyper: Hyper): RuleFacts {
  const env: Record<string, number> = { ...hyper };
  const decays = d.asymptotic.states.map((s) => {
    let value: number;
    try {
      value = evaluate(s.decay, env);
    } catch {
      value = NaN;
    }
    return { state: s.name, value };
  });
  const states = new Set(rule.states.flatMap((s) => [s.name, prevName(s.name)]));
  const exprs = [rule.update, ...rule.states.map((s) => s.rhs)];
  const signOnPath = exprs.some((e) => someCall(e, (fn, arg) => fn === 'sign' && readsAny(arg, states)));
  const note = d.notes.find((n) => n.includes('memory path'));
  return {
    decays,
    ...(signOnPath ? { signOnMemoryPath: note ?? 'exact sign lies on the memory path: M vanishes almost everywhere' } : {}),
    readsAbsOrSign: exprs.some((e) => someCall(e, (fn) => fn === 'abs' || fn === 'sign')),
    smoothingParams: rule.params.filter((p) => isSmoothingParam(p, exprs)).map((p) => ({ name: p.name, value: own(hyper, p.name) ?? toNumber(p.value) })),
    mVanishes: d.asymptotic.M.length === 0,
  };
}

function someCall(e: Expr, test: (fn: string, arg: Expr) => boolean): boolean {
  if (e.kind === 'call' && test(e.fn, e.arg)) return true;
  return children(e).some((c) => someCall(c, test));
}

function readsAny(e: Expr, names: ReadonlySet<string>): boolean {
  if (e.kind === 'sym') return names.has(e.name);
  return children(e).some((c) => readsAny(c, names));
}

// ---- hyperparameters for validation ----------------------------------------------------

/**
 * A small perturbation parameter: domain [0, ∞) or (0, ∞), default ≤ 1e-2, and read where it
 * keeps a singular power regular (in the base of a negative or fractional power, such as
 * the ε of g/(√v + ε) or the δ of m/√(m² + δ²)). Decided from the rule, never from a name.
 */
export function isSmoothingParam(p: ParamDecl, exprs: readonly Expr[]): boolean {
  const v = toNumber(p.value);
  if (!(p.domain.lo === 0 && p.domain.hi === Infinity && v <= SMALL_DEFAULT)) return false;
  return exprs.some((e) => underSingularPower(e, p.name, false));
}

const SMALL_DEFAULT = 1e-2;

function underSingularPower(e: Expr, name: string, inside: boolean): boolean {
  if (e.kind === 'sym') return inside && e.name === name;
  if (e.kind === 'pow') {
    const singular = e.exp.kind === 'num' && (toNumber(e.exp.value) < 0 || !Number.isInteger(toNumber(e.exp.value)));
    return underSingularPower(e.base, name, inside || singular) || underSingularPower(e.exp, name, inside);
  }
  return children(e).some((c) => underSingularPower(c, name, inside));
}

/**
 * The value a smoothing parameter is raised to for validation: the update g/(|g| + ε) is
 * smooth only on the scale ε, and a step moves g by about h·‖H‖·|F|, so the expansion in h
 * needs ε well above that at the largest h (docs/theory.md §9: ε = 1e-3 shows order 2 only for
 * h ≲ 2.5e-4). RAISE_FACTOR·max h keeps that ratio for the default step sizes.
 */
export const RAISE_FACTOR = 10;

export interface ParamChoice {
  readonly name: string;
  readonly value: number;
  /** The rule's default. */
  readonly default: number;
  readonly source: 'default' | 'raised' | 'shortened' | 'set';
}

/**
 * The hyperparameters validation uses: the rule's defaults, small perturbation parameters
 * raised to max(default, RAISE_FACTOR·max h) so the update is smooth on the scale of a step,
 * and the user's --set values over both.
 */
export function validationParams(rule: Rule, d: Derivation, hs: readonly number[], set: Readonly<Record<string, number>>): ParamChoice[] {
  const exprs = [rule.update, ...rule.states.map((s) => s.rhs)];
  const hMax = Math.max(...hs);
  const shortened = shortenedMemories(rule, d);
  return rule.params.map((p) => {
    const def = toNumber(p.value);
    const given = own(set, p.name);
    if (given !== undefined) return { name: p.name, value: given, default: def, source: 'set' };
    if (isSmoothingParam(p, exprs)) {
      const raised = Math.max(def, RAISE_FACTOR * hMax);
      if (raised !== def) return { name: p.name, value: raised, default: def, source: 'raised' };
    }
    const short = shortened.get(p.name);
    if (short !== undefined) return { name: p.name, value: short, default: def, source: 'shortened' };
    return { name: p.name, value: def, default: def, source: 'default' };
  });
}

/**
 * The memory length of a decay a is u = Σₖ≥₁ aᵏ = a/(1−a) steps. The expansion needs the
 * memory short against the step (h·u·λ(H) small), so when the rule's longest memory exceeds
 * MEMORY_STEPS it becomes MEMORY_STEPS and the others keep their place on a log scale,
 * u' = MEMORY_STEPS·ln(1+u)/ln(1+u_max): distinct memories stay distinct and in order
 * (β₁ = 0.9, β₂ = 0.999 become 0.25 and 0.5). A decay that reads one parameter with a
 * bounded domain (β, or Adan's 1 − β) is moved there by solving for that parameter inside
 * its domain; others are left alone.
 */
export function shortenedMemories(rule: Rule, d: Derivation): Map<string, number> {
  return shortenedFor(rule.params, d.asymptotic.states.map((s) => s.decay));
}

function shortenedFor(params: readonly ParamDecl[], decays: readonly Expr[]): Map<string, number> {
  const defaults = Object.fromEntries(params.map((p) => [p.name, toNumber(p.value)]));
  const memory: { decay: Expr; param: ParamDecl; u: number }[] = [];
  for (const decay of decays) {
    const read = [...E.freeSymbols(decay)];
    const param = read.length === 1 ? params.find((p) => p.name === read[0]) : undefined;
    if (!param || !Number.isFinite(param.domain.lo) || !Number.isFinite(param.domain.hi) || memory.some((m) => m.param === param)) continue;
    const a = evaluate(decay, defaults);
    if (a > 0 && a < 1) memory.push({ decay, param, u: a / (1 - a) });
  }
  const uMax = Math.max(0, ...memory.map((m) => m.u));
  const out = new Map<string, number>();
  if (uMax <= MEMORY_STEPS) return out;
  for (const m of memory) {
    const u = (MEMORY_STEPS * Math.log1p(m.u)) / Math.log1p(uMax);
    const value = solveInDomain((x) => evaluate(m.decay, { ...defaults, [m.param.name]: x }) - u / (1 + u), m.param.domain);
    if (value !== undefined) out.set(m.param.name, value);
  }
  return out;
}

/** The root of a monotone f inside a bounded domain (bisection), or undefined without a sign change. */
function solveInDomain(f: (x: number) => number, domain: ParamDecl['domain']): number | undefined {
  let lo = domain.lo, hi = domain.hi;
  const fLo = f(lo);
  if (!(fLo * f(hi) < 0)) return undefined;
  for (let i = 0; i < 80; i++) {
    const mid = (lo + hi) / 2;
    if (f(mid) * fLo > 0) lo = mid; else hi = mid;
  }
  const x = (lo + hi) / 2;
  const inside = (domain.loOpen ? x > domain.lo : x >= domain.lo) && (domain.hiOpen ? x < domain.hi : x <= domain.hi);
  return inside ? x : undefined;
}

// ---- matrix rules ----------------------------------------------------------------------

/**
 * A matrix rule's small perturbation parameter: domain [0, ∞) or (0, ∞), default ≤ 1e-2,
 * read inside the argument of a negative or fractional matrix power (the eps of
 * pow(L + eps*I, -1/4)). Decided from the rule, never from a name.
 */
function isMatrixSmoothingParam(p: ParamDecl, rule: MatrixRule): boolean {
  if (!(p.domain.lo === 0 && p.domain.hi === Infinity && toNumber(p.value) <= SMALL_DEFAULT)) return false;
  const inSingularPow = (m: MExpr, inside: boolean): boolean => {
    if (m.kind === 'scale' && inside && E.hasSymbol(m.coef, p.name)) return true;
    const singular = m.kind === 'pow' && (toNumber(m.p) < 0 || !Number.isInteger(toNumber(m.p)));
    return mchildren(m).some((c) => inSingularPow(c, inside || singular));
  };
  return inSingularPow(rule.update, false);
}

/** validationParams for a matrix rule: the same choices (raised smoothing parameters, shortened memories, --set). */
export function matrixValidationParams(d: MatrixDerivation, hs: readonly number[], set: Readonly<Record<string, number>>): ParamChoice[] {
  const hMax = Math.max(...hs);
  const shortened = shortenedFor(d.rule.params, d.asymptotic.states.map((s) => s.decay));
  return d.rule.params.map((p) => {
    const def = toNumber(p.value);
    const given = own(set, p.name);
    if (given !== undefined) return { name: p.name, value: given, default: def, source: 'set' };
    if (isMatrixSmoothingParam(p, d.rule)) {
      const raised = Math.max(def, RAISE_FACTOR * hMax);
      if (raised !== def) return { name: p.name, value: raised, default: def, source: 'raised' };
    }
    const short = shortened.get(p.name);
    if (short !== undefined) return { name: p.name, value: short, default: def, source: 'shortened' };
    return { name: p.name, value: def, default: def, source: 'default' };
  });
}

/** ruleFacts for a matrix rule. */
export function matrixRuleFacts(d: MatrixDerivation, hyper: Hyper): RuleFacts {
  const decays = d.asymptotic.states.map((s) => {
    let value: number;
    try { value = evaluate(s.decay, { ...hyper }); } catch { value = NaN; }
    return { state: s.name, value };
  });
  return {
    decays,
    readsAbsOrSign: false,
    smoothingParams: d.rule.params.filter((p) => isMatrixSmoothingParam(p, d.rule)).map((p) => ({ name: p.name, value: own(hyper, p.name) ?? toNumber(p.value) })),
    mVanishes: d.asymptotic.M.kind === 'zero',
  };
}

/** The longest memory validation runs with by default, in steps (β = 1/2). */
export const MEMORY_STEPS = 1;

// ---- text output -----------------------------------------------------------------------

/** A gap for the tables: 3 significant digits, 'inf' when a run failed. */
export const sci = (x: number) => (x === Infinity ? 'inf' : Number.isNaN(x) ? '—' : x === 0 ? '0' : x.toExponential(2));
/** An order or slope for the tables; empty where there is none. */
export const ord = (x: number | undefined) => (x === undefined || !Number.isFinite(x) ? '' : x.toFixed(2));

/** Right-aligned columns, two spaces apart. */
export function tableLines(head: readonly string[], rows: readonly (readonly string[])[]): string[] {
  const widths = head.map((h, c) => Math.max(h.length, ...rows.map((row) => row[c]!.length)));
  const line = (cells: readonly string[]) => cells.map((s, c) => s.padStart(widths[c]!)).join('  ').trimEnd();
  return [line(head), ...rows.map(line)];
}

/** The table: h, steps, the three gaps, the observed orders; then the slopes and the verdict. */
export function formatValidation(r: ValidationResult): string {
  const head = ['h', 'steps', 'gap exact M', 'gap asympt. M', 'gap no M', 'order exact', 'order asympt.', 'order no M'];
  const rows = r.runs.map((run, i) => [
    String(run.h), String(run.steps), sci(run.gap.exact), sci(run.gap.asymptotic), sci(run.gap.none),
    ord(r.orders.exact[i - 1]), ord(r.orders.asymptotic[i - 1]), ord(r.orders.none[i - 1]),
  ]);
  rows.push(['slope', '', '', '', '', ord(r.slopes.exact), ord(r.slopes.asymptotic), ord(r.slopes.none)]);
  const out = [
    `${r.problem} (dim ${r.dim}, seed ${r.seed}, horizon ${r.horizon}, ${r.seconds.toFixed(2)} s)`,
    ...tableLines(head, rows),
    `slopes of log gap vs log h: exact M ${ord(r.slopes.exact) || '—'}, asymptotic M ${ord(r.slopes.asymptotic) || '—'}, no M ${ord(r.slopes.none) || '—'}`,
    `${r.verdict.ok ? 'ok' : 'FAILED'}: ${r.verdict.reason}`,
  ];
  return `${out.join('\n')}\n`;
}

/** JSON with non-finite numbers as null and a fixed key order. */
export function validationJson(value: unknown): string {
  return `${JSON.stringify(value, (_k, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? null : v), 2)}\n`;
}
