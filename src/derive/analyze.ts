/**
 * Checks that a rule is inside the framework before deriving: every state is linear in its
 * own previous value, s ← a·s + b, with a constant a and |a| < 1 on the parameter domain
 * (exponentially decaying memory, docs/theory.md §2). Violations are located rule errors.
 */
import * as E from '../ir/expr.js';
import type { Expr } from '../ir/expr.js';
import { RuleError, type Diagnostic } from '../ir/diagnostics.js';
import { prevName, type Rule } from '../ir/rule.js';
import { bound, fromDomain, isContraction, type Interval } from '../ir/intervals.js';
import { show } from '../ir/show.js';
import { diff } from './diff.js';
import { normalForm } from './simplify.js';
import { counterexample } from './check.js';

export interface LinearState {
  readonly name: string;
  /** s_{n+1} = decay·s_n + drive. */
  readonly decay: Expr;
  readonly drive: Expr;
  /** s_0, the value before step 0 (parameters only). */
  readonly init: Expr;
}

export const paramDomains = (rule: Rule): Map<string, Interval> => new Map(rule.params.map((p) => [p.name, fromDomain(p.domain)]));

export function analyzeStates(rule: Rule): LinearState[] {
  const diagnostics: Diagnostic[] = [];
  const domains = paramDomains(rule);
  const space = { domains: new Map(rule.params.map((p) => [p.name, p.domain])) };
  const out: LinearState[] = [];
  for (const st of rule.states) {
    const own = prevName(st.name);
    const at = st.span;
    const decay = normalForm(diff(st.rhs, own));
    const drive = E.subs(st.rhs, { [own]: E.ZERO });
    const nonConstant = [...E.freeSymbols(decay)].filter((s) => !domains.has(s));
    if (E.hasSymbol(decay, own)) {
      diagnostics.push({ code: 'rule/not-linear', span: at, message: `state '${st.name}' is not linear in its own previous value (its recursion must read s = a*s + b)` });
      continue;
    }
    if (nonConstant.length) {
      const what = nonConstant.map((s) => s.replace(/@prev$/, ''));
      diagnostics.push({ code: 'rule/not-linear', span: at, message: `the coefficient of '${st.name}' in its own recursion, ${show(decay)}, depends on ${what.join(', ')}; it must be a constant built from parameters` });
      continue;
    }
    // a derivative of a·s + b in s is a only where the recursion is linear; sign(s − g²) or |s| have derivative 0 or ±1 almost everywhere and still are not
    if (counterexample(st.rhs, E.add(E.mul(decay, E.sym(own)), drive), space)) {
      diagnostics.push({ code: 'rule/not-linear', span: at, message: `state '${st.name}' is not linear in its own previous value: its recursion must read s = a*s + b with a and b free of '${st.name}' (a function such as sign or abs applied to an expression in '${st.name}' is not)` });
      continue;
    }
    if (!isContraction(bound(decay, domains))) {
      const a = show(decay);
      const why = E.isOne(decay)
        ? `'${st.name}' keeps its previous value with coefficient 1, a running sum as in Adagrad`
        : `its coefficient ${a} can reach magnitude 1 on the parameter domain`;
      diagnostics.push({ code: 'rule/memory-not-decaying', span: at, message: `memory does not decay exponentially: ${why}; the memoryless expansion needs |a| < 1 (here a = ${a}; docs/theory.md §2)` });
      continue;
    }
    out.push({ name: st.name, decay, drive, init: st.init });
  }
  if (diagnostics.length) throw new RuleError(diagnostics);
  return out;
}
