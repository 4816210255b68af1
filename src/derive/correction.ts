/**
 * Assembles M (docs/theory.md §2, §4): with D_k = Σ_{s=n−k}^{n−1} F⁽ˢ⁾(θ),
 *   M⁽ⁿ⁾ = Σ_{k=1}^{n} [ α(k) ∘ H D_k + β(k) ∘ D_k ],
 * α(k) = ∂F⁽ⁿ⁾/∂g_{n−k}, β(k) = ∂F⁽ⁿ⁾/∂θ_{n−k} (coordinate-wise, so J_k = diag(α)H + diag(β)).
 * Asymptotically D_k = k·F, so M = (Σ k α(k)) ∘ H F + (Σ k β(k)) ∘ F.
 * Exactly, α(k) = Σ_b c_b k^m r^k and Σ_k k^m r^k D_k = Σ_{s=0}^{n−1} R_b(s) F⁽ˢ⁾ with
 * R_b(s) = Σ_{k=n−s}^{n} k^m r^k; that sum over s is closed when F⁽ˢ⁾ is an exponential
 * polynomial in s and otherwise kept as a finite sum.
 */
import * as E from '../ir/expr.js';
import type { Expr } from '../ir/expr.js';
import type { CorrectionTerm, RegimeResult, UnrolledState } from './types.js';
import { applyDomains, collectBy, collected, factorCommon, normalForm } from './simplify.js';
import { bound, fromDomain, type Interval } from '../ir/intervals.js';
import { evaluate } from '../ir/eval.js';
import { decompose, splitIndexPowers } from './exp-poly.js';
import { checkIdentity, type SampleSpace } from './check.js';
import { factoredParameterSums } from './factor.js';
import { J, K, NoClosedForm, Unroller, type UnrollContext } from './unroll.js';
import { RuleError } from '../ir/diagnostics.js';
import { prevName } from '../ir/rule.js';
import { show } from '../ir/show.js';

/**
 * Whether κ(params) cannot vanish on the domain: its bound excludes 0, or it keeps one sign
 * and is non-zero at every attained finite end of every parameter's domain (where a bound
 * that only tends to 0, as 1/(ε + …) for ε → ∞, does not reach it).
 */
function nonZero(kappa: Expr, domains: ReadonlyMap<string, Interval>, rule: UnrollContext['rule']): boolean {
  const i = bound(kappa, domains);
  if (i.lo > 0 || i.hi < 0) return true;
  if (i.lo < 0 && i.hi > 0) return false;
  const defaults = Object.fromEntries(rule.params.map((p) => [p.name, Number(p.valueText)]));
  for (const p of rule.params)
    for (const [end, attained] of [[p.domain.lo, !p.domain.loOpen], [p.domain.hi, !p.domain.hiOpen]] as const) {
      if (!attained || !Number.isFinite(end)) continue;
      const v = evaluate(kappa, { ...defaults, [p.name]: end });
      if (v === 0 || Number.isNaN(v)) return false;
    }
  return true;
}

const VARS = ['g', 'theta'];
const COMBINE_LIMIT = 400;
const k = E.sym(K);
const n = E.sym('n');
const s = E.sym('@s');

/** Renames the internal lag symbol to `k` and the state time J to n, for recorded output. */
const publish = (e: Expr) => E.subs(e, { [K]: E.sym('k'), [J]: n, '@s': E.sym('s') });

/** A recorded weight for display: common factors pulled out of each g-group (checked). */
function display(name: string, e: Expr, space: SampleSpace): Expr {
  const out = E.add(...collectBy(e, VARS).map((t) => E.mul(factorCommon(t.coefficient), t.rest)));
  checkIdentity(name, e, out, space);
  return out;
}

/**
 * e = Σ c(params)·r(g, θ): the readable grouping, checked at random points. With `combine`,
 * e is first brought over one denominator, so parts that cancel do (weights); without it the
 * parts keep their own denominators (updates and fields read better that way).
 */
export function tidy(name: string, e: Expr, space: SampleSpace, combine = false): Expr {
  const domains = new Map([...space.domains].map(([k, d]) => [k, fromDomain(d)]));
  // one denominator only while that stays small: its expansion grows with the product of the parts
  const together = combine && E.size(e) <= COMBINE_LIMIT ? normalForm(e) : e;
  const out = factoredParameterSums(collected(applyDomains(together, domains), VARS), space);
  checkIdentity(name, e, out, space);
  return out;
}

/** Adds terms that share kind and field; drops zero weights. */
export function combineTerms(terms: readonly CorrectionTerm[], space: SampleSpace): CorrectionTerm[] {
  const groups = new Map<string, { kind: CorrectionTerm['kind']; field: Expr; weights: Expr[] }>();
  for (const t of terms) {
    const key = `${t.kind}|${E.key(t.field)}`;
    const g = groups.get(key);
    if (g) g.weights.push(t.weight);
    else groups.set(key, { kind: t.kind, field: t.field, weights: [t.weight] });
  }
  const out: CorrectionTerm[] = [];
  for (const g of groups.values()) {
    const weight = tidy('weight of M', E.add(...g.weights), space, true);
    if (!E.isZero(weight) && !E.isZero(g.field)) out.push({ kind: g.kind, weight, field: g.field });
  }
  return out;
}

/** Splits a field V = Σ cᵢ(params, n)·rᵢ(g, θ) into terms with canonical fields (H is linear). */
function splitField(kind: CorrectionTerm['kind'], weight: Expr, field: Expr): CorrectionTerm[] {
  return collectBy(field, VARS).map((t) => ({ kind, weight: E.mul(weight, t.coefficient), field: t.rest }));
}

/** A lag weight is read at k ≥ 1 only, where the Kronecker factor [k = 0] of a decay-0 state is 0. */
function atLagsFromOne(name: string, e: Expr, space: SampleSpace): Expr {
  const dropped = E.mapBottomUp(e, (x) => (x.kind === 'pow' && E.isZero(x.base) && x.exp === k ? E.ZERO : x));
  if (dropped === e) return e;
  const out = collected(dropped);
  checkIdentity(name, e, out, space, { fix: (env) => { if (env[K] !== undefined && env[K]! < 1) env[K] = 1; } });
  return out;
}

/**
 * abs or sign of an expression that is 0 on the constant history (a state that tends to 0,
 * g − m): neither has a derivative there, and sign(0) is not the ±1 the optimizer sees.
 */
function refuseKinksAtZero(ctx: UnrollContext, un: Unroller): void {
  const memory = new Set(['g', 'theta', ...ctx.rule.states.flatMap((s) => [s.name, prevName(s.name)])]);
  const where = [{ e: ctx.rule.update, span: ctx.rule.updateSpan }, ...ctx.rule.states.map((s) => ({ e: s.rhs, span: s.span }))];
  for (const { e, span } of where) {
    const kinks: E.Call[] = [];
    const visit = (x: Expr) => { if (x.kind === 'call' && (x.fn === 'abs' || x.fn === 'sign')) kinks.push(x); E.children(x).forEach(visit); };
    visit(e);
    for (const k of kinks) {
      if (![...E.freeSymbols(k.arg)].some((x) => memory.has(x))) continue;
      const value = tidy('a kink argument on the constant history', un.at(k.arg, n), ctx.space);
      if (E.isZero(value))
        throw new RuleError({ code: 'rule/non-differentiable', span, message: `${show(k)} is taken where its argument is 0 on a constant history, and ${k.fn} has no derivative at 0: the expansion around a constant history does not apply; a smooth surrogate such as sqrt(x^2 + delta^2) in place of abs(x) does` });
    }
  }
}

export function deriveRegime(ctx: UnrollContext): RegimeResult {
  const un = new Unroller(ctx);
  if (ctx.regime === 'asymptotic') refuseKinksAtZero(ctx, un);
  const update = ctx.rule.update;
  const F = tidy('constant-history update', un.at(update, n), ctx.space);
  const states: UnrolledState[] = ctx.states.map((st) => ({
    name: st.name,
    decay: st.decay,
    constantHistory: publish(E.subs(un.values.get(st.name)!, { [J]: n })),
    weightG: publish(display(`history weight of ${st.name} in g`, un.sensitivity(st.name, 'g'), ctx.space)),
    weightTheta: publish(display(`history weight of ${st.name} in θ`, un.sensitivity(st.name, 'theta'), ctx.space)),
  }));
  const alpha = atLagsFromOne('lag weight in g', un.lagWeight(update, 'g'), ctx.space);
  const beta = atLagsFromOne('lag weight in θ', un.lagWeight(update, 'theta'), ctx.space);
  const terms: CorrectionTerm[] = [];
  if (ctx.regime === 'asymptotic') {
    for (const [lag, kind] of [[alpha, 'hvp'], [beta, 'field']] as const) {
      if (E.isZero(lag)) continue;
      const A = un.sum('Σ_{k≥1} k·(lag weight)', E.mul(k, lag), K, E.ONE, undefined, true);
      // field F/κ, weight κA, with κ the parameter factor of F's first part: H g/(1−β) reads (1/(1−β))·H g
      // only a κ that cannot vanish on the domain: at κ = 0 the split F/κ · κA is 0·∞ (and wrong)
      const first = collectBy(F, VARS).find((t) => E.hasSymbol(t.rest, 'g'))?.coefficient;
      const kappa = first && nonZero(first, ctx.domains, ctx.rule) ? first : E.ONE;
      terms.push({ kind, weight: E.mul(A, kappa), field: tidy('normalized field', E.div(F, kappa), ctx.space) });
    }
  } else {
    const Fs = E.subs(F, { n: s });
    for (const [lag, kind] of [[alpha, 'hvp'], [beta, 'field']] as const) {
      if (E.isZero(lag)) continue;
      const bases = decompose(lag, K);
      if ('reason' in bases) throw new NoClosedForm(`lag weight: ${bases.reason}`);
      for (const b of bases) {
        // the coefficient's index powers (βⁿ) travel with the lag basis ((1/β)ᵏ), so that
        // their product, bounded, is what the code evaluates (not β⁻ⁿ overflowing alone)
        const [indexPart, weight] = splitIndexPowers(b.coef);
        const phi = E.mul(indexPart, E.pow(k, E.num(b.degree)), E.pow(b.rate, k));
        const R = un.sum('Σ_{k=n−s}^{n} (lag basis)', phi, K, E.sub(n, s), n);
        let V: Expr;
        try {
          V = un.sum('Σ_{s=0}^{n−1} R(s)·F⁽ˢ⁾', E.mul(R, Fs), '@s', E.ZERO, E.sub(n, E.ONE), true);
        } catch (err) {
          if (!(err instanceof NoClosedForm)) throw err;
          // F⁽ˢ⁾ is not an exponential polynomial in s (e.g. 1/√(1−β^{s+1})): an exact finite sum
          V = E.sum('s', E.ZERO, E.sub(n, E.ONE), publish(E.mul(R, Fs)));
          ctx.notes.add('in the exact-n regime the sum over past updates F⁽ˢ⁾ has no closed form here and is kept as a finite sum over s');
        }
        terms.push(...splitField(kind, weight, V));
      }
    }
  }
  return {
    regime: ctx.regime,
    F,
    states,
    lagWeightG: publish(display('lag weight in g', alpha, ctx.space)),
    lagWeightTheta: publish(display('lag weight in θ', beta, ctx.space)),
    sums: ctx.sums.map((x) => ({ ...x, summand: publish(x.summand), lo: publish(x.lo), hi: x.hi && publish(x.hi), value: publish(x.value), index: x.index === K ? 'k' : x.index === '@s' ? 's' : x.index })),
    M: combineTerms(terms, ctx.space),
  };
}
