/**
 * memloss as a library. An optimizer with memory, θₙ₊₁ = θₙ − h·F⁽ⁿ⁾(θₙ, θₙ₋₁, …), stays
 * within O(h²) of the memoryless iteration θ̃ₙ₊₁ = θ̃ₙ − h·[F⁽ⁿ⁾(θ̃ₙ) + h·M⁽ⁿ⁾(θ̃ₙ)] over a
 * fixed horizon when its memory decays exponentially (Cattaneo & Shigida, NeurIPS 2025);
 * memloss derives the correction M from a rule file. The pipeline is parseRule → derive → emit:
 *
 * ```ts
 * import { readFileSync } from 'node:fs';
 * import { parseRule, derive, emitText } from 'memloss';
 * const rule = parseRule(readFileSync('rules/adamw.rule', 'utf8'), 'rules/adamw.rule');
 * console.log(emitText(derive(rule), 'asymptotic'));
 * ```
 *
 * Errors: every function here throws only {@link RuleError}, for the caller's input (a rule
 * outside the language or the method, a limit exceeded, or an argument of the wrong kind,
 * code `rule/bad-argument`), or {@link InternalError}, for a bug in memloss. Nothing else
 * escapes: no TypeError, RangeError or stack overflow, whatever the input.
 */
import { parseRule as parseRuleImpl, parseRuleFile as parseRuleFileImpl } from './parse/rule-file.js';
import { derive as deriveImpl } from './derive/index.js';
import { deriveBatches as deriveBatchesImpl } from './derive/batches.js';
import { formatDiagnostic as formatDiagnosticImpl } from './ir/diagnostics.js';
import { evaluate as evaluateImpl } from './ir/eval.js';
import { emitText as emitTextImpl } from './emit/text.js';
import { emitJson as emitJsonImpl } from './emit/json.js';
import { emitLatex as emitLatexImpl } from './emit/latex.js';
import { emitHtml as emitHtmlImpl } from './emit/html.js';
import { emitMarkdown as emitMarkdownImpl } from './emit/markdown.js';
import type { MatrixRule, Rule } from './ir/rule.js';
import { deriveMatrix as deriveMatrixImpl } from './matrix/derive.js';
import { buildMatrixDocument as buildMatrixDocumentImpl, emitMatrixJson as emitMatrixJsonImpl } from './emit/matrix-document.js';
import {
  checkBatches, checkDerivation, checkDeriveOptions, checkDiagnostic, checkEvaluate, checkRegime, checkRule, checkSource, guarded,
} from './api.js';

/** An emitter's arguments: a coordinate-wise derivation and a regime. */
const emitter = <R>(name: string, f: (d: Parameters<typeof emitTextImpl>[0], regime: Parameters<typeof emitTextImpl>[1]) => R) =>
  guarded((d: Parameters<typeof emitTextImpl>[0], regime: Parameters<typeof emitTextImpl>[1]) => {
    checkDerivation(name, d, 'coordinate');
    checkRegime(name, regime);
  }, f);

/**
 * Reads a rule file (docs/rule-language.md) into an immutable {@link Rule}.
 * `parseRule(source, file)`; throws {@link RuleError} carrying every diagnostic found
 * (also for a source that is not a string, or beyond the limits of the language).
 */
export const parseRule: typeof parseRuleImpl = guarded((source, file) => checkSource('parseRule', source, file), parseRuleImpl);

/**
 * Derives the memory correction of a rule: `derive(rule, { limits })` → {@link Derivation}.
 * M is given in the asymptotic regime (terms like βⁿ dropped) and, when it has a closed
 * form, in the exact finite-n regime, together with the steps that produced it. Throws
 * {@link RuleError} for a rule outside the method (e.g. memory that does not decay) or an
 * argument that is not a rule from {@link parseRule} or not options, and
 * {@link InternalError} for a bug. `options` may be omitted (or null).
 */
export const derive: typeof deriveImpl = guarded(
  (rule, options) => { checkRule('derive', rule, 'coordinate'); checkDeriveOptions('derive', options); },
  (rule, options) => deriveImpl(rule, options ?? {}),
);

/**
 * Mini-batches (docs/minibatch.md): `deriveBatches(derivation, m)` → {@link BatchDerivation},
 * the pathwise correction on a batch history and its expectation under random reshuffling,
 * for rules linear in the gradients; throws a located {@link RuleError} for other rules
 * and for an m that is not a positive integer.
 */
export const deriveBatches: typeof deriveBatchesImpl = guarded(
  (d, m) => { checkDerivation('deriveBatches', d, 'coordinate'); checkBatches('deriveBatches', m); },
  deriveBatchesImpl,
);

/** The derivation as data: states, recorded sums, the correction M, its interpretation. */
export type {
  BatchDerivation,
  BatchWeights,
  Regime,
  CorrectionTerm,
  UnrolledState,
  RecordedSum,
  RegimeResult,
  Potential,
  PotentialTerm,
  VerdictKind,
  Verdict,
  Interpretation,
  Derivation,
  DeriveOptions,
} from './derive/types.js';

/** A parsed rule: parameters with domains, fn definitions, states and the update. */
export type { Rule, ParamDecl, FnDecl, StateDecl, Domain } from './ir/rule.js';

/** The expression IR read by every field of a Derivation (immutable tagged union). */
export type { Expr } from './ir/expr.js';

/**
 * User errors and bugs, the only errors this API throws. A {@link RuleError} carries located
 * diagnostics (`.diagnostics`), one line each, `file:line:col: reason [code]`; a wrong
 * argument is `<function>:1:1: … [rule/bad-argument]`. An {@link InternalError} is a broken
 * invariant in memloss and should be reported (`.cause` holds the original exception).
 */
export { RuleError, InternalError } from './ir/diagnostics.js';

/** Formats one diagnostic as the line `file:line:col: reason [code]`. */
export const formatDiagnostic: typeof formatDiagnosticImpl = guarded((d) => checkDiagnostic('formatDiagnostic', d), formatDiagnosticImpl);

/** A located user-facing diagnostic, its catalogue code, and its position. */
export type { Diagnostic, DiagnosticCode, Span } from './ir/diagnostics.js';

/**
 * Evaluates an IR expression in float64: `evaluate(expr, { g: 0.3, theta: 1, beta1: 0.9, … })`.
 * A symbol without a number in env is a {@link RuleError} (rule/bad-argument) naming it.
 */
export const evaluate: typeof evaluateImpl = guarded((e, env) => checkEvaluate('evaluate', e, env), evaluateImpl);

/** Symbol values for {@link evaluate}. */
export type { Env } from './ir/eval.js';

/**
 * Plain-text report: `emitText(derivation, 'asymptotic' | 'exact-n')`. Every emitter throws a
 * {@link RuleError} (rule/bad-argument) for another regime or something not from {@link derive}.
 */
export const emitText: typeof emitTextImpl = emitter('emitText', emitTextImpl);

/** The derivation as deterministic JSON (sorted keys, expressions as strings). */
export const emitJson: typeof emitJsonImpl = emitter('emitJson', emitJsonImpl);

/** A LaTeX document: the result and an appendix printed from the recorded steps. */
export const emitLatex: typeof emitLatexImpl = emitter('emitLatex', emitLatexImpl);

/** A self-contained HTML page of the derivation. */
export const emitHtml: typeof emitHtmlImpl = emitter('emitHtml', emitHtmlImpl);

/** A Markdown report of the derivation. */
export const emitMarkdown: typeof emitMarkdownImpl = emitter('emitMarkdown', emitMarkdownImpl);

/**
 * Matrix rules (`shape matrix`, docs/matrix-optimizers.md): `parseRuleFile` reads either
 * kind of rule; `deriveMatrix` derives M of a matrix rule as an operator on the
 * Hessian-vector product; the emitters print its document and JSON.
 */
export const parseRuleFile: typeof parseRuleFileImpl = guarded((source, file) => checkSource('parseRuleFile', source, file), parseRuleFileImpl);
/** True for a matrix rule; false for anything else, a coordinate-wise rule included. */
export function isMatrixRule(r: Rule | MatrixRule): r is MatrixRule {
  return typeof r === 'object' && r !== null && (r as { shape?: unknown }).shape === 'matrix';
}
export type { MatrixRule, MatrixStateDecl } from './ir/rule.js';
export const deriveMatrix: typeof deriveMatrixImpl = guarded((rule) => checkRule('deriveMatrix', rule, 'matrix'), deriveMatrixImpl);
export type { MatrixDerivation, MatrixRegimeResult, MatrixTerm, MatrixState } from './matrix/derive.js';
export type { MExpr } from './matrix/expr.js';
export const buildMatrixDocument: typeof buildMatrixDocumentImpl = guarded(
  (d, regime) => { checkDerivation('buildMatrixDocument', d, 'matrix'); checkRegime('buildMatrixDocument', regime); },
  buildMatrixDocumentImpl,
);
export const emitMatrixJson: typeof emitMatrixJsonImpl = guarded(
  (d, regime) => { checkDerivation('emitMatrixJson', d, 'matrix'); checkRegime('emitMatrixJson', regime); },
  emitMatrixJsonImpl,
);
