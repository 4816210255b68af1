/** Numeric evaluation of IR expressions in float64 (random-point checks, tests, interpreters). */
import type { Expr } from './expr.js';
import { toNumber } from './rational.js';
import { own } from './dict.js';

export type Env = Readonly<Record<string, number>>;

/** Evaluates e; unbound symbols throw (only own properties of env bind). `sum` nodes are evaluated by looping. */
export function evaluate(e: Expr, env: Env): number {
  switch (e.kind) {
    case 'num': return toNumber(e.value);
    case 'sym': {
      const v = own(env, e.name);
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
        case 'tanh': return Math.tanh(a);
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

const U = 2 ** -53;

/**
 * Value and a first-order bound on its rounding error (running error analysis), so that
 * identity checks can tell a wrong rewrite from an ill-conditioned but exact one.
 */
export function evaluateWithError(e: Expr, env: Env): [number, number] {
  switch (e.kind) {
    case 'num': {
      const v = toNumber(e.value);
      return [v, e.value.q === 1n ? 0 : Math.abs(v) * U];
    }
    case 'sym': return [evaluate(e, env), 0];
    case 'add': {
      let s = 0, err = 0, mag = 0;
      for (const t of e.terms) {
        const [v, ev] = evaluateWithError(t, env);
        s += v; err += ev; mag += Math.abs(v);
      }
      return [s, err + mag * U * e.terms.length];
    }
    case 'mul': {
      let p = 1, rel = 0, absErr = 0;
      const vals = e.factors.map((f) => evaluateWithError(f, env));
      for (const [v] of vals) p *= v;
      for (let i = 0; i < vals.length; i++) {
        const [v, ev] = vals[i]!;
        if (v !== 0) rel += ev / Math.abs(v);
        else absErr += ev * Math.abs(vals.reduce((acc, [w], j) => (j === i ? acc : acc * w), 1));
      }
      return [p, Math.abs(p) * (rel + U * vals.length) + absErr];
    }
    case 'pow': {
      const [b, eb] = evaluateWithError(e.base, env);
      const [x, ex] = evaluateWithError(e.exp, env);
      const v = x === 0.5 ? Math.sqrt(b) : Math.pow(b, x);
      const relB = b !== 0 ? eb / Math.abs(b) : 0;
      return [v, Math.abs(v) * (Math.abs(x) * relB + (b > 0 ? Math.abs(Math.log(b)) * ex : 0) + U)];
    }
    case 'call': {
      const [a, ea] = evaluateWithError(e.arg, env);
      switch (e.fn) {
        case 'abs': return [Math.abs(a), ea];
        case 'sign': return [Math.sign(a), Math.abs(a) <= ea ? 2 : 0];
        case 'exp': { const v = Math.exp(a); return [v, v * (ea + U)]; }
        case 'log': return [Math.log(a), ea / Math.abs(a) + U];
        case 'tanh': { const v = Math.tanh(a); return [v, (1 - v * v) * ea + Math.abs(v) * U]; }
      }
      return [NaN, 0];
    }
    case 'sum': {
      const v = evaluate(e, env);
      return [v, Math.abs(v) * 1e3 * U];
    }
  }
}
