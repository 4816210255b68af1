/**
 * A small table of antiderivatives in x, enough for the fields optimizers produce; other
 * integrands go to the nerdamer bridge. Every result is verified by the caller.
 *   ∫ xⁿ = xⁿ⁺¹/(n+1), ∫ x⁻¹ = log x
 *   ∫ (x+a)ᵖ = (x+a)ᵖ⁺¹/(p+1), ∫ (x+a)⁻¹ = log(x+a)
 *   ∫ x·(x+a)ᵖ = ∫ (x+a)ᵖ⁺¹ − a·∫ (x+a)ᵖ
 *   ∫ x·(x²+a)ᵖ = (x²+a)ᵖ⁺¹/(2(p+1)), ∫ x·(x²+a)⁻¹ = log(x²+a)/2
 *   ∫ tanh(kx) = (|kx| + log(1 + e^(−2|kx|)))/k   (log cosh(kx) + log 2, with no exp to overflow)
 *   ∫ e^(kx) = e^(kx)/k, ∫ x·e^(kx²) = e^(kx²)/(2k)
 */
import * as E from '../ir/expr.js';
import type { Expr } from '../ir/expr.js';
import { expand, normalForm } from '../derive/simplify.js';
import { antiderivative as viaNerdamer } from '../cas/nerdamer.js';

/** a when base = x^d + a with a free of x (d = 1 or 2), else undefined. */
function shifted(base: Expr, x: string, d: 1 | 2): Expr | undefined {
  if (base.kind !== 'add') return undefined;
  const X = d === 1 ? E.sym(x) : E.pow(E.sym(x), E.num(2));
  const rest = base.terms.filter((t) => t !== X);
  if (rest.length !== base.terms.length - 1 || rest.some((t) => E.hasSymbol(t, x))) return undefined;
  return E.add(...rest);
}

/** k when u = k·xᵈ with k free of x, else undefined. */
function scaleOf(u: Expr, x: string, d: 1 | 2): Expr | undefined {
  const k = normalForm(E.div(u, E.pow(E.sym(x), E.num(d))));
  return E.hasSymbol(k, x) || E.isZero(k) ? undefined : k;
}

/** k when u = k·x with k free of x, else undefined. */
function slope(u: Expr, x: string): Expr | undefined {
  const X = E.sym(x);
  if (u === X) return E.ONE;
  if (u.kind !== 'mul' || !u.factors.includes(X)) return undefined;
  const k = u.factors.filter((f) => f !== X);
  return k.some((f) => E.hasSymbol(f, x)) ? undefined : E.mul(...k);
}

function powerRule(u: Expr, p: Expr, scale: Expr): Expr {
  // scale·∫ uᵖ du
  if (p.kind === 'num' && p.value.p === -p.value.q) return E.mul(scale, E.call('log', u));
  return E.mul(scale, E.pow(u, E.add(p, E.ONE)), E.pow(E.add(p, E.ONE), E.MINUS_ONE));
}

function term(t: Expr, x: string): Expr | undefined {
  const X = E.sym(x);
  const factors = t.kind === 'mul' ? t.factors : [t];
  const constant = E.mul(...factors.filter((f) => !E.hasSymbol(f, x)));
  const varying = factors.filter((f) => E.hasSymbol(f, x));
  if (varying.length === 0) return E.mul(constant, X);
  const parts = varying.map((f) => (f.kind === 'pow' ? [f.base, f.exp] as const : [f, E.ONE] as const));
  if (parts.some(([, p]) => E.hasSymbol(p, x))) return undefined;
  if (parts.length === 1) {
    const [b, p] = parts[0]!;
    if (b === X) return powerRule(X, p, constant);
    const k = b.kind === 'call' && b.fn === 'tanh' && E.isOne(p) ? slope(b.arg, x) : undefined;
    if (k) {
      const a = E.abs(E.mul(k, X));
      return E.mul(constant, E.add(a, E.call('log', E.add(E.ONE, E.call('exp', E.mul(E.num(-2), a))))), E.pow(k, E.MINUS_ONE));
    }
    const a = shifted(b, x, 1);
    if (a) return powerRule(b, p, constant);
    const ke = b.kind === 'call' && b.fn === 'exp' && E.isOne(p) ? scaleOf(b.arg, x, 1) : undefined;
    if (ke) return E.mul(constant, b, E.pow(ke, E.MINUS_ONE));
    return undefined;
  }
  if (parts.length === 2) {
    const xi = parts.findIndex(([b, p]) => b === X && E.isOne(p));
    if (xi < 0) return undefined;
    const [b, p] = parts[1 - xi]!;
    const a1 = shifted(b, x, 1);
    if (a1) return E.add(powerRule(b, E.add(p, E.ONE), constant), powerRule(b, p, E.mul(E.MINUS_ONE, a1, constant)));
    if (shifted(b, x, 2)) return powerRule(b, p, E.mul(constant, E.HALF));
    const k2 = b.kind === 'call' && b.fn === 'exp' && E.isOne(p) ? scaleOf(b.arg, x, 2) : undefined;
    if (k2) return E.mul(constant, b, E.pow(E.mul(E.num(2), k2), E.MINUS_ONE));
  }
  return undefined;
}

/** An antiderivative of e in x (unverified), or undefined when neither the table nor nerdamer finds one. */
export function antiderivative(e: Expr, x: string): Expr | undefined {
  const ex = expand(e);
  const parts = (ex.kind === 'add' ? ex.terms : [ex]).map((t) => term(t, x));
  if (parts.every((p) => p !== undefined)) return E.add(...(parts as Expr[]));
  return viaNerdamer(e, x);
}
