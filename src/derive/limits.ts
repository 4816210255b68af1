/**
 * `--limit p`: sends parameters to 0 after deriving, by substitution. Substitution is the
 * limit only where the result is continuous at p = 0; that is checked at random points
 * against p = 1e-10, and a singular limit is a located error.
 */
import * as E from '../ir/expr.js';
import type { Expr } from '../ir/expr.js';
import { RuleError, nearest, type Diagnostic } from '../ir/diagnostics.js';
import { evaluate } from '../ir/eval.js';
import type { Rule } from '../ir/rule.js';
import { prng, samplePoint } from './check.js';
import type { RegimeResult } from './types.js';
import { combineTerms, tidy } from './correction.js';

/**
 * Checks `--limit` names against the rule's parameters: each must be a parameter whose
 * domain has 0 in its closure (p → 0 must be approachable). All problems are reported
 * together. Returns the names without repeats.
 */
export function validateLimits(rule: Rule, limits: readonly string[]): string[] {
  const unique = [...new Set(limits)];
  const diagnostics: Diagnostic[] = [];
  const names = rule.params.map((p) => p.name);
  const where = rule.params[0]?.span ?? { file: rule.file, line: 1, col: 1 };
  for (const name of unique) {
    const p = rule.params.find((q) => q.name === name);
    if (!p) {
      const hint = nearest(name, names);
      const known = names.length ? `its parameters are ${names.join(', ')}` : 'it has no parameters';
      diagnostics.push({
        code: 'rule/limit', span: where,
        message: `--limit '${name}' is not a parameter of ${rule.name}${hint ? `; did you mean '${hint}'?` : ''} (${known})`,
      });
    } else if (p.domain.lo > 0 || p.domain.hi < 0) {
      diagnostics.push({
        code: 'rule/limit', span: p.span,
        message: `--limit '${name}' sends ${name} to 0, but 0 is not in the closure of its domain ${p.domain.text}`,
      });
    }
  }
  if (diagnostics.length) throw new RuleError(diagnostics);
  return unique;
}

/** Sends the (validated) parameters to 0 in every expression of a regime's result. */
export function takeLimits(r: RegimeResult, rule: Rule, limits: readonly string[]): RegimeResult {
  const zero = Object.fromEntries(limits.map((p) => [p, E.ZERO]));
  const space = { domains: new Map(rule.params.filter((p) => !limits.includes(p.name)).map((p) => [p.name, p.domain])) };
  const rand = prng(777);
  const singular = (what: string) => {
    const decl = rule.params.find((x) => x.name === limits[0])!;
    return new RuleError({ code: 'rule/limit', span: decl.span, message: `the limit ${limits.join(', ')} → 0 is singular in ${what} (the expression is not continuous there); derive without --limit` });
  };
  const lim = (what: string, e: Expr): Expr => {
    let out: Expr;
    try {
      out = E.subs(e, zero);
    } catch (err) {
      if (err instanceof E.SingularError) throw singular(what);
      throw err;
    }
    for (let i = 0; i < 6; i++) {
      const env = samplePoint(E.freeSymbols(e), space, rand);
      for (const p of limits) env[p] = 1e-10;
      if (env['n'] !== undefined) env['n'] = Math.max(1, env['n']!);
      const near = evaluate(e, env);
      const at = evaluate(out, env);
      if (!Number.isFinite(at) || Math.abs(at - near) > 1e-5 * Math.max(1, Math.abs(near))) throw singular(what);
    }
    return out;
  };
  const M = r.M.map((t) => ({ kind: t.kind, weight: lim('the weight of M', t.weight), field: tidy('field after limit', lim('a field of M', t.field), space) }));
  return {
    ...r,
    F: tidy('update after limit', lim('the update F', r.F), space),
    states: r.states.map((s) => ({ ...s, constantHistory: E.subs(s.constantHistory, zero), weightG: E.subs(s.weightG, zero), weightTheta: E.subs(s.weightTheta, zero) })),
    lagWeightG: E.subs(r.lagWeightG, zero),
    lagWeightTheta: E.subs(r.lagWeightTheta, zero),
    sums: r.sums.map((x) => ({ ...x, summand: E.subs(x.summand, zero), value: E.subs(x.value, zero) })),
    M: combineTerms(M, space),
  };
}
