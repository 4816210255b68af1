/**
 * interpret(): M as gradients of potentials, the modified loss where F and M share a
 * preconditioner, and the verdict (docs/theory.md §4).
 */
import * as E from '../ir/expr.js';
import type { Rule } from '../ir/rule.js';
import { paramDomains } from '../derive/analyze.js';
import { normalForm } from '../derive/simplify.js';
import { checkIdentity } from '../derive/check.js';
import { factoredParameterSums } from '../derive/factor.js';
import type { Interpretation, RegimeResult, Verdict } from '../derive/types.js';
import { findPotentials } from './potential.js';
import { verdictForWeight } from './verdict.js';

export function interpret(rule: Rule, r: RegimeResult, limits: readonly string[]): Interpretation {
  const notes: string[] = [];
  if (r.M.length === 0) {
    return { potentials: [], verdict: { kind: 'none', reason: 'M vanishes (almost everywhere): memory does not modify the loss at this order' }, notes };
  }
  const live = rule.params.filter((p) => !limits.includes(p.name));
  const space = { domains: new Map(live.map((p) => [p.name, p.domain])) };
  const domains = paramDomains(rule);
  for (const p of limits) domains.set(p, { lo: 0, hi: 0, loIn: true, hiIn: true });
  const defaults = Object.fromEntries(rule.params.map((p) => [p.name, limits.includes(p.name) ? 0 : Number(p.valueText)]));
  // small perturbation parameters (ε, δ): unbounded above, 0 at the edge, tiny default
  const limitable = live.filter((p) => p.domain.lo === 0 && p.domain.hi === Infinity && Number(p.valueText) > 0 && Number(p.valueText) <= 1e-2).map((p) => p.name);

  // a potential reads better factored: g²/2 + λgθ + λ²θ²/2 = (g + λθ)²/2
  const potentials = findPotentials(r.M, space)?.map((t) => ({ ...t, potential: { ...t.potential, perCoordinate: factoredParameterSums(t.potential.perCoordinate, space, ['g', 'theta']) } }));
  if (!potentials) {
    notes.push('no potential was found for some term of M (an antiderivative that could not be verified), so M is given term by term');
    const hvp = r.M.find((t) => t.kind === 'hvp');
    const verdict: Verdict = hvp
      ? { ...verdictForWeight(hvp.weight, domains, defaults, limitable), reason: 'sign of the Hessian-vector term\'s weight; no potential was found' }
      : { kind: 'mixed', reason: 'no potential was found' };
    return { verdict, notes };
  }
  if (potentials.length > 1) {
    const verdicts = potentials.map((p) => verdictForWeight(p.weight, domains, defaults, limitable));
    const same = verdicts.every((v) => v.kind === verdicts[0]!.kind && !v.condition);
    return { potentials, verdict: same ? { ...verdicts[0]!, reason: 'every potential term has this sign' } : { kind: 'mixed', reason: 'M is a sum of potential terms with different weights' }, notes };
  }
  const [only] = potentials;
  const verdict = verdictForWeight(only!.weight, domains, defaults, limitable);
  // modified loss: F = P∘(g + λθ) = P∘∇L_λ, L_λ = L + (λ/2)‖θ‖², and w = c·P with c
  // constant ⇒ θ̃ −= hP∘∇(L_λ + h c Φ); λ = 0 without (coupled) weight decay
  const g = E.sym('g'), theta = E.sym('theta');
  const tidy = (e: E.Expr) => factoredParameterSums(normalForm(e), space);
  const P = tidy(E.div(E.subs(r.F, { theta: E.ZERO }), g));
  const lambda = tidy(E.div(E.sub(r.F, E.subs(r.F, { theta: E.ZERO })), E.mul(P, theta)));
  const c = tidy(E.div(only!.weight, P));
  const constant = (e: E.Expr) => !E.hasSymbol(e, 'g') && !E.hasSymbol(e, 'theta');
  if (constant(c) && constant(lambda) && !E.hasSymbol(P, 'theta')) {
    checkIdentity('modified-loss preconditioner', r.F, E.mul(P, E.add(g, E.mul(lambda, theta))), space);
    checkIdentity('modified-loss coefficient', only!.weight, E.mul(c, P), space);
    const modifiedLoss = { preconditioner: P, coefficient: c, potential: only!.potential, ...(E.isZero(lambda) ? {} : { weightDecay: lambda }) };
    return { potentials, modifiedLoss, signCoefficient: c, verdict, notes };
  }
  notes.push('F and M do not share a preconditioner (F is not P∘∇L, or P∘∇(L + λ‖θ‖²/2) with weight decay, with the weight of M proportional to P), so there is no single modified loss; M is the weighted gradient of the potential');
  return { potentials, verdict, notes };
}
