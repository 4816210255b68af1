/**
 * Evaluates the JSON's mathjs strings, `sumOver(s, lo, hi, body)` included. Kept apart from
 * the printer: loading mathjs takes seconds, and only consumers of the JSON need it.
 */
import { all, create, type MathJsInstance, type MathNode } from 'mathjs';

/** Σ_{index=lo}^{hi} body over integers, as a mathjs raw-arguments function. */
function sumOver(args: MathNode[], _math: MathJsInstance, scope: ScopeLike): number {
  const [index, lo, hi, body] = args;
  if (args.length !== 4 || index?.type !== 'SymbolNode') throw new Error('sumOver(index, lo, hi, body): index must be a symbol');
  const name = (index as unknown as { name: string }).name;
  const from = Math.round(Number(lo!.compile().evaluate(scope)));
  const to = Math.round(Number(hi!.compile().evaluate(scope)));
  const term = body!.compile();
  const inner = new IndexScope(scope, name);
  let total = 0;
  for (let i = from; i <= to; i++) {
    inner.value = i;
    total += Number(term.evaluate(inner));
  }
  return total;
}
sumOver.rawArgs = true;

interface ScopeLike {
  get(k: string): unknown;
  set(k: string, v: unknown): unknown;
  has(k: string): boolean;
  keys(): IterableIterator<string>;
}

/** The caller's scope with the summation index bound on top (mathjs accepts any Map-like). */
class IndexScope implements ScopeLike {
  value = 0;
  constructor(private readonly parent: ScopeLike, private readonly name: string) {}
  get(k: string) { return k === this.name ? this.value : this.parent.get(k); }
  set(k: string, v: unknown) { if (k === this.name) this.value = Number(v); else this.parent.set(k, v); return this; }
  has(k: string) { return k === this.name || this.parent.has(k); }
  keys() { return new Set([...this.parent.keys(), this.name]).values(); }
}

/**
 * A mathjs instance that evaluates the strings of `toMathjs`, including `sumOver`.
 * `predictable: true` keeps results real (sqrt(−1) is NaN, as in `evaluate`, not a complex number).
 */
export function mathjsWithSumOver(): MathJsInstance {
  const math = create(all, { predictable: true });
  math.import({ sumOver }, { override: true });
  return math;
}
