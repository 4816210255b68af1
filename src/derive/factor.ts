/** Factored forms of polynomial sums, for what is printed (docs/method.md §4: every rewrite is checked). */
import * as E from '../ir/expr.js';
import type { Expr } from '../ir/expr.js';
import { factorPolynomial } from '../cas/nerdamer.js';
import { counterexample, type SampleSpace } from './check.js';
import { factorCommon } from './simplify.js';

const FACTOR_LIMIT = 120;
const factorMemo = new Map<string, Expr>();

/**
 * Sums of parameters only (a coefficient's numerator μ − 2μτ + μτ²; with `alsoReads`, of
 * those symbols too: a potential's g² + 2λgθ + λ²θ²) replaced by their polynomial
 * factorization (μ(1 − τ)², (g + λθ)²) where that is shorter: easier to read, and a product
 * whose factors' signs the verdict can prove. nerdamer's factor is not trusted: each
 * replacement is checked at random points.
 */
export function factoredParameterSums(e: Expr, space: SampleSpace, alsoReads: readonly string[] = []): Expr {
  const isParam = (x: string) => space.domains.has(x) || alsoReads.includes(x);
  return E.mapBottomUp(e, (x) => {
    if (x.kind !== 'add' || x.terms.length < 2 || E.size(x) > FACTOR_LIMIT || ![...E.freeSymbols(x)].every(isParam)) return x;
    const key = E.key(x);
    let f = factorMemo.get(key);
    if (!f) {
      // the common monomial first (λμ − 2λμτ + λμτ² = λμ·(1 − 2τ + τ²)), then the rest
      const common = factorCommon(x);
      const [outer, sum] = common.kind === 'mul' ? [common.factors.filter((q) => q.kind !== 'add'), common.factors.find((q) => q.kind === 'add')] : [[], common];
      const inner = sum && sum.kind === 'add' && sum.terms.length > 2 ? factorPolynomial(sum) : undefined;
      const g = canonicalSquares(inner ? E.mul(...outer, inner) : common);
      f = g !== x && shorter(g, x) && !counterexample(x, g, space) ? g : x;
      factorMemo.set(key, f);
    }
    return f;
  });
}

/** Fewer occurrences of parameters (λ(1 − τ) against λ − λτ), or as many and fewer nodes. */
function shorter(a: Expr, b: Expr): boolean {
  const uses = (e: Expr): number => (e.kind === 'sym' ? 1 : E.children(e).reduce((acc, c) => acc + uses(c), 0));
  const ua = uses(a), ub = uses(b);
  return ua < ub || (ua === ub && E.size(a) <= E.size(b));
}

/** (τ − 1)² reads (1 − τ)²: an even power of a sum whose constant is negative, negated inside. */
const canonicalSquares = (e: Expr): Expr => E.mapBottomUp(e, (x) => {
  if (x.kind !== 'pow' || x.base.kind !== 'add' || !E.isIntegerNum(x.exp) || (x.exp as E.Num).value.p % 2n !== 0n) return x;
  const c = x.base.terms.find((t) => t.kind === 'num') as E.Num | undefined;
  return c && c.value.p < 0n ? E.pow(E.add(...x.base.terms.map(E.neg)), x.exp) : x;
});
