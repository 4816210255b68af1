/**
 * A generated optimizer module against the oracle before it is used or written: the same
 * draws, points and step indices as the verification of the derivation (src/verify), with
 * the module's own float64 (or extended-precision hoisted) arithmetic.
 */
import type { Rule } from '../ir/rule.js';
import type { Derivation, Verification } from '../derive/types.js';
import { compareWithOracle, mergeVerifications, type Evaluator } from '../verify/index.js';
import { matVec } from '../verify/sample.js';
import { loadOptimizer } from './compile.js';
import type { OptimizerModule } from './types.js';
import type { Expr } from '../ir/expr.js';
import { children } from '../ir/expr.js';

const hasSum = (e: Expr): boolean => e.kind === 'sum' || children(e).some(hasSum);

export function verifyModule(rule: Rule, d: Derivation, module: OptimizerModule): Verification {
  const exact = d.exactN && !('unavailable' in d.exactN) ? d.exactN : undefined;
  const recursion = d.exactN && 'unavailable' in d.exactN ? d.exactN.recursion : undefined;
  const of = (states: Evaluator['states'], regime: Evaluator['regime']): Evaluator => {
    const at = (n: number) => (regime === 'exact-n' ? n : undefined);
    return {
      regime,
      states,
      direction: (p, n, params) => module.direction(p.theta, p.g, params, at(n)),
      correction: (p, n, params) => module.correction(p.theta, p.g, (v) => matVec(p.hessian, v), params, at(n)),
    };
  };
  // float64 per coordinate (only the loop-invariant coefficients are computed in extended
  // precision), so two exactly equal rates are left out here
  const options = { limits: d.limits, special: false };
  const checked = compareWithOracle(rule, [of(d.asymptotic.states, 'asymptotic')], 'generated module', options);
  if (recursion) {
    // the rule run step by step in float64, as the oracle does: every draw, rates equal included
    const ex = compareWithOracle(rule, [of(d.asymptotic.states, 'exact-n')], 'generated module', { limits: d.limits });
    return mergeVerifications(checked, ex);
  }
  if (!exact) return checked;
  // A finite sum over past updates without closed form runs per coordinate in float64 and
  // divides by differences of rates: checked at the defaults only (a known limit of the module)
  const sums = [exact.F, ...exact.M.flatMap((t) => [t.field, t.weight])].some(hasSum);
  const ex = compareWithOracle(rule, [of(exact.states, 'exact-n')], 'generated module', { ...options, ...(sums ? { draws: 0 } : {}) });
  const both = mergeVerifications(checked, ex);
  return sums ? { ...both, skipped: [...both.skipped, 'the exact finite-n module away from the defaults (a finite sum over past updates evaluated in float64)'] } : both;
}


/** loadOptimizer, then verifyModule: an InternalError instead of a module that disagrees with the oracle. */
export function loadVerifiedOptimizer(rule: Rule, d: Derivation): OptimizerModule {
  const module = loadOptimizer(rule, d);
  if (d.verification) verifyModule(rule, d, module);
  return module;
}
