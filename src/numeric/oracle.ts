/**
 * An independent numeric oracle for the memory correction M^{(n)}(θ) (docs/theory.md §2, §8.1).
 *
 * It exists to check the symbolic engine, so it shares none of its code: it reads the rule's
 * source strings with mathjs' parser, compiles each expression once to plain JavaScript over
 * dual numbers (value, tangent), and runs the literal state recursion on a history.
 *
 *   M^{(n)}(θ) = d/dε F^{(n)}(history(ε)) at ε = 0,   θ_j = θ + ε·D_{n−j},   g_j = g + H·(θ_j − θ),
 *   D_k = Σ_{s=n−k}^{n−1} F^{(s)}(θ)   (D_0 = 0).
 *
 * The tangent carries that derivative exactly (forward mode), so no finite-difference step has
 * to be tuned to the scale of the rule.
 */
import { parse, type MathNode } from 'mathjs';
import type { Rule } from '../ir/rule.js';

export interface OracleInput {
  rule: Rule;
  params?: Record<string, number>; // overrides of parameter defaults
  theta: Float64Array; // dimension d
  g: Float64Array; // ∇L(θ), dimension d
  hessian: Float64Array; // symmetric d×d, row-major
  n: number; // step index, n ≥ 0
}

/** A compiled expression: reads values V and tangents T by slot, writes o[0] = value, o[1] = tangent. */
type Kernel = (V: Float64Array, T: Float64Array, o: Float64Array) => void;
/** JS source of a value and of its tangent. */
type Pair = readonly [string, string];

// Frame layout: fixed symbols first (prev(g) and prev(theta) read the last step's inputs, 0
// before step 0), then parameters, states and previous values of states.
const G = 0, THETA = 1, N = 2, PREV_G = 3, PREV_THETA = 4;

interface Compiled {
  readonly nSlots: number;
  readonly params: ReadonlyMap<string, number>; // name → slot
  /** Each state's slots, its recursion and its initial value (a kernel over the parameters). */
  readonly states: readonly { slot: number; prev: number; kernel: Kernel; init: Kernel }[];
  readonly update: Kernel;
}

/** Emits straight-line JS for one expression. Only slot numbers and numeric literals reach the
 *  generated source, never identifiers from the rule, so the source text cannot inject code. */
class Codegen {
  private readonly lines: string[] = [];
  private k = 0;
  constructor(
    private readonly slots: ReadonlyMap<string, number>,
    private readonly fns: ReadonlyMap<string, { args: readonly string[]; body: MathNode }>,
    /** Tangents become majorants (every term by its magnitude), for the oracle's own error bound. */
    private readonly majorant = false,
  ) {}

  compile(source: string): Kernel {
    const [v, t] = this.emit(parse(source), new Map());
    return new Function('V', 'T', 'o', `${this.lines.join('\n')}\no[0] = ${v}; o[1] = ${t};`) as Kernel;
  }

  /** The tangent's formula, or in majorant mode the bound on the magnitudes of its terms. */
  private m(tangent: string, bound: string): string {
    return this.majorant ? bound : tangent;
  }

  /** A fresh temporary; `t` may refer to the new value as `$`. */
  private let(v: string, t: string): Pair {
    const i = this.k++;
    this.lines.push(`const v${i} = ${v}, t${i} = ${t.replaceAll('$', `v${i}`)};`);
    return [`v${i}`, `t${i}`];
  }

  private emit(node: MathNode, env: ReadonlyMap<string, Pair>): Pair {
    const n = node as MathNode & Record<string, any>;
    switch (n.type) {
      case 'ParenthesisNode':
        return this.emit(n.content, env);
      case 'ConstantNode':
        if (typeof n.value !== 'number' || !Number.isFinite(n.value)) throw new Error(`oracle: unsupported constant ${String(n.value)}`);
        return [`(${n.value})`, '0'];
      case 'SymbolNode': {
        const local = env.get(n.name);
        if (local) return local;
        const s = this.slots.get(n.name);
        if (s === undefined) throw new Error(`oracle: unknown symbol '${n.name}'`);
        return [`V[${s}]`, `T[${s}]`];
      }
      case 'OperatorNode': {
        const [a, b] = (n.args as MathNode[]).map((x) => this.emit(x, env)) as [Pair, Pair?];
        switch (n.fn as string) {
          case 'unaryPlus': return a;
          case 'unaryMinus': return this.let(`-${a[0]}`, this.majorant ? a[1] : `-${a[1]}`);
          case 'add': return this.let(`${a[0]} + ${b![0]}`, `${a[1]} + ${b![1]}`);
          case 'subtract': return this.let(`${a[0]} - ${b![0]}`, this.majorant ? `${a[1]} + ${b![1]}` : `${a[1]} - ${b![1]}`);
          case 'multiply': return this.let(`${a[0]} * ${b![0]}`, this.m(`${a[1]} * ${b![0]} + ${a[0]} * ${b![1]}`, `${a[1]} * Math.abs(${b![0]}) + Math.abs(${a[0]}) * ${b![1]}`));
          case 'divide': return this.let(`${a[0]} / ${b![0]}`, this.m(`(${a[1]} - $ * ${b![1]}) / ${b![0]}`, `(${a[1]} + Math.abs($) * ${b![1]}) / Math.abs(${b![0]})`));
          case 'pow': return this.pow(a, b!);
        }
        throw new Error(`oracle: unsupported operator '${n.op}'`);
      }
      case 'FunctionNode':
        return this.call(n.fn.name as string, n.args as MathNode[], env);
    }
    throw new Error(`oracle: unsupported syntax ${n.type}`);
  }

  private call(name: string, rawArgs: MathNode[], env: ReadonlyMap<string, Pair>): Pair {
    if (name === 'prev') {
      const s = this.slots.get(`prev ${(rawArgs[0] as MathNode & { name?: string }).name}`);
      if (s === undefined) throw new Error('oracle: prev() takes the name of a state, g or theta');
      return [`V[${s}]`, `T[${s}]`];
    }
    const args = rawArgs.map((x) => this.emit(x, env));
    const user = this.fns.get(name);
    // A helper's body sees its arguments plus the global symbols (parameters, g, theta, n).
    if (user) return this.emit(user.body, new Map(user.args.map((p, i) => [p, args[i]!])));
    const [a, b] = args as [Pair, Pair?];
    // Zero tangents stay exactly zero (avoids 0·∞ at sqrt(0), e.g. a state that starts at 0).
    switch (name) {
      case 'sqrt': return this.let(`Math.sqrt(${a[0]})`, `${a[1]} === 0 ? 0 : ${a[1]} / (2 * $)`);
      case 'abs': return this.let(`Math.abs(${a[0]})`, this.m(`Math.sign(${a[0]}) * ${a[1]}`, a[1]));
      case 'sign': return this.let(`Math.sign(${a[0]})`, '0');
      case 'exp': return this.let(`Math.exp(${a[0]})`, `$ * ${a[1]}`);
      case 'log': return this.let(`Math.log(${a[0]})`, this.m(`${a[1]} === 0 ? 0 : ${a[1]} / ${a[0]}`, `${a[1]} === 0 ? 0 : ${a[1]} / Math.abs(${a[0]})`));
      // tanh' = 1 − tanh²
      case 'tanh': return this.let(`Math.tanh(${a[0]})`, this.m(`(1 - $ * $) * ${a[1]}`, `Math.abs(1 - $ * $) * ${a[1]}`));
      case 'pow': return this.pow(a, b!);
    }
    throw new Error(`oracle: unsupported function '${name}'`);
  }

  /** a^b; the log-term only when the exponent itself varies, so negative bases work for constant b. */
  private pow([a, ta]: Pair, [b, tb]: Pair): Pair {
    return this.let(`Math.pow(${a}, ${b})`, this.m(
      `${tb} === 0 ? (${ta} === 0 ? 0 : ${b} * Math.pow(${a}, ${b} - 1) * ${ta}) : $ * (${tb} * Math.log(${a}) + ${b} * ${ta} / ${a})`,
      `${tb} === 0 ? (${ta} === 0 ? 0 : Math.abs(${b} * Math.pow(${a}, ${b} - 1)) * ${ta}) : Math.abs($) * (${tb} * Math.abs(Math.log(${a})) + Math.abs(${b}) * ${ta} / Math.abs(${a}))`));
  }
}

const caches = [new WeakMap<Rule, Compiled>(), new WeakMap<Rule, Compiled>()];

function compile(rule: Rule, majorant = false): Compiled {
  const cache = caches[majorant ? 1 : 0]!;
  const hit = cache.get(rule);
  if (hit) return hit;
  const slots = new Map<string, number>([['g', G], ['theta', THETA], ['n', N], ['prev g', PREV_G], ['prev theta', PREV_THETA]]);
  const params = new Map<string, number>();
  for (const p of rule.params) { params.set(p.name, slots.size); slots.set(p.name, slots.size); }
  for (const s of rule.states) slots.set(s.name, slots.size);
  for (const s of rule.states) slots.set(`prev ${s.name}`, slots.size); // a space: no rule name can collide
  const fns = new Map(rule.fns.map((f) => [f.name, { args: f.args, body: parse(f.source) }]));
  const kernel = (src: string) => new Codegen(slots, fns, majorant).compile(src);
  const compiled: Compiled = {
    nSlots: slots.size,
    params,
    states: rule.states.map((s) => ({ slot: slots.get(s.name)!, prev: slots.get(`prev ${s.name}`)!, kernel: kernel(s.source), init: kernel(s.initSource) })),
    update: kernel(rule.updateSource),
  };
  cache.set(rule, compiled);
  return compiled;
}

/** `init`: each state's value before step 0, at these parameters. */
interface Setup { c: Compiled; V: Float64Array; T: Float64Array; o: Float64Array; d: number; init: Float64Array }

function setup(input: OracleInput, majorant = false): Setup {
  const { rule, theta, g, hessian, n } = input;
  const d = theta.length;
  if (g.length !== d || hessian.length !== d * d) throw new Error(`oracle: theta has ${d} coordinates, g ${g.length}, hessian ${hessian.length} entries`);
  if (!Number.isInteger(n) || n < 0) throw new Error(`oracle: n must be an integer ≥ 0, got ${n}`);
  const c = compile(rule, majorant);
  const V = new Float64Array(c.nSlots), T = new Float64Array(c.nSlots);
  for (const p of rule.params) V[c.params.get(p.name)!] = Number(p.valueText);
  for (const [name, value] of Object.entries(input.params ?? {})) {
    const s = c.params.get(name);
    if (s === undefined) throw new Error(`oracle: '${rule.name}' has no parameter '${name}'`);
    V[s] = value;
  }
  const o = new Float64Array(2);
  const init = Float64Array.from(c.states, (st) => { st.init(V, T, o); return o[0]!; });
  return { c, V, T, o, d, init };
}

/** The gradient coordinate j seen at step s of the history (at θ: the history is constant). */
type GradientAt = (s: number, j: number) => number;

/**
 * Runs coordinate j's recursion for steps 0..last and leaves the update's (value, tangent) at
 * step `last` in o. Inputs at step s are gAt(s, j) + ε·dG[s·d+j] and θ_j + ε·dTh[s·d+j] (no tangents:
 * constant history). With `record`, record[s·d+j] receives the update value at each step s < last.
 */
function run(S: Setup, j: number, gAt: GradientAt, thj: number, last: number,
  dG?: Float64Array, dTh?: Float64Array, record?: Float64Array): void {
  const { c, V, T, o, d } = S;
  c.states.forEach((st, k) => { V[st.slot] = S.init[k]!; T[st.slot] = 0; });
  V[THETA] = thj; T[G] = T[THETA] = T[N] = 0;
  V[PREV_G] = T[PREV_G] = V[PREV_THETA] = T[PREV_THETA] = 0;
  for (let s = 0; s <= last; s++) {
    if (s > 0) { V[PREV_G] = V[G]; T[PREV_G] = T[G]; V[PREV_THETA] = V[THETA]; T[PREV_THETA] = T[THETA]; }
    V[N] = s;
    V[G] = gAt(s, j);
    if (dG) { T[G] = dG[s * d + j]!; T[THETA] = dTh![s * d + j]!; }
    for (const st of c.states) { V[st.prev] = V[st.slot]; T[st.prev] = T[st.slot]; }
    // In file order: a state's own rhs still sees its old value; later ones see the new one.
    for (const st of c.states) { st.kernel(V, T, o); V[st.slot] = o[0]!; T[st.slot] = o[1]!; }
    if (record && s < last) { c.update(V, T, o); record[s * d + j] = o[0]!; }
  }
  c.update(V, T, o);
}

/** F^{(n)}(θ): the update at step n on the constant history θ_0 = … = θ_n = θ, exact finite n. */
export function oracleDirection(input: OracleInput): Float64Array {
  return directionOn(setup(input), input.theta, input.n, (_, j) => input.g[j]!);
}

/** M^{(n)}(θ) = Σ_{k=1}^{n} J_k·D_k, as the directional derivative of the step-n update along history(ε). */
export function oracleCorrection(input: OracleInput): Float64Array {
  return correctionOn(setup(input), input.theta, input.n, (_, j) => input.g[j]!, () => input.hessian);
}

/**
 * A bound on the rounding error of oracleCorrection: the same forward pass with every term
 * of every tangent taken by its magnitude (|H|, |F⁽ˢ⁾|), times a multiple of the unit
 * roundoff per step. Where M is a small difference of large contributions (Adam with
 * β₁ = β₂), the oracle itself keeps only that many digits.
 */
export function oracleCorrectionErrorBound(input: OracleInput): number {
  const abs = (a: Float64Array) => a.map(Math.abs);
  const S = setup({ ...input, hessian: abs(input.hessian) }, true);
  const scale = correctionOn(S, input.theta, input.n, (_, j) => input.g[j]!, () => abs(input.hessian), true);
  let max = 0;
  for (const x of scale) max = Math.max(max, Math.abs(x));
  return 256 * 2 ** -53 * max * Math.sqrt(input.n + 1);
}

/**
 * A batch history (docs/theory.md §7): step s sees batch order[s], whose gradient at θ is
 * batchGrads[order[s]] and whose Hessian is batchHessians[order[s]].
 */
export interface BatchOracleInput extends Omit<OracleInput, 'g' | 'hessian'> {
  batchGrads: readonly Float64Array[];
  batchHessians: readonly Float64Array[];
  /** order[s] for s = 0..n. */
  order: readonly number[];
}

function batchSetup(input: BatchOracleInput): [Setup, GradientAt, (s: number) => Float64Array] {
  const { batchGrads, batchHessians, order, n } = input;
  if (order.length < n + 1) throw new Error(`oracle: the batch order has ${order.length} entries, need n + 1 = ${n + 1}`);
  for (const b of order) if (!batchGrads[b] || !batchHessians[b]) throw new Error(`oracle: batch ${b} has no gradient or Hessian`);
  const S = setup({ ...input, g: batchGrads[order[0]!]!, hessian: batchHessians[order[0]!]! });
  return [S, (s, j) => batchGrads[order[s]!]![j]!, (s) => batchHessians[order[s]!]!];
}

/** F^{(n)}(θ) on a batch history: the update at step n when every past iterate is θ. */
export function oracleBatchDirection(input: BatchOracleInput): Float64Array {
  const [S, gAt] = batchSetup(input);
  return directionOn(S, input.theta, input.n, gAt);
}

/** The pathwise M^{(n)}(θ) on a batch history, from the definition (J_k reads H of batch order[n−k]). */
export function oracleBatchCorrection(input: BatchOracleInput): Float64Array {
  const [S, gAt, hessianAt] = batchSetup(input);
  return correctionOn(S, input.theta, input.n, gAt, hessianAt);
}

function directionOn(S: Setup, theta: Float64Array, n: number, gAt: GradientAt): Float64Array {
  const out = new Float64Array(S.d);
  for (let j = 0; j < S.d; j++) { run(S, j, gAt, theta[j]!, n); out[j] = S.o[0]!; }
  return out;
}

function correctionOn(S: Setup, theta: Float64Array, n: number, gAt: GradientAt, hessianAt: (s: number) => Float64Array, majorant = false): Float64Array {
  const { d } = S;
  // F^{(s)}(θ) for s < n, from one constant-history run per coordinate.
  const F = new Float64Array(n * d);
  for (let j = 0; j < d; j++) run(S, j, gAt, theta[j]!, n, undefined, undefined, F);
  if (majorant) for (let i = 0; i < F.length; i++) F[i] = Math.abs(F[i]!);
  // Per unit ε: θ_s − θ = D_{n−s} = Σ_{t=s}^{n−1} F^{(t)} (so zero at s = n), and g_s − g = H_s·(θ_s − θ).
  const dTh = new Float64Array((n + 1) * d), dG = new Float64Array((n + 1) * d);
  for (let s = n - 1; s >= 0; s--) {
    const H = hessianAt(s);
    for (let j = 0; j < d; j++) dTh[s * d + j] = dTh[(s + 1) * d + j]! + F[s * d + j]!;
    for (let i = 0; i < d; i++) {
      let acc = 0;
      for (let l = 0; l < d; l++) acc += H[i * d + l]! * dTh[s * d + l]!;
      dG[s * d + i] = acc;
    }
  }
  const out = new Float64Array(d);
  for (let j = 0; j < d; j++) { run(S, j, gAt, theta[j]!, n, dG, dTh); out[j] = S.o[1]!; }
  return out;
}
