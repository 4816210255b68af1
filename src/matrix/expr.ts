/**
 * Matrix expressions: an immutable IR for the update and states of a `shape matrix` rule,
 * and for their Fréchet derivatives. Scalar coefficients (parameters, n) are scalar IR
 * expressions (src/ir/expr.ts). Constructors canonicalize: scalings move outward and merge,
 * like terms of a sum are collected, products are flattened, transposes move to the
 * leaves. `dpow(A, p, E)` and `dmsign(A, E)` are the directional derivatives of A^p and
 * msign(A) at A in the direction E (src/matrix/linalg.ts evaluates them).
 */
import * as E from '../ir/expr.js';
import type { Expr } from '../ir/expr.js';
import type { Rational } from '../ir/rational.js';
import { toNumber } from '../ir/rational.js';

/** Which side of the parameter a dimension is: its rows or its columns. */
export type Dim = 'r' | 'c';

export type MExpr =
  | { readonly kind: 'leaf'; readonly name: string; readonly rows: Dim; readonly cols: Dim; readonly sym: boolean }
  | { readonly kind: 'I'; readonly dim: Dim }
  | { readonly kind: 'zero' }
  | { readonly kind: 'scale'; readonly coef: Expr; readonly arg: MExpr }
  | { readonly kind: 'add'; readonly terms: readonly MExpr[] }
  | { readonly kind: 'mul'; readonly factors: readonly MExpr[] }
  | { readonly kind: 'had'; readonly a: MExpr; readonly b: MExpr }
  | { readonly kind: 'tr'; readonly arg: MExpr }
  | { readonly kind: 'pow'; readonly arg: MExpr; readonly p: Rational }
  | { readonly kind: 'msign'; readonly arg: MExpr }
  | { readonly kind: 'dpow'; readonly arg: MExpr; readonly p: Rational; readonly dir: MExpr }
  | { readonly kind: 'dmsign'; readonly arg: MExpr; readonly dir: MExpr };

/** Leaf names of M: the field V (= F) and the Hessian-vector product E = H[V]. */
export const FIELD = '@V';
export const HVP = '@E';

export const ZERO: MExpr = Object.freeze({ kind: 'zero' });
export const isZero = (m: MExpr) => m.kind === 'zero';

const keys = new WeakMap<MExpr, string>();

/** A structural key: equal keys, equal expressions. */
export function mkey(m: MExpr): string {
  let k = keys.get(m);
  if (k !== undefined) return k;
  switch (m.kind) {
    case 'leaf': k = m.name; break;
    case 'I': k = `I_${m.dim}`; break;
    case 'zero': k = '0'; break;
    case 'scale': k = `(${E.key(m.coef)})·${mkey(m.arg)}`; break;
    case 'add': k = `+(${m.terms.map(mkey).join(',')})`; break;
    case 'mul': k = `*(${m.factors.map(mkey).join(',')})`; break;
    case 'had': k = `.*(${mkey(m.a)},${mkey(m.b)})`; break;
    case 'tr': k = `'(${mkey(m.arg)})`; break;
    case 'pow': k = `pow(${mkey(m.arg)},${m.p.p}/${m.p.q})`; break;
    case 'msign': k = `msign(${mkey(m.arg)})`; break;
    case 'dpow': k = `dpow(${mkey(m.arg)},${m.p.p}/${m.p.q},${mkey(m.dir)})`; break;
    case 'dmsign': k = `dmsign(${mkey(m.arg)},${mkey(m.dir)})`; break;
  }
  keys.set(m, k);
  return k;
}

const freeze = <T extends MExpr>(m: T): T => Object.freeze(m);

export const leaf = (name: string, rows: Dim, cols: Dim, sym = false): MExpr => freeze({ kind: 'leaf', name, rows, cols, sym: sym && rows === cols });
export const I = (dim: Dim): MExpr => freeze({ kind: 'I', dim });

/** c·m, with c a scalar expression. */
export function scale(c: Expr, m: MExpr): MExpr {
  if (m.kind === 'zero' || E.isZero(c)) return ZERO;
  if (E.isOne(c)) return m;
  if (m.kind === 'scale') return scale(E.mul(c, m.coef), m.arg);
  return freeze({ kind: 'scale', coef: c, arg: m });
}

/** [coefficient, unscaled part]. */
export const splitScale = (m: MExpr): [Expr, MExpr] => (m.kind === 'scale' ? [m.coef, m.arg] : [E.ONE, m]);

export function add(...terms: MExpr[]): MExpr {
  const groups = new Map<string, { coef: Expr[]; arg: MExpr }>();
  const visit = (t: MExpr) => {
    if (t.kind === 'zero') return;
    if (t.kind === 'add') return t.terms.forEach(visit);
    const [c, a] = splitScale(t);
    const k = mkey(a);
    const g = groups.get(k);
    if (g) g.coef.push(c);
    else groups.set(k, { coef: [c], arg: a });
  };
  terms.forEach(visit);
  const out = [...groups.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([, g]) => scale(E.add(...g.coef), g.arg))
    .filter((t) => t.kind !== 'zero');
  if (out.length === 0) return ZERO;
  if (out.length === 1) return out[0]!;
  return freeze({ kind: 'add', terms: out });
}

export const sub = (a: MExpr, b: MExpr) => add(a, scale(E.MINUS_ONE, b));

/** The matrix product a₁·a₂·…; identities drop out, scalings move out. */
export function mul(...factors: MExpr[]): MExpr {
  let coef: Expr = E.ONE;
  const fs: MExpr[] = [];
  let dimOfI: MExpr | undefined;
  for (const f0 of factors) {
    const [c, f] = splitScale(f0);
    coef = E.mul(coef, c);
    if (f.kind === 'zero') return ZERO;
    if (f.kind === 'I') { dimOfI = f; continue; }
    if (f.kind === 'mul') fs.push(...f.factors);
    else fs.push(f);
  }
  if (fs.length === 0) return scale(coef, dimOfI ?? I('r'));
  if (fs.length === 1) return scale(coef, fs[0]!);
  return scale(coef, freeze({ kind: 'mul', factors: fs }));
}

export function had(a0: MExpr, b0: MExpr): MExpr {
  const [ca, a] = splitScale(a0);
  const [cb, b] = splitScale(b0);
  if (a.kind === 'zero' || b.kind === 'zero') return ZERO;
  return scale(E.mul(ca, cb), freeze({ kind: 'had', a, b }));
}

export function tr(m: MExpr): MExpr {
  switch (m.kind) {
    case 'zero': case 'I': return m;
    case 'leaf': return m.sym ? m : freeze({ kind: 'tr', arg: m });
    case 'scale': return scale(m.coef, tr(m.arg));
    case 'add': return add(...m.terms.map(tr));
    case 'mul': return mul(...[...m.factors].reverse().map(tr));
    case 'had': return had(tr(m.a), tr(m.b));
    case 'tr': return m.arg;
    // the argument of a power is symmetric, and D(A^p)[Eᵀ] = (D(A^p)[E])ᵀ
    case 'pow': return m;
    case 'dpow': return dpow(m.arg, m.p, tr(m.dir));
    case 'msign': return msign(tr(m.arg));
    case 'dmsign': return dmsign(tr(m.arg), tr(m.dir));
  }
}

export const pow = (arg: MExpr, p: Rational): MExpr => freeze({ kind: 'pow', arg, p });
export const msign = (arg: MExpr): MExpr => freeze({ kind: 'msign', arg });

/** D(A^p)[dir]: linear in dir, so its scaling moves out. */
export function dpow(arg: MExpr, p: Rational, dir0: MExpr): MExpr {
  const [c, dir] = splitScale(dir0);
  if (dir.kind === 'zero') return ZERO;
  return scale(c, freeze({ kind: 'dpow', arg, p, dir }));
}

export function dmsign(arg: MExpr, dir0: MExpr): MExpr {
  const [c, dir] = splitScale(dir0);
  if (dir.kind === 'zero') return ZERO;
  return scale(c, freeze({ kind: 'dmsign', arg, dir }));
}

/** Rebuilds m with every child mapped by f, and every scalar coefficient by fc. */
export function mapChildren(m: MExpr, f: (c: MExpr) => MExpr, fc: (e: Expr) => Expr = (e) => e): MExpr {
  switch (m.kind) {
    case 'leaf': case 'I': case 'zero': return m;
    case 'scale': return scale(fc(m.coef), f(m.arg));
    case 'add': return add(...m.terms.map(f));
    case 'mul': return mul(...m.factors.map(f));
    case 'had': return had(f(m.a), f(m.b));
    case 'tr': return tr(f(m.arg));
    case 'pow': return pow(f(m.arg), m.p);
    case 'msign': return msign(f(m.arg));
    case 'dpow': return dpow(f(m.arg), m.p, f(m.dir));
    case 'dmsign': return dmsign(f(m.arg), f(m.dir));
  }
}

export function mchildren(m: MExpr): MExpr[] {
  switch (m.kind) {
    case 'leaf': case 'I': case 'zero': return [];
    case 'scale': case 'tr': case 'pow': case 'msign': return [m.arg];
    case 'add': return [...m.terms];
    case 'mul': return [...m.factors];
    case 'had': return [m.a, m.b];
    case 'dpow': case 'dmsign': return [m.arg, m.dir];
  }
}

/** Replaces leaves by name. */
export function substitute(m: MExpr, map: ReadonlyMap<string, MExpr>): MExpr {
  if (m.kind === 'leaf') return map.get(m.name) ?? m;
  return mapChildren(m, (c) => substitute(c, map));
}

/** Maps every scalar coefficient. */
export function mapCoefficients(m: MExpr, fc: (e: Expr) => Expr): MExpr {
  return mapChildren(m, (c) => mapCoefficients(c, fc), fc);
}

export function readsLeaf(m: MExpr, name: string): boolean {
  return (m.kind === 'leaf' && m.name === name) || mchildren(m).some((c) => readsLeaf(c, name));
}

export function coefficients(m: MExpr, out: Expr[] = []): Expr[] {
  if (m.kind === 'scale') out.push(m.coef);
  for (const c of mchildren(m)) coefficients(c, out);
  return out;
}

/** Symmetric by structure: I, symmetric leaves, XᵀX-like palindromic products, sums and scalings of such, powers. */
export function isSymmetric(m: MExpr): boolean {
  switch (m.kind) {
    case 'I': case 'zero': case 'pow': return true;
    case 'leaf': return m.sym;
    case 'scale': return isSymmetric(m.arg);
    case 'add': return m.terms.every(isSymmetric);
    case 'had': return isSymmetric(m.a) && isSymmetric(m.b);
    case 'mul': {
      const f = m.factors;
      for (let i = 0, j = f.length - 1; i <= j; i++, j--) {
        if (i === j) return isSymmetric(f[i]!);
        if (mkey(f[i]!) !== mkey(tr(f[j]!))) return false;
      }
      return true;
    }
    case 'dpow': return isSymmetric(m.dir);
    case 'tr': case 'msign': case 'dmsign': return false;
  }
}

export const pValue = (p: Rational) => toNumber(p);
