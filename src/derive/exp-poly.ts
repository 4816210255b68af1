/**
 * Exponential polynomials in an index t: finite sums c·t^m·r^t with c, r free of t.
 * The class is closed under the products and sums the derivation needs (docs/theory.md §3),
 * so every sum over a lag has an exact closed form, computed here without any CAS.
 */
import * as E from '../ir/expr.js';
import type { Expr } from '../ir/expr.js';
import * as Q from '../ir/rational.js';
import { expand, normalForm } from './simplify.js';
import { bound, isContraction, mayBeOne, type Domains } from '../ir/intervals.js';
import { show } from '../ir/show.js';

/** An index in a message, in words (the summation indices are internal), never the internal name. */
const INDEX_WORDS: Readonly<Record<string, string>> = { '@u': 'the lag', '@K': 'the lag', '@s': 'the step', '@J': 'the step' };
const indexName = (t: string) => INDEX_WORDS[t] ?? `the index ${show(E.sym(t))}`;
/** The internal indices renamed for a message that shows an expression. */
const INDEX_NAMES = { '@u': E.sym('u'), '@K': E.sym('k'), '@s': E.sym('s'), '@J': E.sym('j') };

export interface ExpPolyTerm {
  readonly coef: Expr;
  readonly degree: number;
  readonly rate: Expr;
  /**
   * A Kronecker factor [t = at]: a decay of 0 gives lag weights 0^(t − c), which are 1 at
   * t = c and 0 at every later lag (0⁰ = 1), so the sum over t keeps the one term t = at.
   */
  readonly at?: Expr;
}

/**
 * e = Σ coef·t^degree·rate^t (times [t = at] where `kronecker` allows it: a factor 0^(c ± t)),
 * or a reason why e is not of that form.
 */
export function decompose(e: Expr, t: string, kronecker = false): ExpPolyTerm[] | { reason: string } {
  const groups = new Map<string, { degree: number; rate: Expr; at?: Expr; coefs: Expr[] }>();
  const ex = expand(e);
  for (const term of ex.kind === 'add' ? ex.terms : [ex]) {
    let degree = 0;
    let at: Expr | undefined;
    const rates: Expr[] = [];
    const coefs: Expr[] = [];
    for (const f of term.kind === 'mul' ? term.factors : [term]) {
      if (!E.hasSymbol(f, t)) { coefs.push(f); continue; }
      if (f.kind === 'pow' && E.isZero(f.base)) {
        // 0^(c + s·t) with an integer s ≠ 0 is [t = −c/s]
        const slope = normalForm(E.sub(E.subs(f.exp, { [t]: E.ONE }), E.subs(f.exp, { [t]: E.ZERO })));
        const c = E.subs(f.exp, { [t]: E.ZERO });
        if (!kronecker || at || !E.isIntegerNum(slope) || E.isZero(slope) || E.hasSymbol(normalForm(E.sub(f.exp, E.add(c, E.mul(slope, E.sym(t))))), t))
          return { reason: kronecker ? `a decay of 0 gives a weight ${show(E.subs(f, INDEX_NAMES))} that the sums over ${indexName(t)} do not cover` : 'a state with decay 0 gives Kronecker weights ([k = 0]), which the exact finite-n sums do not cover' };
        at = normalForm(E.div(E.neg(c), slope));
        continue;
      }
      if (f.kind === 'sym') { degree += 1; continue; }
      if (f.kind === 'pow' && f.base.kind === 'sym' && f.base.name === t && E.isIntegerNum(f.exp) && Q.cmp((f.exp as E.Num).value, Q.ZERO) > 0) {
        degree += Number((f.exp as E.Num).value.p);
        continue;
      }
      if (f.kind === 'pow' && !E.hasSymbol(f.base, t)) {
        // b^(e0 + e1·t) = b^e0 · (b^e1)^t, with e0, e1 free of t
        const x = expand(f.exp);
        const parts = x.kind === 'add' ? x.terms : [x];
        const free: Expr[] = [];
        const lin: Expr[] = [];
        for (const p of parts) {
          if (!E.hasSymbol(p, t)) { free.push(p); continue; }
          const c = E.mul(p, E.pow(E.sym(t), E.MINUS_ONE));
          if (E.hasSymbol(c, t)) return { reason: `the exponent ${show(f.exp)} is not linear in ${indexName(t)}` };
          lin.push(c);
        }
        coefs.push(E.pow(f.base, E.add(...free)));
        rates.push(E.pow(f.base, E.add(...lin)));
        continue;
      }
      return { reason: `a factor is not an exponential polynomial in ${indexName(t)}` };
    }
    // [t = at] at a fractional number never holds
    if (at?.kind === 'num' && !Q.isInteger(at.value)) continue;
    const rate = E.mul(...rates);
    const k = `${degree}|${E.key(rate)}|${at ? E.key(at) : ''}`;
    const g = groups.get(k);
    if (g) g.coefs.push(E.mul(...coefs));
    else groups.set(k, { degree, rate, ...(at ? { at } : {}), coefs: [E.mul(...coefs)] });
  }
  return [...groups.values()].map((g) => ({ coef: E.add(...g.coefs), degree: g.degree, rate: g.rate, ...(g.at ? { at: g.at } : {}) })).filter((x) => !E.isZero(x.coef));
}

/**
 * [x ≥ 0] for an integer x: 1 or 0 for a number; for ±i + c with i an index (never negative)
 * and c an integer, through Kronecker factors [i = j] = 0^(i − j):
 *   i + c ≥ 0  is 1 for c ≥ 0, else 1 − Σ_{j<−c} [i = j];   −i + c ≥ 0  is 0 for c < 0, else Σ_{j≤c} [i = j].
 */
function atLeastZero(x: Expr): Expr | undefined {
  const v = normalForm(x);
  if (v.kind === 'num') return Q.isInteger(v.value) && Q.cmp(v.value, Q.ZERO) >= 0 ? E.ONE : E.ZERO;
  const terms = v.kind === 'add' ? v.terms : [v];
  const c = terms.find((q) => q.kind === 'num') as E.Num | undefined;
  const rest = terms.filter((q) => q.kind !== 'num');
  if (rest.length !== 1 || (c && !Q.isInteger(c.value))) return undefined;
  // a·i + c with a and c of one sign is decided whatever the index
  const [a] = E.splitCoefficient(rest[0]!);
  const cSign = c ? Q.cmp(c.value, Q.ZERO) : 0;
  if ([...E.freeSymbols(rest[0]!)].every((x) => E.INDEX_SYMBOLS.has(x))) {
    if (Q.cmp(a, Q.ZERO) > 0 && cSign >= 0) return E.ONE;
    if (Q.cmp(a, Q.ZERO) < 0 && cSign < 0) return E.ZERO;
  }
  const negated = normalForm(E.neg(rest[0]!));
  const [i, sign] = rest[0]!.kind === 'sym' ? [rest[0]!, 1] : negated.kind === 'sym' ? [negated, -1] : [undefined, 0];
  if (!i || i.kind !== 'sym' || !E.INDEX_SYMBOLS.has(i.name)) return undefined;
  const shift = c ? Number(c.value.p) : 0;
  const deltas = (count: number) => E.add(...Array.from({ length: count }, (_, j) => E.pow(E.ZERO, E.sub(i, E.num(j)))));
  if (sign > 0) return shift >= 0 ? E.ONE : E.sub(E.ONE, deltas(-shift));
  return shift < 0 ? E.ZERO : deltas(shift + 1);
}

/** "rate ≠ 1" as the user reads it: β₃/β₁ ≠ 1 is beta1 ≠ beta3. */
function notOne(rate: Expr): string {
  const factors = rate.kind === 'mul' ? rate.factors : [rate];
  const isDen = (f: Expr) => f.kind === 'pow' && f.exp.kind === 'num' && Q.cmp(f.exp.value, Q.ZERO) < 0;
  const num = E.mul(...factors.filter((f) => !isDen(f)));
  const den = E.mul(...factors.filter(isDen).map((f) => E.pow(f, E.MINUS_ONE)));
  return `${show(den)} ≠ ${show(num)}`.replace(/^1 ≠ (.*)$/, '$1 ≠ 1');
}

const binom = (n: number, k: number) => {
  let r = 1;
  for (let i = 1; i <= k; i++) r = (r * (n - k + i)) / i;
  return r;
};

/** Q with r·Q(t+1) − Q(t) = t^m (r ≠ 1), so Σ_{t=lo}^{hi} t^m r^t = r^{hi+1}Q(hi+1) − r^{lo}Q(lo). */
function antidifference(m: number, r: Expr): Expr[] {
  const q: Expr[] = Array(m + 1).fill(E.ZERO);
  const rm1 = E.pow(E.sub(r, E.ONE), E.MINUS_ONE);
  for (let p = m; p >= 0; p--) {
    let s: Expr = p === m ? E.ONE : E.ZERO;
    for (let i = p + 1; i <= m; i++) s = E.sub(s, E.mul(r, E.num(binom(i, p)), q[i]!));
    q[p] = normalForm(E.mul(s, rm1));
  }
  return q;
}

/** P with P(t+1) − P(t) = t^m (Faulhaber), so Σ_{t=lo}^{hi} t^m = P(hi+1) − P(lo). */
function faulhaber(m: number): Expr[] {
  const q: Expr[] = Array(m + 2).fill(E.ZERO);
  for (let p = m; p >= 0; p--) {
    let s: Expr = p === m ? E.ONE : E.ZERO;
    for (let i = p + 2; i <= m + 1; i++) s = E.sub(s, E.mul(E.num(binom(i, p)), q[i]!));
    q[p + 1] = E.mul(s, E.num(1, p + 1));
  }
  return q;
}

const polyAt = (coefs: Expr[], x: Expr) => E.add(...coefs.map((c, i) => E.mul(c, E.pow(x, E.num(i)))));

export interface SumContext {
  readonly domains: Domains;
  /** Records assumptions such as "β₁ ≠ β₂" (a rate that could equal 1 on a null set). */
  readonly assume: (text: string) => void;
  /** Sum Kronecker factors 0^(c ± t) (decay-0 states); off where no result may keep one. */
  readonly kronecker?: boolean;
}

/**
 * Σ_{t=lo}^{hi} e in closed form (hi undefined: ∞, requiring every rate |r| < 1).
 * Returns undefined when e is not an exponential polynomial in t.
 */
export function sumClosedForm(e: Expr, t: string, lo: Expr, hi: Expr | undefined, ctx: SumContext): Expr | { reason: string } {
  const terms = decompose(e, t, ctx.kronecker);
  if ('reason' in terms) return terms;
  const out: Expr[] = [];
  for (const { coef, degree, rate, at } of terms) {
    if (at) {
      // Σ_{t=lo}^{hi} coef·t^m·r^t·[t = at] = coef·at^m·r^at·[lo ≤ at ≤ hi]
      const inRange = [atLeastZero(E.sub(at, lo)), hi ? atLeastZero(E.sub(hi, at)) : E.ONE];
      if (inRange.some((x) => x === undefined)) return { reason: `cannot decide whether the one lag a decay of 0 keeps, ${show(at)}, lies in the range of the sum` };
      out.push(E.mul(coef, E.pow(at, E.num(degree)), E.pow(rate, at), ...(inRange as Expr[])));
      continue;
    }
    if (E.isOne(rate)) {
      if (!hi) return { reason: `the sum over ${indexName(t)} to ∞ of a polynomial diverges (memory that does not decay)` };
      const P = faulhaber(degree);
      out.push(E.mul(coef, normalForm(E.sub(polyAt(P, E.add(hi, E.ONE)), polyAt(P, lo)))));
      continue;
    }
    const rb = bound(rate, ctx.domains);
    if (!hi && !isContraction(rb)) return { reason: `cannot prove |${show(rate)}| < 1, so the infinite sum over ${indexName(t)} may diverge` };
    if (mayBeOne(rb)) ctx.assume(notOne(rate));
    const Qc = antidifference(degree, rate);
    const upper = hi ? E.mul(E.pow(rate, E.add(hi, E.ONE)), polyAt(Qc, E.add(hi, E.ONE))) : E.ZERO;
    // the scalar Σ t^m r^t is simplified on its own, before it meets the (large) coefficient;
    // the coefficient's index powers go inside, so β^(2n)·(β₂/β²)^n merges to β₂^n instead of
    // overflowing and underflowing separately in float64
    const [indexPart, rest] = splitIndexPowers(coef);
    out.push(E.mul(rest, normalForm(E.mul(indexPart, E.sub(upper, E.mul(E.pow(rate, lo), polyAt(Qc, lo)))))));
  }
  return E.add(...out);
}

/**
 * coef = indexPart·rest, where indexPart holds the powers with an index in the exponent (βⁿ,
 * β^(J−u)) common to every term of coef: β^(n+2)·x − β^(n+3)·y = βⁿ·(β²x − β³y).
 */
export function splitIndexPowers(coef: Expr): [Expr, Expr] {
  const readsIndex = (f: Expr) => f.kind === 'pow' && [...E.freeSymbols(f.exp)].some((x) => E.INDEX_SYMBOLS.has(x));
  const expanded = expand(coef);
  const terms = expanded.kind === 'add' ? expanded.terms : [expanded];
  // the index part of each power: β^(c + n) → (β, n)
  const indexPowers = (t: Expr): Map<Expr, Expr> => {
    const out = new Map<Expr, Expr>();
    for (const f of t.kind === 'mul' ? t.factors : [t]) {
      if (!readsIndex(f) || f.kind !== 'pow') continue;
      const parts = f.exp.kind === 'add' ? f.exp.terms : [f.exp];
      out.set(f.base, E.add(...parts.filter((x) => x.kind !== 'num')));
    }
    return out;
  };
  let common = indexPowers(terms[0]!);
  for (const t of terms.slice(1)) {
    const here = indexPowers(t);
    common = new Map([...common].filter(([b, e]) => here.get(b) === e));
  }
  if (common.size === 0) return [E.ONE, coef];
  const indexPart = E.mul(...[...common].map(([b, e]) => E.pow(b, e)));
  return [indexPart, expand(E.mul(E.pow(indexPart, E.MINUS_ONE), coef))];
}
