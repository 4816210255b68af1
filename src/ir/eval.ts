/** Numeric evaluation of IR expressions in float64 (random-point checks, tests, interpreters). */
import type { Expr } from './expr.js';
import { toNumber } from './rational.js';

export type Env = Readonly<Record<string, number>>;

/** Evaluates e; unbound symbols throw. `sum` nodes are evaluated by looping. */
export function evaluate(e: Expr, env: Env): number {
  switch (e.kind) {
    case 'num': return toNumber(e.value);
    case 'sym': {
      const v = env[e.name];
      if (v === undefined) throw new Error(`internal: unbound symbol '${e.name}' in evaluation`);
      return v;
    }
    case 'add': {
      let s = 0;
      for (const t of e.terms) s += evaluate(t, env);
      return s;
    }
    case 'mul': {
      let p = 1;
      for (const f of e.factors) p *= evaluate(f, env);
      return p;
    }
    case 'pow': {
      const b = evaluate(e.base, env);
      const x = evaluate(e.exp, env);
      // odd roots of negatives are not used: real powers with fractional exponents need b ≥ 0
      return x === 0.5 ? Math.sqrt(b) : Math.pow(b, x);
    }
    case 'call': {
      const a = evaluate(e.arg, env);
      switch (e.fn) {
        case 'abs': return Math.abs(a);
        case 'sign': return Math.sign(a);
        case 'exp': return Math.exp(a);
        case 'log': return Math.log(a);
      }
    }
    // falls through only if a new FnName is added without a case (caught by the type checker)
    case 'sum': {
      if (e.kind !== 'sum') throw new Error('internal: unknown function');
      const lo = Math.round(evaluate(e.lo, env));
      const hi = Math.round(evaluate(e.hi, env));
      let s = 0;
      const inner: Record<string, number> = { ...env };
      for (let i = lo; i <= hi; i++) {
        inner[e.index] = i;
        s += evaluate(e.body, inner);
      }
      return s;
    }
  }
}
