/**
 * The memory correction of a matrix rule (docs/matrix-optimizers.md §1, docs/theory.md §2, §6).
 *
 * Every state is an EMA s ← a·s + B(g, θ) with a constant |a| < 1 and a drive B that reads
 * neither n nor other states, so sₙ₊₁ = Σ_{k=0}^{n} aᵏ B(θₙ₋ₖ) and, on the constant history,
 * sₙ₊₁ = c(n)·B with c(n) = (1 − a^{n+1})/(1 − a) (prev(s) = sₙ: (1 − aⁿ)/(1 − a)). The
 * derivative of the update with respect to θₙ₋ₖ (k ≥ 1) acts only through the states:
 *
 *   Jₖ[V] = Σᵢ aᵢᵏ·Tᵢ[V] + aᵢ^(k−1)·T'ᵢ[V],   Tᵢ[V] = D_{sᵢ}U[ DBᵢ(g, θ)[H V, V] ]
 *
 * (T' through prev(sᵢ), lags k ≤ n). With F⁽ˢ⁾ = F for all s (bias-corrected or
 * scale-invariant updates), Dₖ = k·F and M⁽ⁿ⁾ = Σᵢ wᵢ Tᵢ[F] + w'ᵢ T'ᵢ[F] with
 * wᵢ = Σ_{k=1}^{n} k aᵢᵏ, w'ᵢ = Σ_{k=1}^{n} k aᵢ^(k−1) in closed form (asymptotically
 * aᵢ/(1−aᵢ)² and 1/(1−aᵢ)²). Rewrites are checked numerically at random points.
 */
import * as E from '../ir/expr.js';
import type { Expr } from '../ir/expr.js';
import { RuleError, InternalError, type Diagnostic } from '../ir/diagnostics.js';
import { bound, fromDomain, isContraction, isPositive, type Interval } from '../ir/intervals.js';
import { prevName, type MatrixRule } from '../ir/rule.js';
import { toNumber } from '../ir/rational.js';
import { dict } from '../ir/dict.js';
import { show } from '../ir/show.js';
import { normalForm } from '../derive/simplify.js';
import { sumClosedForm } from '../derive/exp-poly.js';
import { checkIdentity, prng } from '../derive/check.js';
import type { Regime } from '../derive/types.js';
import * as M from './expr.js';
import type { MExpr } from './expr.js';
import { frechet } from './diff.js';
import { MatrixEvaluator } from './eval.js';
import * as LA from './linalg.js';

export { FIELD, HVP } from './expr.js';
import { FIELD, HVP } from './expr.js';
import { interpretMatrix, type MatrixInterpretation } from './interpret.js';

export interface MatrixState {
  readonly name: string;
  readonly rows: M.Dim;
  readonly cols: M.Dim;
  readonly sym: boolean;
  /** s ← decay·s + drive. */
  readonly decay: Expr;
  readonly drive: MExpr;
  /** s_{n+1} = newValue·drive and s_n = prevValue·drive on the constant history (exact n, or n → ∞). */
  readonly newValue: Expr;
  readonly prevValue: Expr;
}

/** One part of M: weight · operator, the operator linear in E = H[V] (and V). */
export interface MatrixTerm {
  readonly state: string;
  /** Through prev(state) (lags k ≤ n with weight a^(k−1)) rather than the new value. */
  readonly prev: boolean;
  /** Σ_{k=1}^{n or ∞} k·aᵏ (or k·a^(k−1)). */
  readonly weight: Expr;
  readonly operator: MExpr;
  /**
   * Exact n with a constant-history update that depends on the step (no bias correction):
   * this term's field is V = Σ_{s=0}^{n−1} weight(s)·F⁽ˢ⁾ (weight reads n and s, F reads s)
   * instead of F, and `weight` above is 1.
   */
  readonly past?: { readonly weight: Expr; readonly F: MExpr };
}

export interface MatrixSum { readonly summand: Expr; readonly index: string; readonly lo: Expr; readonly hi?: Expr; readonly value: Expr }

export interface MatrixRegimeResult {
  readonly regime: Regime;
  readonly states: readonly MatrixState[];
  /** The update on the constant history: F⁽ⁿ⁾ (exact-n) or its limit. */
  readonly F: MExpr;
  readonly terms: readonly MatrixTerm[];
  /** Σ weight·operator, in the leaves g, theta, V and E (V = F, or each term's own field when `pastSums`). */
  readonly M: MExpr;
  /** The terms carry their own fields, sums over the past updates F⁽ˢ⁾ (see MatrixTerm.past). */
  readonly pastSums: boolean;
  readonly sums: readonly MatrixSum[];
}

export interface MatrixDerivation {
  readonly kind: 'matrix';
  readonly rule: MatrixRule;
  readonly asymptotic: MatrixRegimeResult;
  /** The exact finite-n result. */
  readonly exactN: MatrixRegimeResult;
  /** Numeric: is F a gradient, and the sign of the map K in M = K[H[F]]. */
  readonly interpretation: MatrixInterpretation;
  readonly assumptions: readonly string[];
  readonly notes: readonly string[];
}

const n = E.sym('n');
const K = '@K';

export function deriveMatrix(rule: MatrixRule): MatrixDerivation {
  const domains = new Map<string, Interval>(rule.params.map((p) => [p.name, fromDomain(p.domain)]));
  const linear = analyzeMatrixStates(rule, domains);
  const assumptions = new Set<string>([
    'the arguments of pow are positive definite along the trajectory (eps > 0 or full-rank gradients), and the arguments of msign have full rank',
  ]);
  const notes = new Set<string>();
  const ctx = { rule, domains, linear, assumptions };
  const asymptotic = deriveRegime(ctx, 'asymptotic');
  const Fn = constantHistoryUpdate(ctx, 'exact-n');
  const pastSums = M.coefficients(Fn).some((c) => E.hasSymbol(c, 'n'));
  if (pastSums)
    notes.add('in the exact-n regime the constant-history update F⁽ˢ⁾ depends on s (no bias correction), so each term of M acts on its own field, a finite sum Σ_{s=0}^{n−1} R(s)·F⁽ˢ⁾ over the past updates, evaluated by a loop');
  const exactN = deriveRegime(ctx, 'exact-n', pastSums);
  const partial = { kind: 'matrix' as const, rule, asymptotic, exactN, assumptions: [...assumptions], notes: [...notes] };
  return Object.freeze({ ...partial, interpretation: interpretMatrix(partial) });
}

interface Ctx {
  readonly rule: MatrixRule;
  readonly domains: ReadonlyMap<string, Interval>;
  readonly linear: readonly { name: string; decay: Expr; drive: MExpr }[];
  readonly assumptions: Set<string>;
}

/** Splits every state into decay·s + drive and checks that the memory decays. */
function analyzeMatrixStates(rule: MatrixRule, domains: ReadonlyMap<string, Interval>) {
  const diagnostics: Diagnostic[] = [];
  const out: { name: string; decay: Expr; drive: MExpr }[] = [];
  const stateNames = rule.states.flatMap((s) => [s.name, prevName(s.name)]);
  for (const st of rule.states) {
    const own = prevName(st.name);
    const terms = st.rhs.kind === 'add' ? st.rhs.terms : [st.rhs];
    let decay: Expr = E.ZERO;
    const drive: MExpr[] = [];
    for (const t of terms) {
      const [c, a] = M.splitScale(t);
      if (a.kind === 'leaf' && a.name === own) decay = E.add(decay, c);
      else drive.push(t);
    }
    const B = M.add(...drive);
    const span = st.span;
    if (M.readsLeaf(B, own)) {
      diagnostics.push({ code: 'rule/not-linear', span, message: `state '${st.name}' is not linear in its own previous value (its recursion must read s = a*s + b)` });
      continue;
    }
    const free = [...E.freeSymbols(decay)].filter((s) => !domains.has(s));
    if (free.length) {
      diagnostics.push({ code: 'rule/not-linear', span, message: `the coefficient of '${st.name}' in its own recursion, ${show(decay)}, depends on ${free.join(', ')}; it must be a constant built from parameters` });
      continue;
    }
    if (!isContraction(bound(decay, domains))) {
      const a = show(decay);
      const why = E.isOne(decay) ? `'${st.name}' keeps its previous value with coefficient 1, a running sum as in Adagrad` : `its coefficient ${a} can reach magnitude 1 on the parameter domain`;
      diagnostics.push({ code: 'rule/memory-not-decaying', span, message: `memory does not decay exponentially: ${why}; the memoryless expansion needs |a| < 1 (here a = ${a}; docs/theory.md §2)` });
      continue;
    }
    const other = stateNames.find((s) => s !== own && M.readsLeaf(B, s));
    if (other !== undefined) {
      diagnostics.push({ code: 'rule/cannot-derive', span, message: `state '${st.name}' reads the state '${other.replace(/@prev$/, '')}'; matrix rules whose states read other states are not derived by this version of memloss` });
      continue;
    }
    if (M.coefficients(B).some((c) => E.hasSymbol(c, 'n'))) {
      diagnostics.push({ code: 'rule/cannot-derive', span, message: `the input of state '${st.name}' depends on n; matrix rules need s = a*s + B with B free of n` });
      continue;
    }
    out.push({ name: st.name, decay: normalForm(decay), drive: B });
  }
  if (diagnostics.length) throw new RuleError(diagnostics);
  return out;
}

/** n → ∞ in a scalar coefficient whose n-dependence is through powers rⁿ with |r| < 1. */
function limitN(ctx: Ctx, e: Expr): Expr {
  const out = normalForm(E.mapBottomUp(e, (x) => {
    if (x.kind !== 'pow' || !E.hasSymbol(x.exp, 'n') || E.hasSymbol(x.base, 'n')) return x;
    const slope = normalForm(E.sub(E.subs(x.exp, { n: E.add(n, E.ONE) }), x.exp));
    const base = bound(x.base, ctx.domains);
    if (slope.kind === 'num' && toNumber(slope.value) > 0 && isContraction(base) && base.lo >= 0) return E.ZERO;
    return x;
  }));
  if (E.hasSymbol(out, 'n'))
    throw new RuleError({ code: 'rule/cannot-derive', span: ctx.rule.updateSpan, message: `cannot take n → ∞: the rule depends on n other than through decaying powers (${show(out)})` });
  const space = { domains: new Map(ctx.rule.params.map((p) => [p.name, p.domain])) };
  checkIdentity('limit n → ∞', e, out, space, { tol: 1e-6, fix: (env) => { env['n'] = 4000; for (const p of ctx.rule.params) if (p.domain.lo === 0 && p.domain.hi === 1) env[p.name] = Math.min(env[p.name]!, 0.9); } });
  return out;
}

/**
 * Simplifies a matrix expression on the constant history: coefficients to normal form
 * (their n → ∞ limit asymptotically), and positive scalings moved out of matrix functions:
 * msign(cA) = msign(A), (cA)^p = c^p A^p, D(cA)^p[X] = c^(p−1) D A^p[X], D msign(cA)[X] = D msign(A)[X]/c (c > 0).
 */
function simplify(ctx: Ctx, m: MExpr, regime: Regime): MExpr {
  const coef = (e: Expr) => (regime === 'asymptotic' ? limitN(ctx, e) : normalForm(e));
  const positive = (c: Expr) => isPositive(bound(c, ctx.domains));
  const go = (x: MExpr): MExpr => {
    const y = M.mapChildren(x, go, coef);
    switch (y.kind) {
      case 'msign': case 'pow': case 'dpow': case 'dmsign': {
        const [c, a] = M.splitScale(y.arg);
        if (E.isOne(c) || !positive(c)) return y;
        if (y.kind === 'msign') return M.msign(a);
        if (y.kind === 'pow') return M.scale(coef(E.pow(c, E.numR(y.p))), M.pow(a, y.p));
        if (y.kind === 'dpow') return M.scale(coef(E.pow(c, E.sub(E.numR(y.p), E.ONE))), M.dpow(a, y.p, y.dir));
        return M.scale(coef(E.pow(c, E.MINUS_ONE)), M.dmsign(a, y.dir));
      }
      default: return y;
    }
  };
  return go(m);
}

/** States replaced by their constant-history values. */
function onConstantHistory(ctx: Ctx, m: MExpr, regime: Regime): MExpr {
  const map = new Map<string, MExpr>();
  for (const s of ctx.linear) {
    const oneMinus = E.sub(E.ONE, s.decay);
    const newC = regime === 'asymptotic' ? E.pow(oneMinus, E.MINUS_ONE) : E.div(E.sub(E.ONE, E.pow(s.decay, E.add(n, E.ONE))), oneMinus);
    const prevC = regime === 'asymptotic' ? E.pow(oneMinus, E.MINUS_ONE) : E.div(E.sub(E.ONE, E.pow(s.decay, n)), oneMinus);
    map.set(s.name, M.scale(newC, s.drive));
    map.set(prevName(s.name), M.scale(prevC, s.drive));
  }
  return M.substitute(m, map);
}

function constantHistoryUpdate(ctx: Ctx, regime: Regime): MExpr {
  const raw = onConstantHistory(ctx, ctx.rule.update, regime === 'asymptotic' ? 'exact-n' : regime);
  const F = simplify(ctx, onConstantHistory(ctx, ctx.rule.update, regime), regime);
  checkMatrixIdentity(ctx, `constant-history update (${regime})`, raw, F, regime === 'asymptotic' ? 4000 : undefined);
  return F;
}

function deriveRegime(ctx: Ctx, regime: Regime, pastSums = false): MatrixRegimeResult {
  const F = constantHistoryUpdate(ctx, regime);
  const Fs = M.mapCoefficients(F, (c) => E.subs(c, { n: E.sym('s') }));
  const space = { domains: new Map(ctx.rule.params.map((p) => [p.name, p.domain])) };
  const sumCtx = { domains: ctx.domains, assume: (t: string) => ctx.assumptions.add(t) };
  const sums: MatrixSum[] = [];
  const hi = regime === 'asymptotic' ? undefined : n;
  const weightSum = (summand: Expr): Expr => {
    const value = sumClosedForm(summand, K, E.ONE, hi, sumCtx);
    if ('reason' in value) throw new InternalError(`weight sum: ${value.reason}`);
    const v = normalForm(value);
    if (hi) checkIdentity('Σ_{k=1}^{n} weight', E.sum(K, E.ONE, hi, summand), v, { ...space, indexRange: { n: [0, 40] } });
    else checkIdentity('Σ_{k≥1} weight', E.sum(K, E.ONE, E.num(3000), summand), v, space, { tol: 1e-6, fix: (env) => { for (const p of ctx.rule.params) if (p.domain.lo === 0 && p.domain.hi === 1) env[p.name] = Math.min(env[p.name]!, 0.9); } });
    const show = (e: Expr) => E.subs(e, { [K]: E.sym('k') });
    sums.push({ summand: show(summand), index: 'k', lo: E.ONE, ...(hi ? { hi } : {}), value: v });
    return v;
  };
  const dirs = new Map<string, MExpr>([['g', M.leaf(HVP, 'r', 'c')], ['theta', M.leaf(FIELD, 'r', 'c')]]);
  const terms: MatrixTerm[] = [];
  const k = E.sym(K);
  for (const s of ctx.linear) {
    const dB = frechet(s.drive, dirs);
    if (M.isZero(dB)) continue;
    for (const prev of [false, true]) {
      const leafName = prev ? prevName(s.name) : s.name;
      if (!M.readsLeaf(ctx.rule.update, leafName)) continue;
      const T = frechet(ctx.rule.update, new Map([[leafName, dB]]));
      if (M.isZero(T)) continue;
      const operator = simplify(ctx, onConstantHistory(ctx, T, regime), regime);
      if (M.isZero(operator)) continue;
      if (pastSums) {
        // Σ_{k=1}^{n} a^k D_k = Σ_{s=0}^{n−1} F⁽ˢ⁾ Σ_{k=n−s}^{n} a^k   (a^(k−1) through prev)
        const summand = E.pow(s.decay, prev ? E.sub(k, E.ONE) : k);
        const R = sumClosedForm(summand, K, E.sub(n, E.sym('s')), n, sumCtx);
        if ('reason' in R) throw new InternalError(`past weight: ${R.reason}`);
        const Rn = normalForm(R);
        checkIdentity('Σ_{k=n−s}^{n} weight', E.sum(K, E.sub(n, E.sym('s')), n, summand), Rn, { ...space, indexRange: { n: [0, 30], s: [0, 30] } });
        sums.push({ summand: E.subs(summand, { [K]: E.sym('k') }), index: 'k', lo: E.sub(n, E.sym('s')), hi: n, value: Rn });
        terms.push({ state: s.name, prev, weight: E.ONE, operator, past: { weight: Rn, F: Fs } });
        continue;
      }
      const weight = weightSum(E.mul(k, E.pow(s.decay, prev ? E.sub(k, E.ONE) : k)));
      terms.push({ state: s.name, prev, weight, operator });
    }
  }
  const Mx = M.add(...terms.map((t) => M.scale(t.weight, t.operator)));
  const states = ctx.linear.map((s) => {
    const st = ctx.rule.states.find((x) => x.name === s.name)!;
    const oneMinus = E.sub(E.ONE, s.decay);
    const value = (e: Expr) => (regime === 'asymptotic' ? normalForm(E.pow(oneMinus, E.MINUS_ONE)) : normalForm(E.div(E.sub(E.ONE, e), oneMinus)));
    return { name: s.name, rows: st.rows, cols: st.cols, sym: st.sym, decay: s.decay, drive: s.drive, newValue: value(E.pow(s.decay, E.add(n, E.ONE))), prevValue: value(E.pow(s.decay, n)) };
  });
  return { regime, states, F, terms, M: Mx, sums, pastSums };
}

/**
 * before ≡ after at random points: random r×c gradient and θ (r, c ∈ {2, 3}), parameters
 * inside their domains, n small (or `nFixed`), eps-like parameters left as sampled.
 */
function checkMatrixIdentity(ctx: Ctx, name: string, before: MExpr, after: MExpr, nFixed?: number): void {
  const rand = prng(777);
  const space = { domains: new Map(ctx.rule.params.map((p) => [p.name, p.domain])) };
  for (let i = 0; i < 4; i++) {
    const rows = 2 + (i % 2), cols = 3 - (i % 2);
    const mat = () => LA.mat(rows, cols, Float64Array.from({ length: rows * cols }, () => 2 * rand() - 1));
    const env = dict<number>();
    for (const p of ctx.rule.params) {
      const d = space.domains.get(p.name)!;
      const lo = Number.isFinite(d.lo) ? d.lo : -1, hi = Number.isFinite(d.hi) ? d.hi : lo + 2;
      env[p.name] = lo + (hi - lo) * (0.15 + 0.7 * rand());
      if (nFixed !== undefined && d.lo === 0 && d.hi === 1) env[p.name] = Math.min(env[p.name]!, 0.9);
    }
    env['n'] = nFixed ?? Math.floor(rand() * 12);
    const leaves = new Map([['g', mat()], ['theta', mat()], [HVP, mat()], [FIELD, mat()]]);
    const a = new MatrixEvaluator(leaves, env, { rows, cols }).eval(before);
    const b = new MatrixEvaluator(leaves, env, { rows, cols }).eval(after);
    let diff = 0, size = 1;
    for (let j = 0; j < a.data.length; j++) { diff = Math.max(diff, Math.abs(a.data[j]! - b.data[j]!)); size = Math.max(size, Math.abs(a.data[j]!)); }
    if (!(diff <= (nFixed !== undefined ? 1e-6 : 1e-9) * size) && Number.isFinite(diff))
      throw new InternalError(`rewrite '${name}' failed its random-point check (difference ${diff.toExponential(2)})`);
  }
}
