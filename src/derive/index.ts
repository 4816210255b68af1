/** derive(): a parsed rule → its memory correction in both regimes, interpreted. */
import type { Rule } from '../ir/rule.js';
import { InternalError, RuleError } from '../ir/diagnostics.js';
import * as E from '../ir/expr.js';
import type { Derivation, DeriveOptions, ExactUnavailable, RegimeResult, Verification } from './types.js';
import { recursionPlan } from './recursion.js';
import { analyzeStates, paramDomains } from './analyze.js';
import { deriveRegime } from './correction.js';
import { NoClosedForm } from './unroll.js';
import { takeLimits, validateLimits } from './limits.js';
import { ExpressionTooLarge } from './simplify.js';
import { interpret } from '../interpret/index.js';
import { mergeVerifications, verifyDerivation } from '../verify/index.js';

export function derive(rule: Rule, options: DeriveOptions = {}): Derivation {
  try {
    return deriveChecked(rule, options);
  } catch (err) {
    if (err instanceof ExpressionTooLarge)
      throw new RuleError({ code: 'rule/cannot-derive', span: rule.updateSpan, message: `cannot derive a closed form: the expressions grow too large (${err.message}); simplify the rule or take a --limit` });
    if (err instanceof E.SingularError)
      throw new RuleError({ code: 'rule/non-differentiable', span: rule.updateSpan, message: 'the update is singular on a constant history (a division by zero, or a derivative of sqrt or a negative power taken at 0), so it has no Taylor expansion there' });
    throw err;
  }
}

function deriveChecked(rule: Rule, options: DeriveOptions): Derivation {
  const limits = validateLimits(rule, options.limits ?? []);
  const states = analyzeStates(rule);
  const domains = paramDomains(rule);
  const space = { domains: new Map(rule.params.map((p) => [p.name, p.domain])) };
  const assumptions = new Set<string>([
    'memory decays exponentially: every state coefficient has magnitude < 1 on the parameter domain',
    'the update is smooth along the trajectory, except where abs or sign vanish (identities hold almost everywhere)',
  ]);
  const notes = new Set<string>();
  const run = (regime: RegimeResult['regime']) => deriveRegime({ rule, regime, states, domains, space, assumptions, notes, sums: [] });
  let asymptotic: RegimeResult;
  try {
    asymptotic = run('asymptotic');
  } catch (err) {
    if (err instanceof NoClosedForm)
      throw new RuleError({ code: 'rule/cannot-derive', span: rule.updateSpan, message: `cannot derive a closed form: ${err.message}` });
    throw err;
  }
  let exactN: RegimeResult | ExactUnavailable | undefined;
  if (options.exactN) {
    try {
      exactN = run('exact-n');
    } catch (err) {
      // a decay of 0 makes the lag weights 0^k, Kronecker deltas, which the exponential-polynomial sums do not cover
      const decayZero = states.filter((s) => E.isZero(s.decay)).map((s) => `'${s.name}'`);
      let reason: string;
      if (err instanceof E.SingularError && decayZero.length) reason = `state ${decayZero.join(', ')} has decay 0, which the exponential-polynomial sums do not cover`;
      else if (err instanceof ExpressionTooLarge) reason = `the exact finite-n expressions grow too large (${err.message})`;
      else if (err instanceof NoClosedForm) reason = err.message;
      else throw err;
      // F⁽ⁿ⁾ and M⁽ⁿ⁾ on a constant history are still the rule run n + 1 steps, with tangents
      exactN = { unavailable: reason, recursion: recursionPlan(rule, states, limits) };
    }
  }
  if (limits.length) {
    asymptotic = takeLimits(asymptotic, rule, limits);
    if (exactN && !('unavailable' in exactN)) exactN = takeLimits(exactN, rule, limits);
  }
  let verification: Verification | undefined;
  if (options.verify) {
    verification = verifyDerivation(rule, [asymptotic], { limits });
    if (exactN && !('unavailable' in exactN)) {
      try {
        verification = mergeVerifications(verification, verifyDerivation(rule, [exactN], { limits }));
      } catch (err) {
        if (!(err instanceof InternalError)) throw err;
        // an exact closed form that the oracle contradicts at some draw (three rates equal, where
        // its removable singularities do not cancel even in extended precision) is not used: the
        // rule run step by step is exact there too
        exactN = { unavailable: `its closed form disagrees with the oracle (${err.message.replace(/^internal error: verification failed: /, '')})`, recursion: recursionPlan(rule, states, limits) };
      }
    }
  }
  const interpretation = interpret(rule, asymptotic, limits);
  if (asymptotic.M.length === 0) notes.add('M vanishes: the memoryless iteration is θ̃ₙ₊₁ = θ̃ₙ − h·F(θ̃ₙ) to second order');
  return { rule, ...(verification ? { verification } : {}), limits, asymptotic, ...(exactN ? { exactN } : {}), interpretation, assumptions: [...assumptions].sort(), notes: [...notes].sort() };
}
