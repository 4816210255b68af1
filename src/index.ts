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
 */

/**
 * Reads a rule file (docs/rule-language.md) into an immutable {@link Rule}.
 * `parseRule(source, file)`; throws {@link RuleError} carrying every diagnostic found.
 */
export { parseRule } from './parse/rule-file.js';

/**
 * Derives the memory correction of a rule: `derive(rule, { limits })` → {@link Derivation}.
 * M is given in the asymptotic regime (terms like βⁿ dropped) and, when it has a closed
 * form, in the exact finite-n regime, together with the steps that produced it. Throws
 * {@link RuleError} for a rule outside the method (e.g. memory that does not decay) and
 * {@link InternalError} for a bug.
 */
export { derive } from './derive/index.js';

/**
 * Mini-batches (docs/minibatch.md): `deriveBatches(derivation, m)` → {@link BatchDerivation},
 * the pathwise correction on a batch history and its expectation under random reshuffling,
 * for rules linear in the gradients; throws a located {@link RuleError} for other rules.
 */
export { deriveBatches } from './derive/batches.js';

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
 * User errors and bugs. A {@link RuleError} carries located diagnostics (`.diagnostics`);
 * an {@link InternalError} is a broken invariant in memloss and should be reported.
 */
export { RuleError, InternalError } from './ir/diagnostics.js';

/** Formats one diagnostic as the line `file:line:col: reason [code]`. */
export { formatDiagnostic } from './ir/diagnostics.js';

/** A located user-facing diagnostic, its catalogue code, and its position. */
export type { Diagnostic, DiagnosticCode, Span } from './ir/diagnostics.js';

/**
 * Evaluates an IR expression in float64: `evaluate(expr, { g: 0.3, theta: 1, beta1: 0.9, … })`.
 * Unbound symbols throw.
 */
export { evaluate } from './ir/eval.js';

/** Symbol values for {@link evaluate}. */
export type { Env } from './ir/eval.js';

/** Plain-text report: `emitText(derivation, 'asymptotic' | 'exact-n')`. */
export { emitText } from './emit/text.js';

/** The derivation as deterministic JSON (sorted keys, expressions as strings). */
export { emitJson } from './emit/json.js';

/** A LaTeX document: the result and an appendix printed from the recorded steps. */
export { emitLatex } from './emit/latex.js';

/** A self-contained HTML page of the derivation. */
export { emitHtml } from './emit/html.js';

/** A Markdown report of the derivation. */
export { emitMarkdown } from './emit/markdown.js';

/**
 * Matrix rules (`shape matrix`, docs/matrix-optimizers.md): `parseRuleFile` reads either
 * kind of rule; `deriveMatrix` derives M of a matrix rule as an operator on the
 * Hessian-vector product; the emitters print its document and JSON.
 */
export { parseRuleFile } from './parse/rule-file.js';
export { isMatrixRule } from './ir/rule.js';
export type { MatrixRule, MatrixStateDecl } from './ir/rule.js';
export { deriveMatrix } from './matrix/derive.js';
export type { MatrixDerivation, MatrixRegimeResult, MatrixTerm, MatrixState } from './matrix/derive.js';
export type { MExpr } from './matrix/expr.js';
export { buildMatrixDocument, emitMatrixJson } from './emit/matrix-document.js';
