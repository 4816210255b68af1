/**
 * Unrolls the states on a history (docs/theory.md §3): constant-history values and the
 * sensitivities σ(j, k) = ∂s_{j+1}/∂x_{j−k} (x = g or θ), as exponential polynomials.
 *
 * With s_{j+1} = a·s_j + b(t = j), s_{j+1} = Σ_{u=0}^{j} a^u b(j−u) + a^{j+1}·s_0 (s_0 the
 * state's initial value, a constant that decays away as n → ∞), so
 *   σᵢ(J, K) = a^K ∂b/∂x|_{J−K}
 *            + Σ_{u=0}^{K}   a^u Σ_l ∂b/∂s_l|_{J−u}      σ_l(J−u, K−u)      (new values of earlier states)
 *            + Σ_{u=0}^{K−1} a^u Σ_l ∂b/∂prev(s_l)|_{J−u} σ_l(J−u−1, K−u−1)  (previous values)
 * where |_t evaluates on the constant history at time t. In the asymptotic regime every
 * |_t is the n → ∞ limit and σ depends on K alone.
 */
import * as E from '../ir/expr.js';
import type { Expr } from '../ir/expr.js';
import { RuleError } from '../ir/diagnostics.js';
import { prevName, type Rule } from '../ir/rule.js';
import { bound, isContraction, isPositive, type Interval } from '../ir/intervals.js';
import { show } from '../ir/show.js';
import type { Regime, RecordedSum } from './types.js';
import type { LinearState } from './analyze.js';
import { diff } from './diff.js';
import { collected, normalForm } from './simplify.js';
import { sumClosedForm } from './exp-poly.js';
import { checkIdentity, type SampleSpace } from './check.js';

export const J = '@J';
export const K = '@K';
const U = '@u';
const j = E.sym(J);
const k = E.sym(K);
const u = E.sym(U);

/** Why a regime has no closed form; the caller decides whether that is an error. */
export class NoClosedForm extends Error {}

export interface UnrollContext {
  readonly rule: Rule;
  readonly regime: Regime;
  readonly states: readonly LinearState[];
  readonly domains: ReadonlyMap<string, Interval>;
  readonly space: SampleSpace;
  readonly assumptions: Set<string>;
  readonly notes: Set<string>;
  readonly sums: RecordedSum[];
}

/** Index ranges for checks: 0 ≤ K ≤ J ≤ 12, u inside its sum. */
const fixIndices = (env: Record<string, number>) => {
  if (env[J] !== undefined && env[K] !== undefined && env[K]! > env[J]!) [env[J], env[K]] = [env[K]!, env[J]!];
  if (env['n'] !== undefined && env[K] !== undefined && env[K]! > env['n']!) env[K] = env['n']!;
  if (env[K] !== undefined && env[K]! < 1 && env['n'] !== undefined) env[K] = 1;
  if (env['n'] !== undefined && env['n']! < 1) env['n'] = 1;
};

export class Unroller {
  readonly values = new Map<string, Expr>();
  private readonly sens = new Map<string, Expr>();
  private readonly decay = new Map<string, Expr>();
  private readonly drive = new Map<string, Expr>();

  constructor(readonly ctx: UnrollContext) {
    for (const s of ctx.states) {
      this.decay.set(s.name, s.decay);
      this.drive.set(s.name, s.drive);
    }
    for (const s of ctx.states) this.values.set(s.name, this.constantHistoryValue(s));
  }

  /** Simplifies, after checking the simplification at random points. */
  simplify(name: string, e: Expr): Expr {
    // group by the parts that depend on g and θ; only the parameter coefficients go to normal form
    const out = collected(e);
    checkIdentity(name, e, out, this.ctx.space, { fix: fixIndices });
    return out;
  }

  /** Σ_{index=lo}^{hi} summand in closed form, checked against the literal sum; undefined hi = ∞. */
  sum(name: string, summand: Expr, index: string, lo: Expr, hi: Expr | undefined, record = false): Expr {
    // Kronecker factors of decay-0 states only asymptotically, where the sums over k resolve them all
    const r = sumClosedForm(summand, index, lo, hi, { domains: this.ctx.domains, assume: (t) => this.ctx.assumptions.add(t), kronecker: this.ctx.regime === 'asymptotic' });
    if ('reason' in r) throw new NoClosedForm(`${name}: ${r.reason}`);
    if (hi) checkIdentity(`closed-form ${name}`, E.sum(index, lo, hi, summand), r, this.ctx.space, { fix: fixIndices });
    const value = this.simplify(`simplified ${name}`, r);
    if (record) this.ctx.sums.push({ summand, index, lo, hi, value });
    return value;
  }

  /** n → ∞ in an expression whose n-dependence is through powers rⁿ with |r| < 1. */
  limitN(e: Expr): Expr {
    if (!E.hasSymbol(e, 'n')) return e;
    const out = E.mapBottomUp(e, (x) => {
      if (x.kind !== 'pow' || !E.hasSymbol(x.exp, 'n') || E.hasSymbol(x.base, 'n')) return x;
      const c = normalForm(E.mul(E.sub(x.exp, E.subs(x.exp, { n: E.ZERO })), E.pow(E.sym('n'), E.MINUS_ONE)));
      // r^(c·n + …) → 0 for |r| < 1 and a rate c > 0, a number or proved positive on the domain: 0.96^((n+1)·ψ)
      const positive = c.kind === 'num' ? c.value.p > 0n : !E.hasSymbol(c, 'n') && isPositive(bound(c, this.ctx.domains));
      if (positive && isContraction(bound(x.base, this.ctx.domains))) return E.ZERO;
      return x;
    });
    if (E.hasSymbol(out, 'n'))
      throw new RuleError({ code: 'rule/cannot-derive', span: this.ctx.rule.updateSpan, message: `cannot take n → ∞: the rule depends on n other than through decaying powers (${show(out)})` });
    checkIdentity('limit n → ∞', e, out, this.ctx.space, { tol: 1e-6, fix: (env) => { env['n'] = 4000; for (const p of this.ctx.rule.params) if (p.domain.lo === 0 && p.domain.hi === 1) env[p.name] = Math.min(env[p.name]!, 0.9); } });
    return out;
  }

  /** e on the constant history at time t (states read s_{t+1}, prev(s) reads s_t), or its n → ∞ limit. */
  at(e: Expr, t: Expr): Expr {
    const m = new Map<string, Expr>();
    for (const [name, v] of this.values) {
      if (this.ctx.regime === 'asymptotic') {
        m.set(name, v);
        m.set(prevName(name), v);
      } else {
        m.set(name, E.subs(v, { [J]: t }));
        m.set(prevName(name), E.subs(v, { [J]: E.sub(t, E.ONE) }));
      }
    }
    if (this.ctx.regime === 'asymptotic') return this.limitN(E.subs(e, m));
    m.set('n', t);
    return E.subs(e, m);
  }

  private constantHistoryValue(s: LinearState): Expr {
    const unknown = [...E.freeSymbols(s.drive)].filter((x) => x.endsWith('@prev') && !this.values.has(x.slice(0, -5)) && x.slice(0, -5) !== s.name);
    if (unknown.length) throw new RuleError({ code: 'rule/unsupported', span: this.ctx.rule.states.find((x) => x.name === s.name)!.span, message: `state '${s.name}' reads the previous value of a later state; declare states in dependency order` });
    if (this.ctx.regime === 'asymptotic') {
      // s = a·s + b at a fixed point: s = b/(1 − a)
      return this.simplify(`constant history of ${s.name}`, E.div(this.at(s.drive, E.sym('n')), E.sub(E.ONE, s.decay)));
    }
    // s_{J+1} = Σ_{u=0}^{J} a^u b(J − u) + a^{J+1}·s_0
    const summand = E.mul(E.pow(s.decay, u), this.at(s.drive, E.sub(j, u)));
    const driven = this.sum(`constant-history value of ${s.name}`, summand, U, E.ZERO, j);
    if (E.isZero(s.init)) return driven;
    return this.simplify(`constant-history value of ${s.name} from its initial value`, E.add(driven, E.mul(E.pow(s.decay, E.add(j, E.ONE)), s.init)));
  }

  /** σ(J, K) = ∂s_{J+1}/∂x_{J−K} for x = 'g' or 'theta'. */
  sensitivity(state: string, x: 'g' | 'theta'): Expr {
    const memoKey = `${state}|${x}`;
    const hit = this.sens.get(memoKey);
    if (hit) return hit;
    const a = this.decay.get(state)!;
    const b = this.drive.get(state)!;
    const parts: Expr[] = [E.mul(E.pow(a, k), this.at(this.d(b, x), E.sub(j, k)))];
    for (const l of this.ctx.states) {
      if (l.name === state) continue;
      const dNew = this.d(b, l.name);
      if (!E.isZero(dNew)) {
        const inner = E.subs(this.sensitivity(l.name, x), { [J]: E.sub(j, u), [K]: E.sub(k, u) });
        parts.push(this.sum(`sensitivity of ${state} through ${l.name}`, E.mul(E.pow(a, u), this.at(dNew, E.sub(j, u)), inner), U, E.ZERO, k));
      }
      const dPrev = this.d(b, prevName(l.name));
      if (!E.isZero(dPrev)) {
        const inner = E.subs(this.sensitivity(l.name, x), { [J]: E.sub(E.sub(j, u), E.ONE), [K]: E.sub(E.sub(k, u), E.ONE) });
        parts.push(this.sum(`sensitivity of ${state} through prev(${l.name})`, E.mul(E.pow(a, u), this.at(dPrev, E.sub(j, u)), inner), U, E.ZERO, E.sub(k, E.ONE)));
      }
    }
    const out = this.simplify(`sensitivity of ${state} to ${x}`, E.add(...parts));
    this.sens.set(memoKey, out);
    return out;
  }

  /** ∂e/∂x, noting where an exact sign on the memory path makes the derivative vanish a.e. */
  d(e: Expr, x: string): Expr {
    return diff(e, x, {
      onSignDerivative: (arg) => {
        const onMemory = [...E.freeSymbols(arg)].some((s) => this.decay.has(s.replace(/@prev$/, '')));
        if (onMemory || x === 'g' || x === 'theta')
          this.ctx.notes.add(`sign(${show(arg)}) lies on the memory path: its derivative vanishes almost everywhere, so its part of M is zero a.e.; for a smooth surrogate use x/sqrt(x^2 + delta^2) (see rules/lion-k.rule)`);
      },
    });
  }

  /** ∂F⁽ⁿ⁾/∂x_{n−k} of the update at the constant history (k ≥ 1). */
  lagWeight(update: Expr, x: 'g' | 'theta'): Expr {
    const n = E.sym('n');
    const parts: Expr[] = [];
    for (const l of this.ctx.states) {
      const dNew = this.d(update, l.name);
      if (!E.isZero(dNew)) parts.push(E.mul(this.at(dNew, n), E.subs(this.sensitivity(l.name, x), { [J]: n })));
      const dPrev = this.d(update, prevName(l.name));
      if (!E.isZero(dPrev)) parts.push(E.mul(this.at(dPrev, n), E.subs(this.sensitivity(l.name, x), { [J]: E.sub(n, E.ONE), [K]: E.sub(k, E.ONE) })));
    }
    return this.simplify(`lag weight of the update in ${x}`, E.add(...parts));
  }
}
