/** Symbolic differentiation over the IR. */
import * as E from '../ir/expr.js';
import type { Expr } from '../ir/expr.js';

export interface DiffContext {
  /** Called when d sign(u)/dx = 0 is used with u depending on x: true only almost everywhere. */
  onSignDerivative?: (arg: Expr) => void;
}

export function diff(e: Expr, x: string, ctx: DiffContext = {}): Expr {
  const memo = new Map<string, Expr>();
  const d = (u: Expr): Expr => {
    if (!E.hasSymbol(u, x)) return E.ZERO;
    const k = E.key(u);
    const hit = memo.get(k);
    if (hit) return hit;
    let r: Expr;
    switch (u.kind) {
      case 'num': r = E.ZERO; break;
      case 'sym': r = u.name === x ? E.ONE : E.ZERO; break;
      case 'add': r = E.add(...u.terms.map(d)); break;
      case 'mul': {
        // product rule: Σᵢ fᵢ' Πⱼ≠ᵢ fⱼ
        const fs = u.factors;
        r = E.add(...fs.map((f, i) => E.mul(d(f), ...fs.filter((_, j) => j !== i))));
        break;
      }
      case 'pow': {
        const { base, exp } = u;
        if (!E.hasSymbol(exp, x)) r = E.mul(exp, E.pow(base, E.sub(exp, E.ONE)), d(base));
        else if (!E.hasSymbol(base, x)) r = E.mul(u, E.call('log', base), d(exp));
        // d(b^p) = b^p (p' log b + p b'/b)
        else r = E.mul(u, E.add(E.mul(d(exp), E.call('log', base)), E.mul(exp, d(base), E.pow(base, E.MINUS_ONE))));
        break;
      }
      case 'call':
        switch (u.fn) {
          case 'abs': r = E.mul(E.sign(u.arg), d(u.arg)); break;
          case 'sign': ctx.onSignDerivative?.(u.arg); r = E.ZERO; break; // sign' = 0 away from 0
          case 'exp': r = E.mul(u, d(u.arg)); break;
          case 'log': r = E.mul(d(u.arg), E.pow(u.arg, E.MINUS_ONE)); break;
          case 'tanh': r = E.mul(E.sub(E.ONE, E.pow(u, E.num(2))), d(u.arg)); break; // tanh' = 1 − tanh²
        }
        break;
      case 'sum':
        if (E.hasSymbol(u.lo, x) || E.hasSymbol(u.hi, x)) throw new Error('internal: derivative of a sum with variable bounds');
        r = u.index === x ? E.ZERO : E.sum(u.index, u.lo, u.hi, d(u.body));
        break;
    }
    memo.set(k, r!);
    return r!;
  };
  return d(e);
}
