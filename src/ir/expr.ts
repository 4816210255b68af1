/**
 * The expression IR: an immutable tagged union built only through the constructors below,
 * which canonicalize (flatten, fold numbers, collect like terms and like bases) and freeze.
 * Subtraction and division desugar at construction: a − b = a + (−1)·b, a / b = a·b^(−1).
 * Some canonical rewrites hold only almost everywhere (sign(x)² = 1 needs x ≠ 0); the
 * derivation states that assumption, and random-point checks never sample x = 0.
 */
import * as Q from './rational.js';
import type { Rational } from './rational.js';

export type FnName = 'abs' | 'sign' | 'exp' | 'log' | 'tanh';
export const FN_NAMES: readonly FnName[] = ['abs', 'sign', 'exp', 'log', 'tanh'];

export type Expr = Num | Sym | Add | Mul | Pow | Call | Sum;
export interface Num { readonly kind: 'num'; readonly value: Rational }
export interface Sym { readonly kind: 'sym'; readonly name: string }
export interface Add { readonly kind: 'add'; readonly terms: readonly Expr[] }
export interface Mul { readonly kind: 'mul'; readonly factors: readonly Expr[] }
export interface Pow { readonly kind: 'pow'; readonly base: Expr; readonly exp: Expr }
export interface Call { readonly kind: 'call'; readonly fn: FnName; readonly arg: Expr }
/** Σ_{index = lo}^{hi} body — kept only when no closed form exists. */
export interface Sum { readonly kind: 'sum'; readonly index: string; readonly lo: Expr; readonly hi: Expr; readonly body: Expr }

/*
 * Hash-consing: structurally equal expressions are the same object, so equality is identity
 * and a key is a short id. Ids depend on construction order and are never used for
 * ordering; canonical order is the structural comparison `compareExpr`, so output bytes
 * do not depend on what was derived before in the same process.
 */
const ids = new WeakMap<Expr, number>();
const table = new Map<string, Expr>();
let nextId = 0;

function intern<T extends Expr>(shallow: string, make: () => T): T {
  const hit = table.get(shallow);
  if (hit) return hit as T;
  const node = Object.freeze(make()) as T;
  ids.set(node, nextId++);
  table.set(shallow, node);
  return node;
}

/** A key that is equal for structurally equal expressions (an id; not an order). */
export function key(e: Expr): string {
  return String(ids.get(e));
}

export const equal = (a: Expr, b: Expr) => a === b;

const RANK: Record<Expr['kind'], number> = { num: 0, sym: 1, call: 2, pow: 3, mul: 4, add: 5, sum: 6 };

/** Canonical structural order (numbers first; a power sorts next to its base). */
export function compareExpr(a: Expr, b: Expr): number {
  if (a === b) return 0;
  if (a.kind === 'pow' || b.kind === 'pow') {
    const [ba, ea] = a.kind === 'pow' ? [a.base, a.exp] : [a, ONE];
    const [bb, eb] = b.kind === 'pow' ? [b.base, b.exp] : [b, ONE];
    return compareExpr(ba, bb) || compareExpr(ea, eb);
  }
  if (a.kind !== b.kind) return RANK[a.kind] - RANK[b.kind];
  switch (a.kind) {
    case 'num': return Q.cmp(a.value, (b as Num).value);
    case 'sym': return a.name < (b as Sym).name ? -1 : a.name > (b as Sym).name ? 1 : 0;
    case 'call': return a.fn < (b as Call).fn ? -1 : a.fn > (b as Call).fn ? 1 : compareExpr(a.arg, (b as Call).arg);
    case 'add': return compareLists(a.terms, (b as Add).terms);
    case 'mul': return compareLists(a.factors, (b as Mul).factors);
    case 'sum': {
      const c = b as Sum;
      return (a.index < c.index ? -1 : a.index > c.index ? 1 : 0) || compareExpr(a.lo, c.lo) || compareExpr(a.hi, c.hi) || compareExpr(a.body, c.body);
    }
  }
  return 0; // pow is handled above
}

function compareLists(a: readonly Expr[], b: readonly Expr[]): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    const c = compareExpr(a[i]!, b[i]!);
    if (c) return c;
  }
  return a.length - b.length;
}

const byKey = compareExpr;
const idList = (xs: readonly Expr[]) => xs.map(key).join(',');

/** An expression that divides by zero exactly (e.g. a derivative of √x taken at x = 0). */
export class SingularError extends Error {}

// ---- leaves ---------------------------------------------------------------------------
export function numR(value: Rational): Num {
  return intern(`#${Q.ratToString(value)}`, () => ({ kind: 'num', value }));
}
export function num(p: number | bigint, q: number | bigint = 1): Num {
  if (typeof p === 'number' && !Number.isInteger(p)) return numR(Q.ratFromDecimal(String(p)));
  return numR(Q.rat(p, q));
}
export function sym(name: string): Sym {
  return intern(`$${name}`, () => ({ kind: 'sym', name }));
}
export const ZERO = num(0);
export const ONE = num(1);
export const MINUS_ONE = num(-1);
export const HALF = num(1, 2);

export const isNum = (e: Expr): e is Num => e.kind === 'num';
export const isZero = (e: Expr) => e.kind === 'num' && Q.isZero(e.value);
export const isOne = (e: Expr) => e.kind === 'num' && Q.isOne(e.value);
export const isIntegerNum = (e: Expr): boolean => e.kind === 'num' && Q.isInteger(e.value);
const isEvenInteger = (e: Expr) => e.kind === 'num' && e.value.q === 1n && e.value.p % 2n === 0n;
const isOddInteger = (e: Expr) => e.kind === 'num' && e.value.q === 1n && e.value.p % 2n !== 0n;

// ---- add ------------------------------------------------------------------------------
/** Splits a term into its numeric coefficient and the rest: 3·x·y → (3, x·y). */
export function splitCoefficient(e: Expr): [Rational, Expr] {
  if (e.kind === 'num') return [e.value, ONE];
  if (e.kind === 'mul' && e.factors[0]!.kind === 'num') {
    const rest = e.factors.slice(1);
    return [(e.factors[0] as Num).value, rest.length === 1 ? rest[0]! : freezeMul(rest)];
  }
  return [Q.ONE, e];
}

export function add(...terms: Expr[]): Expr {
  const flat: Expr[] = [];
  for (const t of terms) {
    if (t.kind === 'add') flat.push(...t.terms);
    else flat.push(t);
  }
  let constant = Q.ZERO;
  const groups = new Map<string, { rest: Expr; coef: Rational }>();
  for (const t of flat) {
    if (t.kind === 'num') { constant = Q.add(constant, t.value); continue; }
    const [coef, rest] = splitCoefficient(t);
    const k = key(rest);
    const g = groups.get(k);
    if (g) g.coef = Q.add(g.coef, coef);
    else groups.set(k, { rest, coef });
  }
  const out: Expr[] = [];
  for (const { rest, coef } of groups.values()) {
    if (Q.isZero(coef)) continue;
    out.push(Q.isOne(coef) ? rest : mul(numR(coef), rest));
  }
  out.sort(byKey);
  if (!Q.isZero(constant)) out.unshift(numR(constant));
  if (out.length === 0) return ZERO;
  if (out.length === 1) return out[0]!;
  return intern(`+${idList(out)}`, () => ({ kind: 'add', terms: Object.freeze(out) }));
}

// ---- mul ------------------------------------------------------------------------------
function freezeMul(factors: Expr[]): Mul {
  return intern(`*${idList(factors)}`, () => ({ kind: 'mul', factors: Object.freeze(factors) }));
}

const baseOf = (e: Expr): [Expr, Expr] => (e.kind === 'pow' ? [e.base, e.exp] : [e, ONE]);

export function mul(...factors: Expr[]): Expr {
  const flat: Expr[] = [];
  for (const f of factors) {
    if (f.kind === 'mul') flat.push(...f.factors);
    else flat.push(f);
  }
  let coef = Q.ONE;
  const groups = new Map<string, { base: Expr; exps: Expr[] }>();
  for (const f of flat) {
    if (f.kind === 'num') { coef = Q.mul(coef, f.value); continue; }
    const [base, exp] = baseOf(f);
    const k = key(base);
    const g = groups.get(k);
    if (g) g.exps.push(exp);
    else groups.set(k, { base, exps: [exp] });
  }
  if (Q.isZero(coef)) return ZERO;
  consolidateAbsSign(groups);
  const rebuilt: Expr[] = [];
  let changed = false;
  for (const { base, exps } of groups.values()) {
    const p = pow(base, exps.length === 1 ? exps[0]! : add(...exps));
    if (p.kind === 'num') { coef = Q.mul(coef, p.value); changed = true; continue; }
    if (p.kind === 'mul') changed = true;
    rebuilt.push(p);
  }
  if (changed) return mul(numR(coef), ...rebuilt);
  if (Q.isZero(coef)) return ZERO;
  rebuilt.sort(byKey);
  if (!Q.isOne(coef)) rebuilt.unshift(numR(coef));
  if (rebuilt.length === 0) return numR(coef);
  if (rebuilt.length === 1) return rebuilt[0]!;
  return freezeMul(rebuilt);
}

/**
 * x = sign(x)·|x| for real x ≠ 0, so x^a·|x|^b·sign(x)^c = |x|^(a+b)·sign(x)^(a+c) (a, c integers);
 * written back as x^(a+b) when the parities allow. Applied only when |x| or sign(x) occurs.
 */
function consolidateAbsSign(groups: Map<string, { base: Expr; exps: Expr[] }>) {
  for (const [k, g] of [...groups]) {
    if (!groups.has(k)) continue;
    const b = g.base;
    if (b.kind !== 'call' || (b.fn !== 'abs' && b.fn !== 'sign')) continue;
    const xk = key(b.arg);
    const absK = key(call('abs', b.arg));
    const signK = key(call('sign', b.arg));
    const xs = groups.get(xk);
    const ab = groups.get(absK);
    const sg = groups.get(signK);
    const total = (g?: { exps: Expr[] }) => (g ? add(...g.exps) : ZERO);
    const a = total(xs);
    const c = total(sg);
    if (a.kind !== 'num' || !Q.isInteger(a.value) || c.kind !== 'num' || !Q.isInteger(c.value)) continue;
    const absExp = add(a, total(ab));
    const signOdd = ((a.value.p + c.value.p) % 2n + 2n) % 2n === 1n;
    groups.delete(xk); groups.delete(absK); groups.delete(signK);
    const put = (base: Expr, exp: Expr) => {
      if (isZero(exp)) return;
      groups.set(key(base), { base, exps: [exp] });
    };
    if (!signOdd) {
      if (isEvenInteger(absExp)) put(b.arg, absExp);
      else put(call('abs', b.arg), absExp);
    } else if (isOddInteger(absExp)) {
      put(b.arg, absExp);
    } else {
      put(call('sign', b.arg), ONE);
      put(call('abs', b.arg), absExp);
    }
  }
}

/**
 * Symbols that only ever hold non-negative integers: the step n, lags and summation indices,
 * and for mini-batches the gradient lag @l, the lag difference @d and the batch count @m.
 */
export const INDEX_SYMBOLS: ReadonlySet<string> = new Set(['n', '@J', '@K', '@u', '@s', '@l', '@d', '@m']);

/** True when e is built from integers and index symbols by + and ·. */
export function isIntegerValued(e: Expr): boolean {
  switch (e.kind) {
    case 'num': return e.value.q === 1n;
    case 'sym': return INDEX_SYMBOLS.has(e.name);
    case 'add': return e.terms.every(isIntegerValued);
    case 'mul': return e.factors.every(isIntegerValued);
    default: return false;
  }
}

// ---- pow ------------------------------------------------------------------------------
/**
 * 0^x with x an integer index expression is the Kronecker factor [x = 0] (decay-0 states:
 * 0⁰ = 1): printed as the equation it tests, i + c → i = −c.
 */
export function kroneckerEquation(x: Expr): [Expr, Expr] {
  if (x.kind === 'add' && x.terms.length === 2 && x.terms[0]!.kind === 'num' && x.terms[1]!.kind === 'sym') return [x.terms[1]!, neg(x.terms[0]!)];
  return [x, ZERO];
}

/** An exponent that is positive because it is indices (never negative) plus a positive constant. */
function positiveIndexExponent(x: Expr): boolean {
  if (x.kind !== 'add' || x.terms[0]!.kind !== 'num' || Q.cmp(x.terms[0]!.value, Q.ZERO) <= 0) return false;
  return x.terms.slice(1).every((t) => {
    const [c, rest] = splitCoefficient(t);
    return Q.cmp(c, Q.ZERO) > 0 && rest.kind === 'sym' && INDEX_SYMBOLS.has(rest.name);
  });
}

export function pow(base: Expr, exp: Expr): Expr {
  if (isZero(exp)) return ONE;
  if (isOne(exp)) return base;
  // [k + 1 = 0] never holds for a lag k ≥ 0
  if (isZero(base) && positiveIndexExponent(exp)) return ZERO;
  if (base.kind === 'num') {
    if (Q.isOne(base.value)) return ONE;
    if (exp.kind === 'num') {
      if (Q.isZero(base.value)) {
        if (Q.cmp(exp.value, Q.ZERO) > 0) return ZERO;
        throw new SingularError('0 raised to a non-positive power');
      }
      if (Q.isInteger(exp.value)) {
        const r = Q.powInt(base.value, exp.value.p);
        if (r) return numR(r);
      } else if (Q.cmp(base.value, Q.ZERO) > 0) {
        const root = Q.rootExact(base.value, exp.value.q);
        if (root) {
          const r = Q.powInt(root, exp.value.p);
          if (r) return numR(r);
        }
      }
    }
  }
  if (base.kind === 'pow') {
    if (isIntegerNum(exp)) return pow(base.base, mul(base.exp, exp));
    // (b^c)^e = b^(c·e) for integer c and integer-valued e (a step or lag index)
    if (isIntegerNum(base.exp) && isIntegerValued(exp)) return pow(base.base, mul(base.exp, exp));
    // (x^(2m))^e = |x|^(2m·e) for real x
    if (isEvenInteger(base.exp) && exp.kind === 'num') return pow(call('abs', base.base), mul(base.exp, exp));
  }
  if (base.kind === 'mul') {
    // (x·y)^k = x^k·y^k for integer k, and k may be a step index: (β₂/β₁²)ⁿ = β₂ⁿ·β₁⁻²ⁿ
    if (isIntegerNum(exp) || isIntegerValued(exp)) return mul(...base.factors.map((f) => pow(f, exp)));
    const c = base.factors[0]!;
    if (c.kind === 'num' && Q.cmp(c.value, Q.ZERO) > 0) {
      // (c·X)^e = c^e·X^e for c > 0
      return mul(pow(c, exp), pow(freezeMulOrSingle(base.factors.slice(1)), exp));
    }
  }
  if (base.kind === 'call') {
    if (base.fn === 'abs' && isEvenInteger(exp)) return pow(base.arg, exp);
    if (base.fn === 'sign' && isIntegerNum(exp)) return isEvenInteger(exp) ? ONE : base;
    if (base.fn === 'exp') return call('exp', mul(base.arg, exp));
  }
  return intern(`^${key(base)},${key(exp)}`, () => ({ kind: 'pow', base, exp }));
}

const freezeMulOrSingle = (fs: readonly Expr[]): Expr => (fs.length === 1 ? fs[0]! : freezeMul([...fs]));

// ---- functions ------------------------------------------------------------------------
export function call(fn: FnName, arg: Expr): Expr {
  switch (fn) {
    case 'abs':
      if (arg.kind === 'num') return numR(Q.cmp(arg.value, Q.ZERO) < 0 ? Q.neg(arg.value) : arg.value);
      if (arg.kind === 'mul') return mul(...arg.factors.map((f) => call('abs', f)));
      if (arg.kind === 'call' && (arg.fn === 'abs' || arg.fn === 'exp')) return arg;
      if (arg.kind === 'pow' && isEvenInteger(arg.exp)) return arg;
      if (arg.kind === 'pow' && isIntegerNum(arg.exp)) return pow(call('abs', arg.base), arg.exp);
      if (arg.kind === 'pow' && arg.exp.kind === 'num') return arg; // x^(p/q) ≥ 0 where defined
      break;
    case 'sign':
      if (arg.kind === 'num') return num(Q.cmp(arg.value, Q.ZERO));
      if (arg.kind === 'mul') return mul(...arg.factors.map((f) => call('sign', f)));
      if (arg.kind === 'call' && arg.fn === 'sign') return arg;
      if (arg.kind === 'call' && arg.fn === 'tanh') return call('sign', arg.arg);
      if (arg.kind === 'call' && (arg.fn === 'abs' || arg.fn === 'exp')) return ONE; // a.e.
      if (arg.kind === 'pow' && isEvenInteger(arg.exp)) return ONE; // a.e.
      if (arg.kind === 'pow' && isIntegerNum(arg.exp)) return call('sign', arg.base);
      if (arg.kind === 'pow' && arg.exp.kind === 'num') return ONE; // x^(p/q) > 0 where defined, a.e.
      break;
    case 'exp':
      if (isZero(arg)) return ONE;
      if (arg.kind === 'call' && arg.fn === 'log') return arg.arg;
      break;
    case 'log':
      if (isOne(arg)) return ZERO;
      if (arg.kind === 'call' && arg.fn === 'exp') return arg.arg;
      break;
    case 'tanh': {
      if (isZero(arg)) return ZERO;
      // odd: tanh(−x) = −tanh(x), so that an argument and its negation share one atom
      const flipped = negated(arg);
      if (flipped) return neg(call('tanh', flipped));
      break;
    }
  }
  return intern(`${fn}(${key(arg)})`, () => ({ kind: 'call', fn, arg }));
}

/** −e when e reads as a negation (a negative coefficient, or a sum of such terms only), else undefined. */
function negated(e: Expr): Expr | undefined {
  const negative = (t: Expr) => Q.cmp(splitCoefficient(t)[0], Q.ZERO) < 0;
  if (e.kind === 'add') return e.terms.every(negative) ? add(...e.terms.map(neg)) : undefined;
  return negative(e) ? neg(e) : undefined;
}

export function sum(index: string, lo: Expr, hi: Expr, body: Expr): Expr {
  if (!hasSymbol(body, index)) return mul(add(hi, neg(lo), ONE), body);
  return intern(`S${index},${key(lo)},${key(hi)},${key(body)}`, () => ({ kind: 'sum', index, lo, hi, body }));
}

// ---- sugar ----------------------------------------------------------------------------
export const neg = (a: Expr) => mul(MINUS_ONE, a);
export const sub = (a: Expr, b: Expr) => add(a, neg(b));
export const div = (a: Expr, b: Expr) => mul(a, pow(b, MINUS_ONE));
export const sqrt = (a: Expr) => pow(a, HALF);
export const abs = (a: Expr) => call('abs', a);
export const sign = (a: Expr) => call('sign', a);
export const tanh = (a: Expr) => call('tanh', a);

// ---- traversal ------------------------------------------------------------------------
export function children(e: Expr): readonly Expr[] {
  switch (e.kind) {
    case 'num': case 'sym': return [];
    case 'add': return e.terms;
    case 'mul': return e.factors;
    case 'pow': return [e.base, e.exp];
    case 'call': return [e.arg];
    case 'sum': return [e.lo, e.hi, e.body];
  }
}

/** Rebuilds e with new children through the canonicalizing constructors. */
export function withChildren(e: Expr, c: readonly Expr[]): Expr {
  switch (e.kind) {
    case 'num': case 'sym': return e;
    case 'add': return add(...c);
    case 'mul': return mul(...c);
    case 'pow': return pow(c[0]!, c[1]!);
    case 'call': return call(e.fn, c[0]!);
    case 'sum': return sum(e.index, c[0]!, c[1]!, c[2]!);
  }
}

/** Bottom-up rewrite; f sees nodes whose children are already rewritten. */
export function mapBottomUp(e: Expr, f: (e: Expr) => Expr, memo = new Map<string, Expr>()): Expr {
  const k = key(e);
  const hit = memo.get(k);
  if (hit) return hit;
  const cs = children(e);
  const rebuilt = cs.length ? withChildren(e, cs.map((c) => mapBottomUp(c, f, memo))) : e;
  const out = f(rebuilt);
  memo.set(k, out);
  return out;
}

export function hasSymbol(e: Expr, name: string): boolean {
  if (e.kind === 'sym') return e.name === name;
  if (e.kind === 'sum' && e.index === name) return hasSymbol(e.lo, name) || hasSymbol(e.hi, name);
  return children(e).some((c) => hasSymbol(c, name));
}

export function freeSymbols(e: Expr, out = new Set<string>()): Set<string> {
  if (e.kind === 'sym') out.add(e.name);
  else if (e.kind === 'sum') {
    freeSymbols(e.lo, out); freeSymbols(e.hi, out);
    const inner = freeSymbols(e.body);
    inner.delete(e.index);
    for (const s of inner) out.add(s);
  } else for (const c of children(e)) freeSymbols(c, out);
  return out;
}

/** Substitutes symbols by expressions (simultaneously). */
export function subs(e: Expr, map: ReadonlyMap<string, Expr> | Record<string, Expr>): Expr {
  const m = map instanceof Map ? map : new Map(Object.entries(map));
  if (m.size === 0) return e;
  const go = (x: Expr): Expr => {
    if (x.kind === 'sym') return m.get(x.name) ?? x;
    if (x.kind === 'num') return x;
    if (x.kind === 'sum' && m.has(x.index)) {
      const inner = new Map(m);
      inner.delete(x.index);
      return sum(x.index, go(x.lo), go(x.hi), subs(x.body, inner));
    }
    return withChildren(x, children(x).map(go));
  };
  return go(e);
}

export function numValue(e: Expr): number | undefined {
  return e.kind === 'num' ? Q.toNumber(e.value) : undefined;
}

const sizes = new WeakMap<Expr, number>();
/** Number of nodes in the tree (shared subtrees counted each time they occur). */
export function size(e: Expr): number {
  let n = sizes.get(e);
  if (n === undefined) {
    n = 1;
    for (const c of children(e)) n += size(c);
    sizes.set(e, n);
  }
  return n;
}
