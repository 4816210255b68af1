/**
 * `emitJson(d, regime)`: the derivation as deterministic JSON (2-space indent, keys sorted
 * at every level, trailing newline; no dates or other run-dependent data).
 *
 * Schema version {@link JSON_SCHEMA_VERSION}. Every expression is an **Expression** object
 * `{ mathjs, latex, text }`: `mathjs` parses back to the exact value with
 * `mathjsWithSumOver().evaluate(s, scope)` (integers and integer fractions, never rounded
 * decimals; a Σ without closed form is `sumOver(index, lo, hi, body)`; the previous value of
 * a state m is `m_prev`); `latex` is display LaTeX with the coordinate subscript j on g and
 * θ (except in the field V of an `hvp` term, a vector, printed without it); `text` is
 * Unicode. Expressions read `g` (∂ⱼL at the current iterate), `theta` (θⱼ), `n` (step
 * index), the rule's parameters and, in recorded steps, the lag `k`.
 *
 * Fields:
 * - `schemaVersion`: number, this schema's version.
 * - `rule`: `{ name, file, cite }`; `cite` is null when the rule gives none.
 * - `parameters`: `[{ name, default, value, domain }]` in declaration order; `default` is the
 *   decimal literal as written ("1e-8"), `value` the same as a number; `domain` is
 *   `{ text, lo, hi, loOpen, hiOpen }` with `lo`/`hi` null for an unbounded end.
 * - `limits`: parameter names sent to 0 after the derivation.
 * - `regime`: `{ requested, shown, label, unavailable }`. `requested` is the regime asked
 *   for ("asymptotic" | "exact-n"); `shown` the one `F` and `M` below come from (the
 *   asymptotic one when exact-n has no closed form); `label` describes `shown` in words;
 *   `unavailable` is why exact-n is missing (no closed form, or not derived), or null.
 * - `F`: Expression, the update on a constant history, F⁽ⁿ⁾(θ) (exact-n) or its limit F(θ).
 * - `M`: `[{ kind, weight, field }]`, M = Σ terms: kind "hvp" is weightⱼ·(H·field)ⱼ with
 *   H = ∇²L, kind "field" is weightⱼ·fieldⱼ. Empty when M vanishes (almost everywhere).
 * - `regimes`: `{ "asymptotic": Regime, "exact-n": Regime | { unavailable } | null }`, both
 *   regimes; "exact-n" is null when it was not derived (`derive(rule, { exactN: true })`).
 *   A Regime is `{ regime, F, M, states, lagWeightG, lagWeightTheta, sums }`:
 *   - `states`: `[{ name, decay, constantHistory, weightG, weightTheta }]`: each state's
 *     coefficient of its own previous value, its value on a constant history, and its
 *     derivatives ∂s_{n+1}/∂g_{n−k} and ∂s_{n+1}/∂θ_{n−k} (Expressions reading k).
 *   - `lagWeightG`, `lagWeightTheta`: ∂F⁽ⁿ⁾/∂g_{n−k} and ∂F⁽ⁿ⁾/∂θ_{n−k}, k ≥ 1.
 *   - `sums`: `[{ index, lo, hi, summand, value }]`: Σ_{index=lo}^{hi} summand = value;
 *     `hi` null means ∞.
 * - `interpretation`:
 *   - `potentials`: null when none was found, else `[{ weight, potential }]` with
 *     M = Σ weightⱼ·∂ⱼΦ; a potential is `{ perCoordinate, lossCoefficient }`, meaning
 *     Φ(θ) = Σⱼ perCoordinate(gⱼ, θⱼ) + lossCoefficient·L(θ).
 *   - `modifiedLoss`: null, or `{ preconditioner, coefficient, potential }`: the memoryless
 *     iteration is θ̃ₙ₊₁ = θ̃ₙ − h·P ∘ ∇L̃ with L̃ = L + h·coefficient·Φ, P = preconditioner.
 *   - `signCoefficient`: Expression carrying the sign of the weight, or null.
 *   - `verdict`: `{ kind, condition, reason, suggestLimits, limitVerdict }` (limitVerdict: the same shape, the verdict in the suggested limit, or null); `kind` is "regularizing" |
 *     "anti-regularizing" | "mixed" | "none" under the default parameters; `condition` is
 *     null or `{ lhs, op, rhs, otherwise, latex, text }`: `kind` holds when lhs op rhs
 *     (op "<" | ">"), `otherwise` when not; `suggestLimits` lists parameters whose limit
 *     → 0 would make the sign clearer (possibly empty).
 *   - `notes`: strings.
 * - `assumptions`: what the result rests on; `notes`: remarks for the reader (strings).
 */
import type { Expr } from '../ir/expr.js';
import { toNumber } from '../ir/rational.js';
import type { Domain } from '../ir/rule.js';
import type { CorrectionTerm, Derivation, Potential, Regime, RegimeResult, Verdict } from '../derive/types.js';
import { exactNResult, REGIME_LABEL, showRegime } from './doc.js';
import { conditionMath } from './document.js';
import { toLatex } from './expr-latex.js';
import { toMathjs } from './expr-mathjs.js';
import { toText } from './expr-text.js';

export const JSON_SCHEMA_VERSION = 1;

type Json = null | boolean | number | string | readonly Json[] | { readonly [key: string]: Json };

export function emitJson(d: Derivation, regime: Regime): string {
  const shown = showRegime(d, regime);
  const exact = exactNResult(d);
  const it = d.interpretation;
  const v = it.verdict;
  const doc: Json = {
    schemaVersion: JSON_SCHEMA_VERSION,
    rule: { name: d.rule.name, file: d.rule.file, cite: d.rule.cite ?? null },
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
      'exact-n': d.exactN === undefined ? null : 'unavailable' in d.exactN ? { unavailable: d.exactN.unavailable } : regimeJson(d.exactN),
    },
    interpretation: {
      potentials: it.potentials ? it.potentials.map((p) => ({ weight: expr(p.weight), potential: potential(p.potential) })) : null,
      modifiedLoss: it.modifiedLoss
        ? { preconditioner: expr(it.modifiedLoss.preconditioner), coefficient: expr(it.modifiedLoss.coefficient), potential: potential(it.modifiedLoss.potential) }
        : null,
      signCoefficient: it.signCoefficient ? expr(it.signCoefficient) : null,
      verdict: verdictJson(v),
      notes: [...it.notes],
    },
    assumptions: [...d.assumptions],
    notes: [...d.notes],
  };
  return `${JSON.stringify(sortKeys(doc), null, 2)}\n`;
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
function sortKeys(j: Json): Json {
  if (j === null || typeof j !== 'object') return j;
  if (Array.isArray(j)) return j.map(sortKeys);
  const o = j as { readonly [key: string]: Json };
  return Object.fromEntries(Object.keys(o).sort().map((k) => [k, sortKeys(o[k]!)]));
}
