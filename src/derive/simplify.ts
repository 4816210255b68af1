/**
 * Expansion and a rational normal form: numerator an expanded polynomial over "atoms"
 * (symbols, |·|, sign, fractional or symbolic powers), denominator a product of
 * primitive factors. Cancellation is exact polynomial division, so no gcd is needed for
 * the shapes the derivation produces (β/(1−β)² · 1/(1−β) → β/(1−β)³).
 */
import * as E from '../ir/expr.js';
import type { Expr } from '../ir/expr.js';
import * as Q from '../ir/rational.js';
import type { Rational } from '../ir/rational.js';
import { bound, isNegative, isPositive, type Interval } from '../ir/intervals.js';

const MAX_TERMS = 20000;

/** The derivation outgrew what memloss expands (a rule with many nested states, or high powers). */
export class ExpressionTooLarge extends Error {}

// ---- expand -----------------------------------------------------------------------------
const termsOf = (e: Expr): readonly Expr[] => (e.kind === 'add' ? e.terms : [e]);

function distribute(factors: readonly Expr[]): Expr {
  let acc: Expr[] = [E.ONE];
  for (const f of factors) {
    const fs = termsOf(f);
    if (fs.length === 1) { acc = acc.map((a) => E.mul(a, f)); continue; }
    if (acc.length * fs.length > MAX_TERMS) throw new ExpressionTooLarge(`expanding a product would give more than ${MAX_TERMS} terms`);
    const next: Expr[] = [];
    for (const a of acc) for (const t of fs) next.push(E.mul(a, t));
    acc = next;
  }
  return E.add(...acc);
}

/**
 * Distributes products over sums and expands small positive integer powers of sums, at the
 * polynomial level only: the insides of atoms (√(…), |…|, symbolic powers) are left alone.
 */
const expandMemo = new WeakMap<Expr, Expr>();
export function expand(e: Expr): Expr {
  let out = expandMemo.get(e);
  if (!out) expandMemo.set(e, (out = expandOnce(e)));
  return out;
}

function expandOnce(e: Expr): Expr {
  if (e.kind === 'add') return E.add(...e.terms.map(expand));
  if (e.kind === 'mul') return distribute(e.factors.map(expand));
  if (e.kind === 'pow' && E.isIntegerNum(e.exp)) {
    const k = Number((e.exp as E.Num).value.p);
    const b = expand(e.base);
    if (b.kind === 'add' && k > 0 && k <= 8) return distribute(Array(k).fill(b));
    return E.pow(b, e.exp);
  }
  return e;
}

/** Expansion that also reaches inside atoms. */
export function expandDeep(e: Expr): Expr {
  return E.mapBottomUp(e, (x) => {
    if (x.kind === 'mul' && x.factors.some((f) => f.kind === 'add')) return distribute(x.factors);
    if (x.kind === 'pow' && x.base.kind === 'add' && E.isIntegerNum(x.exp)) {
      const k = Number((x.exp as E.Num).value.p);
      if (k > 0 && k <= 8) return distribute(Array(k).fill(x.base));
    }
    return x;
  });
}

// ---- polynomials over atoms -------------------------------------------------------------
/** monomial: atom key → positive integer exponent. */
interface Term { coef: Rational; mono: Map<string, number> }
type Poly = Term[];

const monoKey = (m: Map<string, number>) => [...m].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([a, k]) => `${a}^${k}`).join('*');

class AtomTable {
  readonly atoms = new Map<string, Expr>();
  intern(e: Expr): string {
    const k = E.key(e);
    if (!this.atoms.has(k)) this.atoms.set(k, e);
    return k;
  }
}

/** Splits an expanded expression into a polynomial; atoms are interned. Negative powers are not allowed here. */
function toPoly(e: Expr, atoms: AtomTable): Poly {
  const out = new Map<string, Term>();
  for (const t of termsOf(e)) {
    let coef = Q.ONE;
    const mono = new Map<string, number>();
    const factors = t.kind === 'mul' ? t.factors : [t];
    for (const f of factors) {
      if (f.kind === 'num') { coef = Q.mul(coef, f.value); continue; }
      if (f.kind === 'pow' && E.isIntegerNum(f.exp) && Number((f.exp as E.Num).value.p) > 0) {
        const a = atoms.intern(f.base);
        mono.set(a, (mono.get(a) ?? 0) + Number((f.exp as E.Num).value.p));
      } else if (f.kind === 'pow' && f.exp.kind === 'num' && f.exp.value.q > 1n && f.exp.value.p > 0n) {
        // x^(p/q) = (x^(1/q))^p: one root atom, so x^(1/2) and x^(3/2) can cancel
        const a = atoms.intern(E.pow(f.base, E.numR(Q.rat(1n, f.exp.value.q))));
        mono.set(a, (mono.get(a) ?? 0) + Number(f.exp.value.p));
      } else if (f.kind === 'pow' && f.exp.kind === 'add' && E.isIntegerNum(f.exp.terms[0]!) && Number((f.exp.terms[0] as E.Num).value.p) > 0) {
        // β^(c+n) = β^c·β^n, so that atoms are the same however the power was written
        const a = atoms.intern(f.base);
        mono.set(a, (mono.get(a) ?? 0) + Number((f.exp.terms[0] as E.Num).value.p));
        const b = atoms.intern(E.pow(f.base, E.add(...f.exp.terms.slice(1))));
        mono.set(b, (mono.get(b) ?? 0) + 1);
      } else {
        const a = atoms.intern(f);
        mono.set(a, (mono.get(a) ?? 0) + 1);
      }
    }
    const k = monoKey(mono);
    const prev = out.get(k);
    if (prev) prev.coef = Q.add(prev.coef, coef);
    else out.set(k, { coef, mono });
  }
  return [...out.values()].filter((t) => !Q.isZero(t.coef));
}

function polyToExpr(p: Poly, atoms: AtomTable): Expr {
  return E.add(...p.map((t) => E.mul(E.numR(t.coef), ...[...t.mono].map(([a, k]) => E.pow(atoms.atoms.get(a)!, E.num(k))))));
}

/** Compares monomials lexicographically in a fixed atom order. */
function lexCompare(a: Map<string, number>, b: Map<string, number>, order: readonly string[]): number {
  for (const x of order) {
    const d = (a.get(x) ?? 0) - (b.get(x) ?? 0);
    if (d) return d;
  }
  return 0;
}

function leading(p: Poly, order: readonly string[]): Term {
  let best = p[0]!;
  for (let i = 1; i < p.length; i++) if (lexCompare(p[i]!.mono, best.mono, order) > 0) best = p[i]!;
  return best;
}

const degreeIn = (p: Poly, a: string) => p.reduce((m, t) => Math.max(m, t.mono.get(a) ?? 0), 0);

/** Exact division p / d, or undefined when d does not divide p (or the division is too large to try). */
function divide(p: Poly, d: Poly): Poly | undefined {
  if (d.length === 0 || p.length * d.length > 40000) return undefined;
  // necessary: every atom of d occurs in p at least to d's degree
  const order = [...new Set([...p, ...d].flatMap((t) => [...t.mono.keys()]))].sort();
  for (const a of order) if (degreeIn(d, a) > degreeIn(p, a)) return undefined;
  const ld = leading(d, order);
  const q: Poly = [];
  const r = new Map<string, Term>(p.map((t) => [monoKey(t.mono), { coef: t.coef, mono: t.mono }]));
  for (let guard = 0; r.size > 0; guard++) {
    if (guard > 2000) return undefined;
    const lr = leading([...r.values()], order);
    const mono = new Map<string, number>(lr.mono);
    for (const [a, k] of ld.mono) {
      const left = (mono.get(a) ?? 0) - k;
      if (left < 0) return undefined;
      if (left === 0) mono.delete(a); else mono.set(a, left);
    }
    const c = Q.div(lr.coef, ld.coef);
    q.push({ coef: c, mono });
    // r −= c·mono·d, in place
    for (const t of d) {
      const m = new Map(t.mono);
      for (const [a, k] of mono) m.set(a, (m.get(a) ?? 0) + k);
      const key = monoKey(m);
      const prev = r.get(key);
      const delta = Q.neg(Q.mul(c, t.coef));
      const sum = prev ? Q.add(prev.coef, delta) : delta;
      if (Q.isZero(sum)) r.delete(key);
      else r.set(key, { coef: sum, mono: m });
    }
  }
  return q;
}

// ---- rational normal form -----------------------------------------------------------------
interface Factor { base: Expr; exp: number }
interface Frac { num: Expr; den: Map<string, Factor> }

const one = (): Frac => ({ num: E.ONE, den: new Map() });

function mulDen(a: Map<string, Factor>, b: Map<string, Factor>, scale = 1): Map<string, Factor> {
  const out = new Map<string, Factor>();
  for (const [k, f] of a) out.set(k, { ...f });
  for (const [k, f] of b) {
    const prev = out.get(k);
    if (prev) prev.exp += f.exp * scale;
    else out.set(k, { base: f.base, exp: f.exp * scale });
  }
  return out;
}

/**
 * Turns an expanded polynomial into denominator factors: numeric content and sign go to the
 * returned coefficient, a single monomial splits into its atoms, and a sum is made primitive
 * with a positive constant term (or positive leading coefficient): β − 1 → −(1 − β).
 */
function factorsOf(poly: Expr): { coef: Rational; factors: Factor[] } {
  const ts = termsOf(poly);
  if (ts.length === 1) {
    const [c, rest] = E.splitCoefficient(ts[0]!);
    const fs = rest.kind === 'mul' ? rest.factors : E.isOne(rest) ? [] : [rest];
    return { coef: c, factors: fs.map((f) => (f.kind === 'pow' && E.isIntegerNum(f.exp) ? { base: f.base, exp: Number((f.exp as E.Num).value.p) } : { base: f, exp: 1 })) };
  }
  const coefs = ts.map((t) => E.splitCoefficient(t)[0]);
  const ref = ts[0]!.kind === 'num' ? coefs[0]! : coefs[0]!;
  let content = ref.p < 0n ? Q.neg(ref) : ref;
  // make integer-primitive: divide by the first coefficient's magnitude, then clear denominators
  let lcmQ = 1n;
  for (const c of coefs) {
    const r = Q.div(c, content);
    const gq = (a: bigint, b: bigint): bigint => (b === 0n ? a : gq(b, a % b));
    lcmQ = (lcmQ * r.q) / gq(lcmQ, r.q);
  }
  content = Q.div(content, Q.rat(lcmQ));
  const sign = ref.p < 0n ? Q.rat(-1) : Q.ONE;
  const scale = Q.mul(content, sign);
  const base = E.add(...ts.map((t) => E.mul(E.numR(Q.div(Q.ONE, scale)), t)));
  return { coef: scale, factors: [{ base, exp: 1 }] };
}

function fracOf(e: Expr, atoms: AtomTable): Frac {
  switch (e.kind) {
    case 'num':
    case 'sym':
      return { num: e, den: new Map() };
    case 'add': {
      const fs = e.terms.map((t) => fracOf(t, atoms));
      const lcm = new Map<string, Factor>();
      for (const f of fs) for (const [k, x] of f.den) {
        const prev = lcm.get(k);
        if (!prev || prev.exp < x.exp) lcm.set(k, { ...x });
      }
      const nums = fs.map((f) => {
        const missing: Expr[] = [];
        for (const [k, x] of lcm) {
          const have = f.den.get(k)?.exp ?? 0;
          if (x.exp > have) missing.push(E.pow(x.base, E.num(x.exp - have)));
        }
        return expand(E.mul(f.num, ...missing));
      });
      return cancel({ num: expand(E.add(...nums)), den: lcm }, atoms);
    }
    case 'mul': {
      let acc = one();
      for (const f of e.factors) {
        const x = fracOf(f, atoms);
        acc = { num: expand(E.mul(acc.num, x.num)), den: mulDen(acc.den, x.den) };
      }
      return cancel(acc, atoms);
    }
    case 'pow': {
      if (E.isIntegerNum(e.exp)) {
        const k = Number((e.exp as E.Num).value.p);
        const b = fracOf(e.base, atoms);
        if (k > 0) {
          const num = k <= 8 ? expand(E.pow(b.num, E.num(k))) : E.pow(b.num, E.num(k));
          return { num, den: mulDen(new Map(), b.den, k) };
        }
        // invert: the numerator of the base becomes denominator factors
        const inv = factorsOf(b.num);
        const den = new Map<string, Factor>();
        for (const f of inv.factors) {
          const k2 = E.key(f.base);
          const prev = den.get(k2);
          if (prev) prev.exp += f.exp * -k; else den.set(k2, { base: f.base, exp: f.exp * -k });
        }
        const numParts = [...b.den.values()].map((f) => E.pow(f.base, E.num(f.exp * -k)));
        const num = expand(E.mul(E.numR(Q.powInt(Q.div(Q.ONE, inv.coef), BigInt(-k)) ?? Q.ONE), ...numParts));
        return cancel({ num, den }, atoms);
      }
      const base = normalForm(e.base);
      const exp = normalForm(e.exp);
      if (exp.kind === 'num' && Q.cmp(exp.value, Q.ZERO) < 0) {
        // x^(−p/q) = 1/(x^(1/q))^p: the root is a denominator atom with an integer power
        const atom = E.pow(base, E.numR(Q.rat(1n, exp.value.q)));
        return { num: E.ONE, den: new Map([[E.key(atom), { base: atom, exp: Number(-exp.value.p) }]]) };
      }
      // split a numeric integer part off a symbolic exponent: β^(k+1) = β·β^k (not a Kronecker
      // factor 0^(k−1), which is no product of powers of 0)
      if (exp.kind === 'add' && exp.terms[0]!.kind === 'num' && E.isIntegerNum(exp.terms[0]!) && !E.isZero(base)) {
        // (built by hand: the canonical mul would merge the two powers again)
        const c = fracOf(E.pow(base, exp.terms[0]!), atoms);
        const rest = E.pow(base, E.add(...exp.terms.slice(1)));
        const r = rest.kind === 'pow' ? { num: rest, den: new Map<string, Factor>() } : fracOf(rest, atoms);
        return cancel({ num: expand(E.mul(c.num, r.num)), den: mulDen(c.den, r.den) }, atoms);
      }
      const p = E.pow(base, exp);
      return p.kind === 'pow' ? { num: p, den: new Map() } : fracOf(p, atoms);
    }
    case 'call': {
      const c = E.call(e.fn, normalForm(e.arg));
      return c.kind === 'call' ? { num: c, den: new Map() } : fracOf(c, atoms);
    }
    case 'sum':
      return { num: E.sum(e.index, e.lo, e.hi, normalForm(e.body)), den: new Map() };
  }
}

function cancel(f: Frac, atoms: AtomTable): Frac {
  if (E.isZero(f.num)) return { num: E.ZERO, den: new Map() };
  let num = toPoly(f.num, atoms);
  const den = new Map<string, Factor>();
  for (const [k, x] of f.den) {
    let exp = x.exp;
    if (exp <= 0) {
      if (exp < 0) num = toPoly(expand(E.mul(polyToExpr(num, atoms), E.pow(x.base, E.num(-exp)))), atoms);
      continue;
    }
    const d = toPoly(expand(x.base), atoms);
    while (exp > 0) {
      const q = divide(num, d);
      if (!q) break;
      num = q;
      exp--;
    }
    if (exp > 0) den.set(k, { base: x.base, exp });
  }
  return { num: polyToExpr(num, atoms), den };
}

/** The rational normal form of e (an equivalent expression; callers check it at random points). */
const normalMemo = new WeakMap<Expr, Expr>();
export function normalForm(e: Expr): Expr {
  let out = normalMemo.get(e);
  if (!out) normalMemo.set(e, (out = normalFormOnce(e)));
  return out;
}

function normalFormOnce(e: Expr): Expr {
  const atoms = new AtomTable();
  const f = fracOf(e, atoms);
  const den = [...f.den.values()].sort((a, b) => E.compareExpr(a.base, b.base));
  return E.mul(f.num, ...den.map((d) => E.pow(d.base, E.num(-d.exp))));
}

/**
 * Groups an expression by the parts that depend on `vars` (e.g. g, θ): e = Σ cᵢ(params)·rᵢ(vars, params),
 * each cᵢ in rational normal form. The shape a reader expects: (β₁/(1−β₁) − β₂/(1−β₂))·1/|g|.
 */
const collectMemo = new WeakMap<Expr, Map<string, { coefficient: Expr; rest: Expr }[]>>();
export function collectBy(e: Expr, vars: readonly string[]): { coefficient: Expr; rest: Expr }[] {
  const byVars = collectMemo.get(e) ?? new Map<string, { coefficient: Expr; rest: Expr }[]>();
  collectMemo.set(e, byVars);
  const k = vars.join(',');
  let out = byVars.get(k);
  if (!out) byVars.set(k, (out = collectOnce(e, vars)));
  return out;
}

function collectOnce(e: Expr, vars: readonly string[]): { coefficient: Expr; rest: Expr }[] {
  const groups = new Map<string, { rest: Expr; parts: Expr[] }>();
  for (const t of termsOf(expand(normalizeAtoms(e)))) {
    const fs = t.kind === 'mul' ? t.factors : [t];
    const dependent = fs.filter((f) => vars.some((v) => E.hasSymbol(f, v)));
    const free = fs.filter((f) => !vars.some((v) => E.hasSymbol(f, v)));
    const rest = E.mul(...dependent);
    const k = E.key(rest);
    const g = groups.get(k);
    if (g) g.parts.push(E.mul(...free));
    else groups.set(k, { rest, parts: [E.mul(...free)] });
  }
  return [...groups.values()]
    .map((g) => ({ coefficient: normalForm(E.add(...g.parts)), rest: g.rest }))
    .filter((g) => !E.isZero(g.coefficient));
}

/** collectBy written back as one expression: Σ cᵢ(params)·rᵢ(vars). */
export const collected = (e: Expr, vars: readonly string[] = ['g', 'theta']): Expr =>
  E.add(...collectBy(e, vars).map((t) => E.mul(t.coefficient, t.rest)));

/** Puts the inside of every atom (√(…), |…|, sign(…), symbolic powers) in rational normal form. */
export function normalizeAtoms(e: Expr): Expr {
  return E.mapBottomUp(e, (x) => {
    if (x.kind === 'pow' && !E.isIntegerNum(x.exp)) return E.pow(normalForm(x.base), x.exp);
    if (x.kind === 'call') return E.call(x.fn, normalForm(x.arg));
    return x;
  });
}

/**
 * Uses the parameter domains: |x| = x and sign(x) = 1 where x > 0 is provable (√(δ²) = δ for δ > 0).
 */
export function applyDomains(e: Expr, domains: ReadonlyMap<string, Interval>): Expr {
  return E.mapBottomUp(e, (x) => {
    if (x.kind !== 'call' || (x.fn !== 'abs' && x.fn !== 'sign')) return x;
    const b = bound(x.arg, domains);
    if (b.lo >= 0) return x.fn === 'abs' ? x.arg : isPositive(b) ? E.ONE : x;
    if (b.hi <= 0) return x.fn === 'abs' ? E.neg(x.arg) : isNegative(b) ? E.MINUS_ONE : x;
    return x;
  });
}

/**
 * Pulls the factor common to every term out of a sum, for display: β^k − β^(k+1) = β^k·(1 − β).
 * Common atoms are found on the split atoms of the polynomial form (β^(k+1) = β·β^k).
 */
export function factorCommon(e: Expr): Expr {
  if (e.kind !== 'add') return e;
  const atoms = new AtomTable();
  const poly = toPoly(e, atoms);
  if (poly.length < 2) return e;
  const common = new Map<string, number>();
  for (const [a, k] of poly[0]!.mono) common.set(a, k);
  for (const t of poly.slice(1)) {
    for (const [a, k] of common) {
      const m = Math.min(k, t.mono.get(a) ?? 0);
      if (m === 0) common.delete(a); else common.set(a, m);
    }
  }
  if (common.size === 0) return e;
  const rest = poly.map((t) => {
    const mono = new Map(t.mono);
    for (const [a, k] of common) {
      const left = mono.get(a)! - k;
      if (left === 0) mono.delete(a); else mono.set(a, left);
    }
    return { coef: t.coef, mono };
  });
  const factor = E.mul(...[...common].map(([a, k]) => E.pow(atoms.atoms.get(a)!, E.num(k))));
  // a positive constant term reads better: β − 1 → −(1 − β)
  const constant = rest.find((t) => t.mono.size === 0);
  const flip = constant && constant.coef.p < 0n;
  const inner = polyToExpr(flip ? rest.map((t) => ({ coef: Q.neg(t.coef), mono: t.mono })) : rest, atoms);
  return flip ? E.mul(E.MINUS_ONE, factor, inner) : E.mul(factor, inner);
}
