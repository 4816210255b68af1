/**
 * Prints a loop-invariant Expr as a JavaScript closure `(A, x) => …` over the extended-precision
 * arithmetic of src/runtime/precise.ts: every operation is a call on `A`, the inputs are
 * `x[i]`, and rational literals are built exactly from their numerator and denominator, so
 * that no intermediate is rounded to float64.
 */
import type { Expr } from '../ir/expr.js';
import * as Q from '../ir/rational.js';

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

function int(v: bigint): string {
  if (v >= -MAX_SAFE && v <= MAX_SAFE) return `A.num(${v.toString()})`;
  // beyond 2^53: split, so the literal stays exact
  const hi = v / 2n ** 32n, lo = v % 2n ** 32n;
  return `A.add(A.mul(${int(hi)}, A.num(4294967296)), A.num(${lo.toString()}))`;
}

function literal(v: Q.Rational): string {
  return v.q === 1n ? int(v.p) : `A.mul(${int(v.p)}, A.inv(${int(v.q)}))`;
}

/** The closure's body for e; `input(symbol)` is the index of a symbol in x. */
export function toPrecise(e: Expr, input: (symbol: string) => number, locals: ReadonlyMap<string, string> = new Map()): string {
  const p = (x: Expr) => toPrecise(x, input, locals);
  switch (e.kind) {
    case 'num': return literal(e.value);
    case 'sym': return locals.get(e.name) ?? `x[${input(e.name)}]`;
    case 'add': return `A.add(${e.terms.map(p).join(', ')})`;
    case 'mul': return `A.mul(${e.factors.map(p).join(', ')})`;
    case 'pow':
      if (e.exp.kind === 'num' && e.exp.value.p === -1n && e.exp.value.q === 1n) return `A.inv(${p(e.base)})`;
      return `A.pow(${p(e.base)}, ${p(e.exp)})`;
    case 'call': return `A.${e.fn}(${p(e.arg)})`;
    case 'sum': {
      // a loop in extended precision; the index is a fresh local named by nesting depth
      const i = `i${locals.size}`;
      const inner = new Map(locals).set(e.index, `A.num(${i})`);
      return `((lo, hi) => { let acc = A.num(0); for (let ${i} = lo; ${i} <= hi; ${i}++) acc = A.add(acc, ${toPrecise(e.body, input, inner)}); return acc; })(Math.round(A.value(${p(e.lo)})), Math.round(A.value(${p(e.hi)})))`;
    }
  }
}
