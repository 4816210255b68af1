/**
 * What a derivation document says, built once as blocks (doc.ts) for every emitter. The
 * summary (text, Markdown) states the result and its interpretation; the appendix (LaTeX,
 * HTML) first retraces the derivation from its recorded steps (appendix.ts).
 */
import * as E from '../ir/expr.js';
import type { Expr } from '../ir/expr.js';
import type {
  CorrectionTerm, Derivation, Interpretation, Potential, Regime, RegimeResult, Verdict, VerdictKind,
} from '../derive/types.js';
import { hasInitialValue, type Rule } from '../ir/rule.js';
import { expansionSection, ruleSection, statesStart, unrolledSection } from './appendix.js';
import {
  aligned, COORD, exactNResult, math, unavailableText, named, regimeInlines, showRegime, text, VECTOR, type Block, type Inline, type Shown,
} from './doc.js';
import { paren, toLatex, toLatexFactor } from './expr-latex.js';
import { toText, toTextFactor } from './expr-text.js';
import { hasNegativeSign, negate } from './layout.js';
import { latexName, subscript, textName } from './names.js';

export interface DocumentOptions {
  /** Include the derivation steps (rule, unrolled memory, expansion, sums) before the result. */
  readonly appendix: boolean;
}

export function buildDocument(d: Derivation, regime: Regime, opts: DocumentOptions): Block[] {
  const shown = showRegime(d, regime);
  const out: Block[] = [];
  header(d, shown, out);
  if (opts.appendix) {
    ruleSection(d.rule, out);
    unrolledSection(shown.result, out);
    expansionSection(shown.result, out);
  }
  resultSection(shown, out);
  otherRegimeSection(d, shown, out);
  interpretationSection(d.interpretation, out);
  listSection('Assumptions', d.assumptions, out);
  if (d.notes.length) listSection('Notes', d.notes, out);
  verificationSection(d, out);
  return out;
}

/** What the oracle comparison checked, in words (every output format says it). */
export function verificationSummary(d: Derivation): string {
  const v = d.verification;
  if (!v) return 'Not verified against the oracle (skipped on request).';
  const regimes = v.regimes.map((r) => (r === 'exact-n' ? 'exact finite-n (n = 0, 1, 2, 3, 10, 100)' : 'asymptotic')).join(' and ');
  return `Verified against the independent oracle (the rule's literal recursion, differentiated along the history): ${v.checks} comparisons of F and M, ${regimes}, at the defaults and ${v.draws - 1} parameter draws across the declared domains (rates near 1 among them); max relative difference ${v.maxRelativeDifference.toExponential(1)}.`;
}

function verificationSection(d: Derivation, out: Block[]) {
  listSection('Verification', [verificationSummary(d), ...(d.verification?.skipped ?? []).map((s) => `Not checked: ${s}.`)], out);
}

/** Decimal literal as written in the rule (1e-8) → LaTeX (10^{-8}). */
function latexNumber(t: string): string {
  const m = /^([+-]?[\d.]+)[eE]([+-]?\d+)$/.exec(t);
  if (!m) return t;
  const exp = String(Number(m[2]));
  return m[1] === '1' ? `10^{${exp}}` : `${m[1]} \\cdot 10^{${exp}}`;
}

// ---- header -----------------------------------------------------------------------------
function header(d: Derivation, shown: Shown, out: Block[]) {
  const rule = d.rule;
  out.push({ kind: 'heading', level: 1, text: `Memory correction of ${rule.name}` });
  out.push(sourceBlock(rule));
  const regime: Inline[] = [text('Regime: '), ...regimeInlines(shown.result.regime), text('.')];
  if (shown.fallback !== undefined)
    regime.push(text(` The exact finite-n form is unavailable (${shown.fallback}); the asymptotic result is shown instead.`));
  out.push({ kind: 'para', content: regime });
  const limits: Inline[] = [text('Limits taken: ')];
  if (d.limits.length === 0) limits.push(text('none.'));
  d.limits.forEach((l, i) => {
    if (i > 0) limits.push(text(', '));
    limits.push(math(`${latexName(l)} \\to 0`, `${textName(l)} → 0`));
  });
  if (d.limits.length) limits.push(text('.'));
  out.push({ kind: 'para', content: limits });
  out.push(...parameterBlocks(rule));
}

/** The rule file (and reference) as a paragraph. */
export function sourceBlock(rule: Rule): Block {
  const source: Inline[] = [text(`Rule file: ${rule.file}.`)];
  if (rule.cite !== undefined) source.push(text(` Reference: ${rule.cite}.`));
  return { kind: 'para', content: source };
}

/** The parameters with their default values and domains. */
export function parameterBlocks(rule: Rule): Block[] {
  const out: Block[] = [];
  if (rule.params.length === 0) out.push({ kind: 'para', content: [text('Parameters: none.')] });
  else {
    out.push({ kind: 'para', content: [text('Parameters (default value and domain):')] });
    out.push({
      kind: 'list',
      items: rule.params.map((p) => [math(
        `${latexName(p.name)} = ${latexNumber(p.valueText)} \\in ${p.domain.text.replace(/inf/g, '\\infty')}`,
        `${textName(p.name)} = ${p.valueText} ∈ ${p.domain.text.replace(/inf/g, '∞')}`,
      )]),
    });
  }
  // the exact finite-n results depend on where the states start
  if (rule.states.some(hasInitialValue)) out.push({ kind: 'para', content: [text('Initial values (before step 0): '), ...statesStart(rule, false), text('.')] });
  return out;
}

// ---- the result ---------------------------------------------------------------------------
function resultSection(shown: Shown, out: Block[]) {
  const r = shown.result;
  out.push({ kind: 'heading', level: 2, text: 'Result' });
  out.push({
    kind: 'para',
    content: [text('With '), math('g = \\nabla L(\\theta)', 'g = ∇L(θ)'), text(' and '), math('H = \\nabla^2 L(\\theta)', 'H = ∇²L(θ)'),
      text(', at coordinate '), math('j', 'j'), text(':')],
  });
  out.push(...resultDisplays(r));
  const F = named('F', r.regime);
  const M = named('M', r.regime);
  out.push({
    kind: 'para',
    content: [text('The memoryless iteration stays within '), math('O(h^{2})', 'O(h²)'),
      text(' of the optimizer over a fixed horizon (without '), math(M.tex, M.plain), text(' only within '), math('O(h)', 'O(h)'), text('):')],
  });
  out.push(r.M.length
    ? {
      kind: 'display',
      tex: `\\tilde\\theta_{n+1} = \\tilde\\theta_n - h \\left(${F.tex}(\\tilde\\theta_n) + h\\, ${M.tex}(\\tilde\\theta_n)\\right)`,
      plain: `θ̃ₙ₊₁ = θ̃ₙ − h·(${F.plain}(θ̃ₙ) + h·${M.plain}(θ̃ₙ))`,
    }
    : {
      kind: 'display',
      tex: `\\tilde\\theta_{n+1} = \\tilde\\theta_n - h\\, ${F.tex}(\\tilde\\theta_n)`,
      plain: `θ̃ₙ₊₁ = θ̃ₙ − h·${F.plain}(θ̃ₙ)`,
    });
}

/** F and M of one regime as two displays. */
function resultDisplays(r: RegimeResult): Block[] {
  const F = named('F', r.regime);
  const M = named('M', r.regime);
  return [
    { kind: 'display', tex: `${F.tex}_j(\\theta) = ${toLatex(r.F, COORD)}`, plain: `${F.plain}(θ) = ${toText(r.F)}` },
    { kind: 'display', tex: `${M.tex}_j(\\theta) = ${correctionTex(r.M)}`, plain: `${M.plain}(θ) = ${correctionText(r.M)}` },
  ];
}

/** Σ terms with signs pulled out of the weights: w (H V)_j, or w V_j. */
function correctionTex(terms: readonly CorrectionTerm[]): string {
  if (terms.length === 0) return '0 \\quad \\text{(almost everywhere)}';
  return signed(terms.map((t) => {
    const w = hasNegativeSign(t.weight) ? negate(t.weight) : t.weight;
    const weight = E.isOne(w) ? '' : `${toLatexFactor(w, COORD)}\\, `;
    const body = t.kind === 'hvp'
      ? `\\left(H\\, ${toLatexFactor(t.field, VECTOR)}\\right)_j`
      : toLatexFactor(t.field, COORD);
    return { negative: hasNegativeSign(t.weight), s: `${weight}${body}` };
  }), ' - ', ' + ', '-');
}

function correctionText(terms: readonly CorrectionTerm[]): string {
  if (terms.length === 0) return '0 (almost everywhere)';
  return signed(terms.map((t) => {
    const w = hasNegativeSign(t.weight) ? negate(t.weight) : t.weight;
    const weight = E.isOne(w) ? '' : `${looseFactor(w)} · `;
    const body = t.kind === 'hvp' ? `H·(${toText(t.field)})` : toTextFactor(t.field);
    return { negative: hasNegativeSign(t.weight), s: `${weight}${body}` };
  }), ' − ', ' + ', '−');
}

/** A weight before ' · ' in text: a/b · c reads as (a/b)·c, so only sums need parentheses. */
const looseFactor = (e: Expr) => (e.kind === 'add' || e.kind === 'sum' ? `(${toText(e)})` : toText(e));

function signed(parts: readonly { negative: boolean; s: string }[], minus: string, plus: string, lead: string): string {
  return parts.map((p, i) => (i === 0 ? `${p.negative ? lead : ''}${p.s}` : `${p.negative ? minus : plus}${p.s}`)).join('');
}

function otherRegimeSection(d: Derivation, shown: Shown, out: Block[]) {
  if (shown.fallback !== undefined) return; // the exact form is missing and its reason already given
  const other: Regime = shown.result.regime === 'asymptotic' ? 'exact-n' : 'asymptotic';
  const result = other === 'asymptotic' ? d.asymptotic : exactNResult(d);
  // an exact-n form that was never asked for is not worth a section
  if ('unavailable' in result && !result.derived) return;
  out.push({ kind: 'heading', level: 2, text: 'The other regime' });
  if ('unavailable' in result) {
    out.push({ kind: 'para', content: [text(`The exact finite-n form is unavailable: ${unavailableText(result)}.`)] });
    return;
  }
  out.push({ kind: 'para', content: [text('Regime: '), ...regimeInlines(other), text(':')] });
  out.push(...resultDisplays(result));
}

// ---- interpretation -------------------------------------------------------------------------
const VERDICT: Readonly<Record<VerdictKind, string>> = {
  regularizing: 'regularizing',
  'anti-regularizing': 'anti-regularizing',
  mixed: 'not determined (the sign may vary)',
  none: 'no implicit regularization',
};

/** Φ(θ) = Σ_j perCoordinate + lossCoefficient · L(θ). */
function potentialInline(p: Potential): { tex: string; plain: string } {
  const parts: { negative: boolean; tex: string; plain: string }[] = [];
  if (!E.isZero(p.perCoordinate)) {
    const body = p.perCoordinate;
    const tex = body.kind === 'add' ? paren(toLatex(body, COORD)) : toLatex(body, COORD);
    const plain = body.kind === 'add' ? `(${toText(body, { coordinate: 'j' })})` : toText(body, { coordinate: 'j' });
    parts.push({ negative: false, tex: `\\sum_{j} ${tex}`, plain: `Σⱼ ${plain}` });
  }
  if (!E.isZero(p.lossCoefficient)) {
    const negative = hasNegativeSign(p.lossCoefficient);
    const c = negative ? negate(p.lossCoefficient) : p.lossCoefficient;
    parts.push({
      negative,
      tex: E.isOne(c) ? 'L(\\theta)' : `${toLatexFactor(c, COORD)}\\, L(\\theta)`,
      plain: E.isOne(c) ? 'L(θ)' : `${toTextFactor(c)}·L(θ)`,
    });
  }
  if (parts.length === 0) return { tex: '0', plain: '0' };
  return {
    tex: signed(parts.map((x) => ({ negative: x.negative, s: x.tex })), ' - ', ' + ', '-'),
    plain: signed(parts.map((x) => ({ negative: x.negative, s: x.plain })), ' − ', ' + ', '−'),
  };
}

function interpretationSection(it: Interpretation, out: Block[]) {
  out.push({ kind: 'heading', level: 2, text: 'Interpretation' });
  const pots = it.potentials;
  if (pots && pots.length) {
    const one = pots.length === 1;
    const phi = (i: number) => (one ? { tex: '\\Phi', plain: 'Φ' } : { tex: `\\Phi_{${i + 1}}`, plain: `Φ${subscript(String(i + 1))!}` });
    out.push({ kind: 'para', content: [text(one ? 'M is a weighted gradient of a potential:' : 'M is a weighted sum of gradients of potentials:')] });
    out.push({
      kind: 'display',
      tex: aligned(pots.map((p, i) => `${phi(i).tex}(\\theta) &= ${potentialInline(p.potential).tex}`)),
      plain: pots.map((p, i) => `${phi(i).plain}(θ) = ${potentialInline(p.potential).plain}`).join('\n'),
    });
    const terms = pots.map((p, i) => {
      const negative = hasNegativeSign(p.weight);
      const w = negative ? negate(p.weight) : p.weight;
      return {
        negative,
        tex: `${E.isOne(w) ? '' : `${toLatexFactor(w, COORD)}\\, `}\\partial_j ${phi(i).tex}`,
        plain: `${E.isOne(w) ? '' : `${looseFactor(w)} ∘ `}∇${phi(i).plain}(θ)`,
      };
    });
    out.push({
      kind: 'display',
      tex: `M_j(\\theta) = ${signed(terms.map((t) => ({ negative: t.negative, s: t.tex })), ' - ', ' + ', '-')}`,
      plain: `M(θ) = ${signed(terms.map((t) => ({ negative: t.negative, s: t.plain })), ' − ', ' + ', '−')}`,
    });
  } else {
    out.push({ kind: 'para', content: [text('No potential was found: M is not written as a weighted gradient of a scalar.')] });
  }
  const ml = it.modifiedLoss;
  if (ml) {
    const phi = potentialInline(ml.potential);
    const wd = ml.weightDecay;
    out.push({
      kind: 'para',
      content: [text('F and M share the preconditioner '), math('P', 'P'),
        text(wd ? ', with (coupled) weight decay read as the loss L + (λ/2)‖θ‖², so the memoryless iteration is preconditioned gradient descent on a modified loss:'
          : ', so the memoryless iteration is preconditioned gradient descent on a modified loss:')],
    });
    // weight decay inside F: F = P∘∇(L + (λ/2)‖θ‖²)
    const decayTex = wd ? ` + \\frac{${toLatex(wd, COORD)}}{2} \\lVert\\theta\\rVert^2` : '';
    const decayText = wd ? ` + (${toText(wd)}/2)·‖θ‖²` : '';
    out.push({
      kind: 'display',
      tex: aligned([
        `\\tilde L(\\theta) &= L(\\theta)${decayTex} + h\\, ${toLatexFactor(ml.coefficient, COORD)} \\left(${phi.tex}\\right)`,
        '\\tilde\\theta_{n+1} &= \\tilde\\theta_n - h\\, P_j\\, \\partial_j \\tilde L(\\tilde\\theta_n)',
        `P_j &= ${toLatex(ml.preconditioner, COORD)}`,
      ]),
      plain: [
        `L̃(θ) = L(θ)${decayText} + h·${toTextFactor(ml.coefficient)}·(${phi.plain})`,
        'θ̃ₙ₊₁ = θ̃ₙ − h·P ∘ ∇L̃(θ̃ₙ)',
        `P = ${toText(ml.preconditioner)}`,
      ].join('\n'),
    });
  }
  if (it.signCoefficient)
    out.push({ kind: 'para', content: [text('The sign of M is carried by '), math(`c = ${toLatex(it.signCoefficient, COORD)}`, `c = ${toText(it.signCoefficient)}`), text('.')] });
  const v = it.verdict;
  const verdict: Inline[] = [text(`Verdict: ${VERDICT[v.kind]}`)];
  if (v.condition) {
    const c = conditionMath(v.condition);
    verdict.push(text(' when '), math(c.tex, c.plain), text(` (otherwise ${VERDICT[v.condition.otherwise]})`));
  }
  verdict.push(text('.'));
  out.push({ kind: 'para', content: verdict });
  if (v.reason) out.push({ kind: 'para', content: [text(`Reason: ${v.reason}`)] });
  if (v.suggestLimits?.length) {
    const hint: Inline[] = [text('The sign reads more clearly in the limit ')];
    v.suggestLimits.forEach((l, i) => {
      if (i > 0) hint.push(text(', '));
      hint.push(math(`${latexName(l)} \\to 0`, `${textName(l)} → 0`));
    });
    hint.push(text(` (--limit ${v.suggestLimits.join(',')})`));
    const lv = v.limitVerdict;
    if (lv) {
      hint.push(text(`: there, memory is ${VERDICT[lv.kind]}`));
      if (lv.condition) {
        const c = conditionMath(lv.condition);
        hint.push(text(' when '), math(c.tex, c.plain), text(` (otherwise ${VERDICT[lv.condition.otherwise]})`));
      }
    }
    hint.push(text('.'));
    out.push({ kind: 'para', content: hint });
  }
  if (it.notes.length) out.push({ kind: 'list', items: it.notes.map((n) => [text(n)]) });
}

/** The verdict's condition lhs op rhs, e.g. β₂ > β₁. */
export function conditionMath(c: NonNullable<Verdict['condition']>): { tex: string; plain: string } {
  return { tex: `${toLatex(c.lhs, COORD)} ${c.op} ${toLatex(c.rhs, COORD)}`, plain: `${toText(c.lhs)} ${c.op} ${toText(c.rhs)}` };
}

export function listSection(title: string, items: readonly string[], out: Block[]) {
  out.push({ kind: 'heading', level: 2, text: title });
  if (items.length === 0) out.push({ kind: 'para', content: [text('None.')] });
  else out.push({ kind: 'list', items: items.map((s) => [text(s)]) });
}
