/**
 * The verdict: the memoryless step is θ −= h(F + h·w∘∇Φ), so where w > 0 memory descends Φ
 * (regularizing) and where w < 0 it ascends Φ (anti-regularizing). Signs are proved with
 * interval bounds over the parameter domains (g, θ unbounded); a parameter-dependent factor
 * becomes the condition, e.g. β₁ − β₂ < 0 ⇔ β₂ > β₁.
 */
import * as E from '../ir/expr.js';
import type { Expr } from '../ir/expr.js';
import { evaluate } from '../ir/eval.js';
import { mulberry32 as rng } from '../ir/random.js';
import { dict } from '../ir/dict.js';
import { factorPolynomial } from '../cas/nerdamer.js';
import { bound, isNegative, isPositive, type Interval } from '../ir/intervals.js';
import { collectBy, normalForm } from '../derive/simplify.js';
import { show } from '../ir/show.js';
import type { Verdict, VerdictKind } from '../derive/types.js';

const VARS = ['g', 'theta'];
type Sign = 1 | -1 | 0;

function signOf(e: Expr, domains: ReadonlyMap<string, Interval>): Sign {
  const b = bound(e, domains);
  return isPositive(b) ? 1 : isNegative(b) ? -1 : 0;
}

const kindOf = (s: number): VerdictKind => (s > 0 ? 'regularizing' : 'anti-regularizing');
const flip = (k: VerdictKind): VerdictKind => (k === 'regularizing' ? 'anti-regularizing' : k === 'anti-regularizing' ? 'regularizing' : k);

/** Whether the interval bound of f fixes its sign (allowing a zero at the domain's edge). */
function provedSign(f: Expr, domains: ReadonlyMap<string, Interval>): boolean {
  const b = bound(f, domains);
  return b.lo >= 0 || b.hi <= 0;
}

/**
 * Whether a rewrite g of f agrees with it at 12 seeded points: bounded parameters inside their
 * domain, other symbols in [lo, lo + width).
 */
function agreesAtSeededPoints(f: Expr, g: Expr, domains: ReadonlyMap<string, Interval>, seed: number, tol: number, lo: number, width: number): boolean {
  const r = rng(seed);
  for (let i = 0; i < 12; i++) {
    const env = dict<number>();
    for (const x of E.freeSymbols(f)) {
      const b = domains.get(x);
      env[x] = b && Number.isFinite(b.lo) && Number.isFinite(b.hi) ? b.lo + (b.hi - b.lo) * (0.05 + 0.9 * r()) : lo + width * r();
    }
    const a = evaluate(f, env), c = evaluate(g, env);
    if (!(Math.abs(a - c) <= tol * (Math.abs(a) + Math.abs(c) + 1e-300))) return false;
  }
  return true;
}

/** f's factors from nerdamer, checked equal to f at seeded points of the domain; undefined if not a product or not equal. */
function factoredParts(f: Expr, domains: ReadonlyMap<string, Interval>): Expr[] | undefined {
  if (f.kind !== 'add' || E.size(f) > 200) return undefined;
  const g = factorPolynomial(f);
  if (!g || g.kind !== 'mul' || !agreesAtSeededPoints(f, g, domains, 29, 1e-10, -1, 3)) return undefined;
  return [...g.factors];
}

/** Numeric evidence for an undetermined sign: the weight at seeded points over g, θ and the parameter domains. */
function sampledSign(w: Expr, domains: ReadonlyMap<string, Interval>, defaults: Record<string, number>): string {
  const r = rng(17);
  let pos = 0, neg = 0, total = 0;
  const draw = (b: Interval | undefined, fallback: number) => {
    if (!b || !Number.isFinite(b.lo) || !Number.isFinite(b.hi)) return fallback === 0 ? r() : fallback * 10 ** (2 * r() - 1);
    return b.lo + (b.hi - b.lo) * (0.01 + 0.98 * r());
  };
  for (let i = 0; i < 200; i++) {
    const env = dict<number>();
    env['g'] = (r() < 0.5 ? -1 : 1) * 10 ** (3 * r() - 2);
    env['theta'] = 4 * r() - 2;
    for (const [name, fallback] of Object.entries(defaults)) env[name] = i === 0 ? fallback : draw(domains.get(name), fallback);
    const v = evaluate(w, env);
    if (!Number.isFinite(v)) continue;
    total++;
    if (v > 0) pos++;
    else if (v < 0) neg++;
  }
  return `sampled at ${total} points over g, θ and the parameter domains, it was positive at ${pos} and negative at ${neg}`;
}

/**
 * The sign of w = κ·Σ (cᵢ/κ)·rᵢ with κ the first part's coefficient, when both factors have
 * a proved sign (strictly) and the regrouping is checked equal to w at seeded points.
 */
function commonFactor(w: Expr, groups: ReturnType<typeof collectBy>, domains: ReadonlyMap<string, Interval>): Sign {
  const kappa = groups[0]!.coefficient;
  const kappaSign = signOf(kappa, domains);
  if (kappaSign === 0) return 0;
  const inner = E.add(...groups.map((t) => E.mul(normalForm(E.div(t.coefficient, kappa)), t.rest)));
  const innerSign = signOf(inner, domains);
  if (innerSign === 0 || !agreesAtSeededPoints(w, E.mul(kappa, inner), domains, 41, 1e-9, -2, 4)) return 0;
  return (kappaSign * innerSign) as Sign;
}

/** Splits a factor f into lhs − rhs with positively signed terms on each side. */
function sides(f: Expr): { lhs: Expr; rhs: Expr } {
  const terms = f.kind === 'add' ? f.terms : [f];
  const pos: Expr[] = [];
  const neg: Expr[] = [];
  for (const t of terms) {
    const [c] = E.splitCoefficient(t);
    (c.p < 0n ? neg : pos).push(c.p < 0n ? E.neg(t) : t);
  }
  return { lhs: E.add(...pos), rhs: E.add(...neg) };
}

/**
 * Verdict for M = w ∘ ∇Φ (one potential term). `defaults` are the parameter defaults;
 * `limitable` the parameters whose → 0 limit the user may take.
 */
export function verdictForWeight(w: Expr, domains: ReadonlyMap<string, Interval>, defaults: Record<string, number>, limitable: readonly string[]): Verdict {
  const groups = collectBy(w, VARS);
  if (groups.length !== 1) {
    // a sum whose parts are each proved ≥ 0 (≤ 0), one of them strictly, has that sign
    const parts = groups.map((t) => bound(E.mul(t.coefficient, t.rest), domains));
    const nonNegative = parts.every((b) => b.lo >= 0), nonPositive = parts.every((b) => b.hi <= 0);
    if ((nonNegative || nonPositive) && parts.some((b) => isPositive(b) || isNegative(b)))
      return { kind: nonNegative ? 'regularizing' : 'anti-regularizing', reason: `each of the weight's ${groups.length} parts is ${nonNegative ? 'non-negative' : 'non-positive'} on the parameter domain, and one strictly, so the sum is too` };
    // or a parameter factor common to every part times a sum bounded as a whole: β/(c(1−β))·(1 − tanh²(cg))
    const common = commonFactor(w, groups, domains);
    if (common) return { kind: kindOf(common), reason: 'the weight is a parameter factor of one sign times a sum of parts in g and θ whose bound has one sign' };
    const suggest = limitable.filter((p) => E.hasSymbol(w, p));
    let limitVerdict: Verdict | undefined;
    if (suggest.length) {
      // what the sign is once the perturbation parameters vanish (the weight must stay finite there)
      const atLimit = E.subs(w, Object.fromEntries(suggest.map((p) => [p, E.ZERO])));
      const inLimit = new Map(domains);
      for (const p of suggest) inLimit.set(p, { lo: 0, hi: 0, loIn: true, hiIn: true });
      const v = E.isZero(atLimit) ? undefined : verdictForWeight(atLimit, inLimit, { ...defaults, ...Object.fromEntries(suggest.map((p) => [p, 0])) }, []);
      if (v && v.kind !== 'mixed') limitVerdict = v;
    }
    return {
      kind: 'mixed',
      reason: `the sign is not determined: the weight is a sum of ${groups.length} parts that depend differently on g and θ, and not every part could be proved of one sign; ${sampledSign(w, domains, defaults)}`,
      ...(suggest.length ? { suggestLimits: suggest } : {}),
      ...(limitVerdict ? { limitVerdict } : {}),
    };
  }
  const { coefficient, rest } = groups[0]!;
  const restSign = signOf(rest, domains);
  if (restSign === 0) return { kind: 'mixed', reason: 'the sign of the weight depends on g and θ' };
  // the coefficient in rational normal form is a product; prove each factor's sign or make it the condition
  const factors = coefficient.kind === 'mul' ? coefficient.factors : [coefficient];
  let fixed: number = restSign;
  const open: Expr[] = [];
  const vanishing: Expr[] = [];
  for (const whole of factors) {
    // a factor whose bound straddles 0 may still have one sign: try its polynomial factors (μ + μτ² − 2μτ = μ(1 − τ)²)
    const parts = provedSign(whole, domains) ? undefined : factoredParts(whole, domains);
    const pieces = parts && parts.every((f) => provedSign(f, domains)) ? parts : [whole];
    for (const f of pieces) {
      const base = f.kind === 'pow' && E.isIntegerNum(f.exp) ? f.base : f;
      const s = signOf(f, domains);
      const b = bound(f, domains);
      if (s !== 0) fixed *= s;
      else if (b.lo >= 0 || b.hi <= 0) {
        // ≥ 0 (or ≤ 0) with a zero on the domain edge: the sign is fixed where M does not vanish
        if (b.hi <= 0) fixed = -fixed;
        vanishing.push(base);
      } else open.push(base);
    }
  }
  const where = vanishing.length ? `; M vanishes where ${vanishing.map((v) => `${show(v)} = 0`).join(' or ')}` : '';
  if (open.length === 0) return { kind: kindOf(fixed), reason: `the weight has the same sign everywhere on the parameter domain${where}` };
  const atDefault = evaluate(coefficient, defaults) * restSign;
  const kind = atDefault === 0 ? 'none' : kindOf(atDefault);
  if (open.length > 1) return { kind, reason: `at the default parameters; the sign depends on ${open.length} parameter combinations` };
  const f = open[0]!;
  const { lhs, rhs } = sides(f);
  // kind holds when sign(f) = sign(f at defaults)
  const fAtDefault = evaluate(f, defaults);
  // written with '>': f > 0 ⇔ lhs > rhs, f < 0 ⇔ rhs > lhs
  return {
    kind,
    condition: fAtDefault > 0 ? { lhs, op: '>', rhs, otherwise: flip(kind) } : { lhs: rhs, op: '>', rhs: lhs, otherwise: flip(kind) },
    reason: 'the sign of the weight is the sign of a parameter combination',
  };
}
