/**
 * `emitJson(d, regime)`: the derivation as deterministic JSON (2-space indent, keys sorted
 * at every level, trailing newline; no dates or other run-dependent data). The schema,
 * version {@link JSON_SCHEMA_VERSION}, is documented field by field in docs/derivation-json.md.
 */
import type { Expr } from '../ir/expr.js';
import { toNumber } from '../ir/rational.js';
import { hasInitialValue, type Domain, type Rule } from '../ir/rule.js';
import type { CorrectionTerm, Derivation, Potential, Regime, RegimeResult, Verdict } from '../derive/types.js';
import { exactNResult, REGIME_LABEL, showRegime } from './doc.js';
import { conditionMath } from './document.js';
import { toLatex } from './expr-latex.js';
import { toMathjs } from './expr-mathjs.js';
import { toText } from './expr-text.js';

export const JSON_SCHEMA_VERSION = 1;

export type Json = null | boolean | number | string | readonly Json[] | { readonly [key: string]: Json };

export function emitJson(d: Derivation, regime: Regime): string {
  const shown = showRegime(d, regime);
  const exact = exactNResult(d);
  const it = d.interpretation;
  const v = it.verdict;
  const doc: Json = {
    schemaVersion: JSON_SCHEMA_VERSION,
    rule: ruleJson(d.rule),
    parameters: d.rule.params.map((p) => ({ name: p.name, default: p.valueText, value: toNumber(p.value), domain: domain(p.domain) })),
    limits: [...d.limits],
    regime: {
      requested: regime,
      shown: shown.result.regime,
      label: REGIME_LABEL[shown.result.regime],
      unavailable: 'unavailable' in exact ? exact.unavailable : null,
    },
    F: expr(shown.result.F),
    M: shown.result.M.map(term),
    regimes: {
      asymptotic: regimeJson(d.asymptotic),
      'exact-n': d.exactN === undefined ? null : 'unavailable' in d.exactN ? { unavailable: d.exactN.unavailable, evaluatedBy: d.exactN.recursion ? 'recursion' : null } : regimeJson(d.exactN),
    },
    interpretation: {
      potentials: it.potentials ? it.potentials.map((p) => ({ weight: expr(p.weight), potential: potential(p.potential) })) : null,
      modifiedLoss: it.modifiedLoss
        ? { preconditioner: expr(it.modifiedLoss.preconditioner), coefficient: expr(it.modifiedLoss.coefficient), potential: potential(it.modifiedLoss.potential), weightDecay: it.modifiedLoss.weightDecay ? expr(it.modifiedLoss.weightDecay) : null }
        : null,
      signCoefficient: it.signCoefficient ? expr(it.signCoefficient) : null,
      verdict: verdictJson(v),
      notes: [...it.notes],
    },
    assumptions: [...d.assumptions],
    notes: [...d.notes],
    verification: d.verification ? { ...d.verification, regimes: [...d.verification.regimes], skipped: [...d.verification.skipped] } : null,
  };
  return `${JSON.stringify(sortKeys(doc), null, 2)}\n`;
}

/** `initialValues` only where a state starts away from 0 (a rule without `from` has the same JSON as before). */
function ruleJson(rule: Rule): Json {
  const started = rule.states.filter(hasInitialValue);
  return {
    name: rule.name, file: rule.file, cite: rule.cite ?? null,
    ...(started.length ? { initialValues: started.map((s) => ({ state: s.name, value: expr(s.init) })) } : {}),
  };
}

function verdictJson(v: Verdict): Json {
  return {
    kind: v.kind,
    condition: v.condition
      ? { lhs: expr(v.condition.lhs), op: v.condition.op, rhs: expr(v.condition.rhs), otherwise: v.condition.otherwise,
        latex: conditionMath(v.condition).tex, text: conditionMath(v.condition).plain }
      : null,
    reason: v.reason,
    suggestLimits: [...(v.suggestLimits ?? [])],
    limitVerdict: v.limitVerdict ? verdictJson(v.limitVerdict) : null,
  };
}

function expr(e: Expr, vector = false): Json {
  return { mathjs: toMathjs(e), latex: toLatex(e, { coordinate: vector ? null : 'j' }), text: toText(e) };
}

const term = (t: CorrectionTerm): Json => ({ kind: t.kind, weight: expr(t.weight), field: expr(t.field, t.kind === 'hvp') });

const potential = (p: Potential): Json => ({ perCoordinate: expr(p.perCoordinate), lossCoefficient: expr(p.lossCoefficient) });

/** ±Infinity has no JSON spelling: an unbounded end is null. */
const domain = (d: Domain): Json => ({
  text: d.text, lo: Number.isFinite(d.lo) ? d.lo : null, hi: Number.isFinite(d.hi) ? d.hi : null, loOpen: d.loOpen, hiOpen: d.hiOpen,
});

function regimeJson(r: RegimeResult): Json {
  return {
    regime: r.regime,
    F: expr(r.F),
    M: r.M.map(term),
    states: r.states.map((s) => ({
      name: s.name, decay: expr(s.decay), constantHistory: expr(s.constantHistory), weightG: expr(s.weightG), weightTheta: expr(s.weightTheta),
    })),
    lagWeightG: expr(r.lagWeightG),
    lagWeightTheta: expr(r.lagWeightTheta),
    sums: r.sums.map((s) => ({ index: s.index, lo: expr(s.lo), hi: s.hi === undefined ? null : expr(s.hi), summand: expr(s.summand), value: expr(s.value) })),
  };
}

/** Recursively sorts object keys (by UTF-16 code unit) so the bytes never depend on construction order. */
export function sortKeys(j: Json): Json {
  if (j === null || typeof j !== 'object') return j;
  if (Array.isArray(j)) return j.map(sortKeys);
  const o = j as { readonly [key: string]: Json };
  return Object.fromEntries(Object.keys(o).sort().map((k) => [k, sortKeys(o[k]!)]));
}
