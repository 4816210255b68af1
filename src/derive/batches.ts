/**
 * Mini-batches (docs/theory.md §7): the pathwise correction for a batch order π and its
 * expectation over random reshuffling, for rules whose memory is linear in the gradients.
 *
 * On a batch history F⁽ˢ⁾(θ) = Σ_{j≥0} c_j ∇L_{π(s−j)}(θ) + E·θ, and J_k = c_k H_{π(n−k)} + d_k I,
 * so with D_k = Σ_{s=n−k}^{n−1} F⁽ˢ⁾(θ) the definition of M gives
 *   M⁽ⁿ⁾ = Σ_{k,l≥1} W(k,l) H_{π(n−k)} ∇L_{π(n−l)} + E Σ_k k c_k H_{π(n−k)} θ + Σ_k d_k D_k,
 *   W(k,l) = c_k Σ_{j=max(0,l−k)}^{l−1} c_j.
 * Under reshuffling, E[H_{π(a)}∇L_{π(b)}] is H∇L + ½∇V·κ, with κ = 1 when a = b, −1/(m−1)
 * when a ≠ b fall in the same epoch (probability (1 − |a−b|/m)₊ over the epoch's phase) and 0
 * across epochs; V = (1/m)Σᵢ‖∇Lᵢ − ∇L‖². Terms linear in ∇L_π or H_π have the full-batch mean.
 * So E[M] = M_full + γ·∇V with
 *   γ = ½ [ Σ_k W(k,k) − (1/(m−1)) Σ_{d=1}^{m−1} (1 − d/m) Σ_k (W(k,k+d) + W(k+d,k)) ].
 * Every finite sum is checked at random points; γ as a whole is checked against the literal
 * (truncated) double sum.
 */
import * as E from '../ir/expr.js';
import type { Expr } from '../ir/expr.js';
import { InternalError, RuleError } from '../ir/diagnostics.js';
import { evaluate } from '../ir/eval.js';
import { hasInitialValue, prevName, type Rule } from '../ir/rule.js';
import { diff } from './diff.js';
import { show } from '../ir/show.js';
import type { BatchDerivation, BatchWeights, Derivation, RecordedSum, RegimeResult } from './types.js';
import { paramDomains } from './analyze.js';
import { collectBy } from './simplify.js';
import { sumClosedForm } from './exp-poly.js';
import { checkIdentity, prng, samplePoint, type SampleSpace } from './check.js';
import { tidy } from './correction.js';

const K = '@K', L = '@l', D = '@d', J = '@u', M = '@m';
const k = E.sym(K), l = E.sym(L), d = E.sym(D), j = E.sym(J), m = E.sym(M);

/** Thrown (as a located rule error) when the memory is not linear in the gradients. */
function notLinear(rule: Rule, why: string): RuleError {
  return new RuleError({
    code: 'rule/cannot-derive', span: rule.updateSpan,
    message: `cannot derive the mini-batch correction in closed form: ${why}. On a batch history the weights of past gradients then depend on the mix of past batch gradients, so the pathwise M has history-dependent weights and its expectation over reshuffling is the mean of a nonlinear function of the batch gradients, which has no closed form in per-batch gradients and Hessians (closed forms exist for rules linear in the gradients: SGD, heavy-ball, Nesterov, QHM, …)`,
  });
}

interface Context {
  readonly rule: Rule;
  readonly space: SampleSpace;
  readonly domains: ReturnType<typeof paramDomains>;
  readonly assumptions: Set<string>;
  readonly sums: RecordedSum[];
}

/** The published lag symbols k, n of a regime result, as the internal index symbols. */
const internal = (e: Expr) => E.subs(e, { k });

function sum(ctx: Context, name: string, summand: Expr, index: string, lo: Expr, hi: Expr | undefined, record = false): Expr {
  const r = sumClosedForm(summand, index, lo, hi, { domains: ctx.domains, assume: (t) => ctx.assumptions.add(t), kronecker: true });
  if ('reason' in r) throw new InternalError(`${name}: ${r.reason}`);
  if (hi) checkIdentity(`closed-form ${name}`, E.sum(index, lo, hi, summand), r, ctx.space, { fix: fixIndices });
  const out = tidy(`simplified ${name}`, r, ctx.space);
  if (record) ctx.sums.push({ summand, index, lo, hi, value: out });
  return out;
}

/** Index ranges for checks: lags ≥ 1, n ≥ lags, at least two batches. */
function fixIndices(env: Record<string, number>): void {
  for (const s of [K, L, D]) if (env[s] !== undefined && env[s]! < 1) env[s] = 1;
  if (env[M] !== undefined && env[M]! < 2) env[M] = 2;
  if (env['n'] !== undefined && env[K] !== undefined && env[K]! > env['n']!) env['n'] = env[K]!;
}

/**
 * Why the rule is not linear in the gradients, or undefined when it is: the update and every
 * state's recursion must be affine in g, θ and the states, with constant coefficients. (On a
 * constant history a nonlinear rule can look linear: AdaBelief's (g − m)² has zero derivative
 * there, but not on a batch history, where g − m ≠ 0.)
 */
function nonlinearity(rule: Rule): string | undefined {
  const vars = new Set(['g', 'theta', ...rule.states.flatMap((s) => [s.name, prevName(s.name)])]);
  const exprs: [string, Expr][] = [['the update', rule.update], ...rule.states.map((s) => [`state '${s.name}'`, s.rhs] as [string, Expr])];
  for (const [what, e] of exprs)
    for (const v of vars) {
      const dv = diff(e, v);
      const reads = [...E.freeSymbols(dv)].filter((x) => vars.has(x));
      if (reads.length) return `${what} is not linear in ${v === 'g' ? 'the gradient' : v === 'theta' ? 'θ' : `'${v.replace(/@prev$/, '')}'`} (its derivative reads ${reads.map((x) => x.replace(/@prev$/, '')).join(', ')}: the rule is adaptive)`;
    }
  return undefined;
}

/** The batch weights of one regime, or why the memory is not linear in the gradients. */
function weightsOf(ctx: Context, r: RegimeResult): BatchWeights | string {
  const why = nonlinearity(ctx.rule);
  if (why) return why;
  const started = ctx.rule.states.filter(hasInitialValue).map((s) => `'${s.name}'`);
  if (r.regime === 'exact-n' && started.length)
    return `state ${started.join(', ')} starts away from 0, so F⁽ⁿ⁾ carries a decaying part that is no weight of a past gradient or iterate`;
  const alpha = internal(r.lagWeightG);
  const beta = internal(r.lagWeightTheta);
  let C: Expr = E.ZERO, thetaCoefficient: Expr = E.ZERO;
  for (const t of collectBy(r.F, ['g', 'theta'])) {
    if (t.rest === E.sym('g')) C = E.add(C, t.coefficient);
    else if (t.rest === E.sym('theta')) thetaCoefficient = E.add(thetaCoefficient, t.coefficient);
    else return `the update on a constant history, ${show(r.F)}, is not linear in the gradient`;
  }
  const exact = r.regime === 'exact-n';
  // c₀ = C − Σ_{k=1}^{n} c(k): the weight of the current gradient
  const past = E.isZero(alpha) ? E.ZERO : sum(ctx, `Σ_{k≥1} c(k) (${r.regime})`, alpha, K, E.ONE, exact ? E.sym('n') : undefined);
  const current = tidy('weight of the current gradient', E.sub(C, past), ctx.space);
  return { regime: r.regime, current, lagG: alpha, lagTheta: beta, thetaCoefficient };
}

/** Renames the internal symbols for output. */
function publisher(rule: Rule): { publish: (e: Expr) => Expr; publishName: (s: string) => string; batchSymbol: string; gradientLagSymbol: string } {
  const taken = new Set(rule.params.map((p) => p.name));
  const batchSymbol = taken.has('m') ? 'm_batches' : 'm';
  const gradientLagSymbol = taken.has('l') ? 'l_lag' : 'l';
  const names = new Map([[K, 'k'], [L, gradientLagSymbol], [D, 'd'], [J, 'j'], [M, batchSymbol]]);
  const map = new Map([...names].map(([from, to]) => [from, E.sym(to)]));
  return { publish: (e) => E.subs(e, map), publishName: (s) => names.get(s) ?? s, batchSymbol, gradientLagSymbol };
}

function context(rule: Rule): Context {
  const space: SampleSpace = { domains: new Map(rule.params.map((p) => [p.name, p.domain])), indexRange: { [M]: [2, 12], [K]: [1, 12], [L]: [1, 12], [D]: [1, 12] } };
  return { rule, space, domains: paramDomains(rule), assumptions: new Set(), sums: [] };
}

interface LinearWeights { readonly asymptotic: BatchWeights; readonly exactN?: BatchWeights | { readonly unavailable: string } }

function weightsOfBoth(ctx: Context, deriv: Derivation): LinearWeights | string {
  const asymptotic = weightsOf(ctx, deriv.asymptotic);
  if (typeof asymptotic === 'string') return asymptotic;
  let exactN: BatchWeights | { unavailable: string } | undefined;
  if (deriv.exactN) {
    if ('unavailable' in deriv.exactN) exactN = { unavailable: deriv.exactN.unavailable };
    else {
      const w = weightsOf(ctx, deriv.exactN);
      exactN = typeof w === 'string' ? { unavailable: w } : w;
    }
  }
  return { asymptotic, ...(exactN ? { exactN } : {}) };
}

/**
 * The history weights of a rule linear in the gradients (lags read k, exact-n forms n), for
 * generated code; undefined when the memory is not linear in the gradients.
 */
export function linearHistoryWeights(deriv: Derivation): LinearWeights | undefined {
  const w = weightsOfBoth(context(deriv.rule), deriv);
  if (typeof w === 'string') return undefined;
  const { publish } = publisher(deriv.rule);
  return { asymptotic: publishWeights(w.asymptotic, publish), ...(w.exactN ? { exactN: 'unavailable' in w.exactN ? w.exactN : publishWeights(w.exactN, publish) } : {}) };
}

const publishWeights = (w: BatchWeights, publish: (e: Expr) => Expr): BatchWeights =>
  ({ ...w, lagG: publish(w.lagG), lagTheta: publish(w.lagTheta), current: publish(w.current), thetaCoefficient: publish(w.thetaCoefficient) });

export function deriveBatches(deriv: Derivation, batches: number): BatchDerivation {
  const rule = deriv.rule;
  if (!Number.isInteger(batches) || batches < 1) throw new RangeError(`the number of batches must be a positive integer, got ${batches}`);
  const ctx = context(rule);
  const space = ctx.space;
  const both = weightsOfBoth(ctx, deriv);
  if (typeof both === 'string') throw notLinear(rule, both);
  const { asymptotic, exactN } = both;

  // ĉ(j): the lag weight's formula, used for every j ≥ 0; δ₀ = c₀ − ĉ(0) corrects j = 0
  const cHat = (at: Expr) => E.subs(asymptotic.lagG, { [K]: at });
  const delta0 = tidy('δ₀', E.sub(asymptotic.current, cHat(E.ZERO)), space);
  const C = tidy('weight of ∇L in F', E.add(asymptotic.current, E.isZero(asymptotic.lagG) ? E.ZERO : sum(ctx, 'Σ_{k≥1} c(k)', asymptotic.lagG, K, E.ONE, undefined)), space);
  const notes = new Set<string>();
  let pairWeight = { lagAtMostK: E.ZERO as Expr, lagAboveK: E.ZERO as Expr };
  let fullBatchWeight: Expr = E.ZERO;
  let gamma: Expr = E.ZERO;
  let gammaManyBatches: Expr = E.ZERO;
  let sameEpochPart: Expr = E.ZERO;
  if (!E.isZero(asymptotic.lagG)) {
    // P(x) = Σ_{j=0}^{x−1} ĉ(j)
    const P = sum(ctx, 'P(k) = Σ_{j=0}^{k−1} ĉ(j)', cHat(j), J, E.ZERO, E.sub(k, E.ONE), true);
    const Pat = (x: Expr) => E.subs(P, { [K]: x });
    pairWeight = {
      lagAtMostK: tidy('W(k, l ≤ k)', E.mul(cHat(k), E.add(delta0, Pat(l))), space),
      lagAboveK: tidy('W(k, l > k)', E.mul(cHat(k), E.sub(Pat(l), Pat(E.sub(l, k)))), space),
    };
    fullBatchWeight = tidy('full-batch weight', E.mul(sum(ctx, 'Σ_{k≥1} k·c(k)', E.mul(k, cHat(k)), K, E.ONE, undefined), C), space, true);
    const diagonal = sum(ctx, 'Σ_{k≥1} W(k,k)', E.mul(cHat(k), E.add(delta0, Pat(k))), K, E.ONE, undefined, true);
    const offDiagonal = sum(ctx, 'T(d) = Σ_{k≥1} W(k,k+d) + W(k+d,k)',
      E.add(E.mul(cHat(k), E.sub(Pat(E.add(k, d)), Pat(d))), E.mul(cHat(E.add(k, d)), E.add(delta0, Pat(k)))), K, E.ONE, undefined, true);
    const sameEpoch = sum(ctx, 'Σ_{d=1}^{m−1} (1 − d/m)·T(d)', E.mul(E.sub(E.ONE, E.div(d, m)), offDiagonal), D, E.ONE, E.sub(m, E.ONE), true);
    // γ = γ∞ − ρ(m)/(m − 1): Σ_d T(d) converges, so the same-epoch part vanishes like 1/m
    gammaManyBatches = tidy('γ as m → ∞', E.mul(E.HALF, diagonal), space, true);
    sameEpochPart = tidy('ρ(m), the same-epoch part of γ', E.mul(E.HALF, sameEpoch), space, true);
    gamma = E.sub(gammaManyBatches, E.div(sameEpochPart, E.sub(m, E.ONE)));
    checkNoiseCoefficient(rule, gamma, asymptotic, space);
    notes.add('the expectation is over the permutations and over the position of step n within its epoch (uniform), i.e. where the epoch boundaries fall; with m = 1 there is no noise and E[M] = M');
  } else notes.add('the update has no memory of past gradients: M and its mini-batch noise term vanish');

  const env = Object.fromEntries(rule.params.map((p) => [p.name, Number(p.valueText)]));
  const noiseCoefficientValue = batches === 1 ? 0 : evaluate(gamma, { ...env, [M]: batches });
  const { publish, publishName, batchSymbol, gradientLagSymbol } = publisher(rule);
  const pubWeights = (w: BatchWeights) => publishWeights(w, publish);
  return {
    batches, batchSymbol, gradientLagSymbol,
    asymptotic: pubWeights(asymptotic),
    ...(exactN ? { exactN: 'unavailable' in exactN ? exactN : pubWeights(exactN) } : {}),
    pairWeight: { lagAtMostK: publish(pairWeight.lagAtMostK), lagAboveK: publish(pairWeight.lagAboveK) },
    fullBatchWeight: publish(fullBatchWeight),
    noiseCoefficient: publish(gamma),
    noiseCoefficientValue,
    noiseCoefficientManyBatches: publish(gammaManyBatches),
    noiseSameEpoch: publish(sameEpochPart),
    gradientCoefficient: publish(C),
    sums: ctx.sums.map((x) => ({ index: publishName(x.index), summand: publish(x.summand), lo: publish(x.lo), ...(x.hi ? { hi: publish(x.hi) } : {}), value: publish(x.value) })),
    assumptions: [...ctx.assumptions].sort(),
    notes: [...notes].sort(),
  };
}

/**
 * γ(m) against the literal double sum over lags, truncated where the weights have decayed
 * below 1e-17 of their largest value, at random parameters (memory coefficients ≤ 0.8 so
 * that the truncation stays short) and several m.
 */
function checkNoiseCoefficient(rule: Rule, gamma: Expr, w: BatchWeights, space: SampleSpace): void {
  const rand = prng(777);
  const params = rule.params.map((p) => p.name);
  for (const batches of [2, 3, 7]) {
    const env = samplePoint(params, space, rand);
    for (const p of rule.params) if (p.domain.lo >= 0 && p.domain.hi <= 1) env[p.name] = Math.min(env[p.name]!, 0.2 + 0.6 * rand());
    const c: number[] = [evaluate(w.current, env)];
    let largest = Math.abs(c[0]!);
    for (let lag = 1; lag < 20000; lag++) {
      const v = evaluate(w.lagG, { ...env, [K]: lag });
      c.push(v);
      largest = Math.max(largest, Math.abs(v));
      if (lag > 50 && Math.abs(v) < 1e-17 * largest && Math.abs(c[lag - 1]!) < 1e-17 * largest) break;
    }
    const cum = [0];
    for (const x of c) cum.push(cum[cum.length - 1]! + x);
    const W = (kk: number, ll: number) => (kk < c.length ? c[kk]! * (cum[ll]! - cum[Math.max(0, ll - kk)]!) : 0);
    let diag = 0, cross = 0;
    for (let kk = 1; kk < c.length; kk++) {
      diag += W(kk, kk);
      for (let dd = 1; dd < batches && kk + dd < c.length; dd++) cross += (1 - dd / batches) * (W(kk, kk + dd) + W(kk + dd, kk));
    }
    const literal = 0.5 * (diag - cross / (batches - 1));
    const closed = evaluate(gamma, { ...env, [M]: batches });
    if (!(Math.abs(literal - closed) <= 1e-8 * Math.max(1, Math.abs(literal))))
      throw new InternalError(`the noise coefficient γ(m) failed its check against the literal double sum at ${JSON.stringify({ ...env, m: batches })}: ${closed} vs ${literal}`);
  }
}
