/**
 * The exact finite-n regime where it has no closed form (docs/method.md, "Exact finite n by
 * the recursion"): F⁽ⁿ⁾ on a constant history is the rule run for n + 1 steps, and M⁽ⁿ⁾ is
 * its derivative along the history θ_s = θ + ε·D_{n−s} (docs/theory.md §2), carried forward
 * by tangents. This module collects what the generated code needs for that: each state's
 * right-hand side, the update, and their partial derivatives in every input they read.
 */
import * as E from '../ir/expr.js';
import type { Expr } from '../ir/expr.js';
import { prevName, type Rule } from '../ir/rule.js';
import type { LinearState } from './analyze.js';
import type { RecursionPlan, RecursionStep } from './types.js';
import { diff } from './diff.js';

/** Each input of a recursion step that has a tangent: g, θ, the new and the previous values of the states. */
function inputs(rule: Rule): string[] {
  return ['g', 'theta', ...rule.states.map((s) => s.name), ...rule.states.map((s) => prevName(s.name))];
}

function step(raw: Expr, rule: Rule, zero: Record<string, Expr>): Omit<RecursionStep, 'name'> {
  const e = E.subs(raw, zero);
  const partials = inputs(rule)
    .filter((x) => E.hasSymbol(e, x))
    .map((of) => ({ of, value: diff(e, of) }))
    .filter((p) => !E.isZero(p.value));
  return { value: e, partials };
}

/** The plan, with the parameters of `--limit` set to 0. */
export function recursionPlan(rule: Rule, states: readonly LinearState[], limits: readonly string[]): RecursionPlan {
  const zero = Object.fromEntries(limits.map((p) => [p, E.ZERO]));
  return {
    states: rule.states.map((s) => ({ name: s.name, ...step(s.rhs, rule, zero), init: E.subs(s.init, zero) })),
    update: step(rule.update, rule, zero),
    decays: states.map((s) => E.subs(s.decay, zero)),
  };
}
