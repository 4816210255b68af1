/**
 * What a derivation document says, built once as blocks (doc.ts) for every emitter. The
 * summary (text, Markdown) states the result and its interpretation; the appendix (LaTeX,
 * HTML) first retraces the derivation from its recorded steps: the rule, the unrolled
 * memory, the memoryless expansion M = Σ_k J_k D_k, the lag weights and the sums.
 */
import * as E from '../ir/expr.js';
import type { Expr } from '../ir/expr.js';
import type { Rule } from '../ir/rule.js';
import type {
  CorrectionTerm, Derivation, Interpretation, Potential, RecordedSum, Regime, RegimeResult, Verdict, VerdictKind,
} from '../derive/types.js';
import { math, REGIME_LABEL, showRegime, text, type Block, type Inline, type Shown } from './doc.js';
import { latexSymbol, paren, toLatex, toLatexFactor, type LatexOptions } from './expr-latex.js';
import { toText, toTextFactor, type TextOptions } from './expr-text.js';
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
  return out;
}

// ---- notation ---------------------------------------------------------------------------
/** Result expressions are coordinate-wise: g, θ carry the coordinate j. */
const COORD: LatexOptions = { coordinate: 'j' };
const COORD_TEXT: TextOptions = { coordinate: null };
/** Vector fields V in (H V)_j and the derivation steps print without the coordinate. */
const VECTOR: LatexOptions = { coordinate: null };

const both = (e: Expr, lo: LatexOptions = COORD, to: TextOptions = COORD_TEXT): Inline =>
  math(toLatex(e, lo), toText(e, to));

const SUPERSCRIPT_N = '⁽ⁿ⁾';
/** F and M with the regime's superscript: F^{(n)} in the exact finite-n regime. */
const named = (letter: string, r: Regime) =>
  r === 'exact-n' ? { tex: `${letter}^{(n)}`, plain: `${letter}${SUPERSCRIPT_N}` } : { tex: letter, plain: letter };

/** Decimal literal as written in the rule (1e-8) → LaTeX (10^{-8}). */
function latexNumber(t: string): string {
  const m = /^([+-]?[\d.]+)[eE]([+-]?\d+)$/.exec(t);
  if (!m) return t;
  const exp = String(Number(m[2]));
  return m[1] === '1' ? `10^{${exp}}` : `${m[1]} \\cdot 10^{${exp}}`;
}

function regimeInlines(r: Regime): Inline[] {
  return r === 'asymptotic'
    ? [text('asymptotic ('), math('n \\to \\infty', 'n → ∞'), text(', valid after burn-in)')]
    : [text(REGIME_LABEL['exact-n'])];
}

// ---- header -----------------------------------------------------------------------------
function header(d: Derivation, shown: Shown, out: Block[]) {
  const rule = d.rule;
  out.push({ kind: 'heading', level: 1, text: `Memory correction of ${rule.name}` });
  const source: Inline[] = [text(`Rule file: ${rule.file}.`)];
  if (rule.cite !== undefined) source.push(text(` Reference: ${rule.cite}.`));
  out.push({ kind: 'para', content: source });
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
}

// ---- appendix: the derivation's recorded steps ----------------------------------------------
function ruleSection(rule: Rule, out: Block[]) {
  const step: LatexOptions = { step: { states: rule.states.map((s) => s.name) } };
  out.push({ kind: 'heading', level: 2, text: 'The rule' });
  out.push({
    kind: 'para',
    content: [text('Each step reads the gradient '), math('g_n = \\nabla L(\\theta_n)', 'gₙ = ∇L(θₙ)'),
      text(', updates the states in order, then the iterate with step size '), math('h', 'h'), text(':')],
  });
  const lines = rule.states.map((s) => `${latexSymbol(s.name, step)} &= ${toLatex(s.rhs, step)}`);
  lines.push(`\\theta_{n+1} &= \\theta_n - h\\, ${toLatexFactor(rule.update, step)}`);
  const plain = [...rule.states.map((s) => `state ${s.name} = ${s.source}`), `update ${rule.updateSource}`];
  out.push({ kind: 'display', tex: aligned(lines), plain: plain.join('\n') });
  if (rule.states.length)
    out.push({ kind: 'para', content: [text('Every state starts at 0; a subscript n+1 is the new value, n the previous one.')] });
}

function unrolledSection(r: RegimeResult, out: Block[]) {
  out.push({ kind: 'heading', level: 2, text: 'Unrolled memory' });
  if (r.states.length === 0) {
    out.push({ kind: 'para', content: [text('The rule keeps no state: its update reads the current gradient only.')] });
    return;
  }
  out.push({
    kind: 'para',
    content: [text('On a constant history ('), math('\\theta_{n-k} = \\theta', 'θₙ₋ₖ = θ'),
      text(' for every k) each state takes the value below; its history weights are its derivatives with respect to the past gradients '),
      math('g_{n-k}', 'gₙ₋ₖ'), text(' and past iterates '), math('\\theta_{n-k}', 'θₙ₋ₖ'), text(' ('), math('0 \\le k \\le n', '0 ≤ k ≤ n'),
      text('). Every quantity acts coordinate by coordinate, so the coordinate index is dropped here.')],
  });
  for (const s of r.states) {
    const name = latexName(s.name, ['n+1']);
    out.push({
      kind: 'para',
      content: [text('State '), math(latexName(s.name), textName(s.name)), text(' decays with coefficient '), both(s.decay, VECTOR), text(':')],
    });
    const lines = [
      `${name}\\big|_{\\theta_{n-k} = \\theta} &= ${toLatex(s.constantHistory, VECTOR)}`,
      `\\frac{\\partial ${name}}{\\partial g_{n-k}} &= ${toLatex(s.weightG, VECTOR)}`,
    ];
    const plain = [`${textName(s.name)} (constant history) = ${toText(s.constantHistory)}`, `∂${textName(s.name)}/∂gₙ₋ₖ = ${toText(s.weightG)}`];
    if (!E.isZero(s.weightTheta)) {
      lines.push(`\\frac{\\partial ${name}}{\\partial \\theta_{n-k}} &= ${toLatex(s.weightTheta, VECTOR)}`);
      plain.push(`∂${textName(s.name)}/∂θₙ₋ₖ = ${toText(s.weightTheta)}`);
    }
    out.push({ kind: 'display', tex: aligned(lines), plain: plain.join('\n') });
  }
}

function expansionSection(r: RegimeResult, out: Block[]) {
  out.push({ kind: 'heading', level: 2, text: 'Memoryless expansion' });
  out.push({ kind: 'para', content: [text('Every past iterate is the current one plus '), math('O(h)', 'O(h)'), text(':')] });
  out.push({
    kind: 'display',
    tex: '\\theta_{n-k} = \\theta_n + h \\sum_{s=n-k}^{n-1} F^{(s)} + O(h^{2})',
    plain: 'θₙ₋ₖ = θₙ + h·Σ[s=n−k..n−1] F⁽ˢ⁾ + O(h²)',
  });
  out.push({ kind: 'para', content: [text('so a first-order Taylor expansion of the update around '), math('\\theta_n', 'θₙ'), text(' gives')] });
  out.push({
    kind: 'display',
    tex: aligned([
      'F^{(n)}(\\theta_n, \\theta_{n-1}, \\dots, \\theta_0) &= F^{(n)}(\\theta_n) + h\\, M^{(n)}(\\theta_n) + O(h^{2})',
      'M^{(n)}(\\theta) &= \\sum_{k=1}^{n} J_k^{(n)}(\\theta) \\sum_{s=n-k}^{n-1} F^{(s)}(\\theta)',
    ]),
    plain: 'F⁽ⁿ⁾(θₙ, θₙ₋₁, …, θ₀) = F⁽ⁿ⁾(θₙ) + h·M⁽ⁿ⁾(θₙ) + O(h²)\nM⁽ⁿ⁾(θ) = Σ[k=1..n] Jₖ⁽ⁿ⁾(θ)·Σ[s=n−k..n−1] F⁽ˢ⁾(θ)',
  });
  out.push({
    kind: 'para',
    content: [text('where '), math('J_k^{(n)}', 'Jₖ⁽ⁿ⁾'), text(' is the Jacobian of '), math('F^{(n)}', 'F⁽ⁿ⁾'),
      text(' with respect to '), math('\\theta_{n-k}', 'θₙ₋ₖ'), text(' at the constant history. Since '),
      math('\\partial g_{n-k} / \\partial \\theta_{n-k} = H', '∂gₙ₋ₖ/∂θₙ₋ₖ = H'), text(', it is assembled from the lag weights ('),
      math('k \\ge 1', 'k ≥ 1'), text('):')],
  });
  out.push({
    kind: 'display',
    tex: aligned([
      'J_k^{(n)} &= \\operatorname{diag}\\left(\\frac{\\partial F^{(n)}}{\\partial g_{n-k}}\\right) H + \\operatorname{diag}\\left(\\frac{\\partial F^{(n)}}{\\partial \\theta_{n-k}}\\right)',
      `\\frac{\\partial F^{(n)}}{\\partial g_{n-k}} &= ${toLatex(r.lagWeightG, VECTOR)}`,
      `\\frac{\\partial F^{(n)}}{\\partial \\theta_{n-k}} &= ${toLatex(r.lagWeightTheta, VECTOR)}`,
    ]),
    plain: `∂F⁽ⁿ⁾/∂gₙ₋ₖ = ${toText(r.lagWeightG)}\n∂F⁽ⁿ⁾/∂θₙ₋ₖ = ${toText(r.lagWeightTheta)}`,
  });
  if (r.sums.length === 0) {
    out.push({ kind: 'para', content: [text('No sum over the lag was needed.')] });
    return;
  }
  out.push({ kind: 'para', content: [text('The sums over the lag have closed forms:')] });
  for (const s of r.sums) out.push({ kind: 'display', ...recordedSum(s) });
}

function recordedSum(s: RecordedSum): { tex: string; plain: string } {
  const hi = s.hi === undefined ? { tex: '\\infty', plain: '∞' } : { tex: toLatex(s.hi, VECTOR), plain: toText(s.hi) };
  const summand = s.summand.kind === 'add' ? { tex: paren(toLatex(s.summand, VECTOR)), plain: `(${toText(s.summand)})` }
    : { tex: toLatex(s.summand, VECTOR), plain: toText(s.summand) };
  return {
    tex: `\\sum_{${latexName(s.index)}=${toLatex(s.lo, VECTOR)}}^{${hi.tex}} ${summand.tex} = ${toLatex(s.value, VECTOR)}`,
    plain: `Σ[${textName(s.index)}=${toText(s.lo)}..${hi.plain}] ${summand.plain} = ${toText(s.value)}`,
  };
}

// ---- the result ---------------------------------------------------------------------------
function resultSection(shown: Shown, out: Block[]) {
  const r = shown.result;
  out.push({ kind: 'heading', level: 2, text: 'Result' });
  out.push({
    kind: 'para',
    content: [text('In the '), ...regimeInlines(r.regime), text(' regime, with '), math('g = \\nabla L(\\theta)', 'g = ∇L(θ)'),
      text(' and '), math('H = \\nabla^2 L(\\theta)', 'H = ∇²L(θ)'), text(', coordinate '), math('j', 'j'), text(':')],
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
    const weight = E.isOne(w) ? '' : `${toTextFactor(w)} · `;
    const body = t.kind === 'hvp' ? `H·(${toText(t.field)})` : toTextFactor(t.field);
    return { negative: hasNegativeSign(t.weight), s: `${weight}${body}` };
  }), ' − ', ' + ', '−');
}

function signed(parts: readonly { negative: boolean; s: string }[], minus: string, plus: string, lead: string): string {
  return parts.map((p, i) => (i === 0 ? `${p.negative ? lead : ''}${p.s}` : `${p.negative ? minus : plus}${p.s}`)).join('');
}

function otherRegimeSection(d: Derivation, shown: Shown, out: Block[]) {
  if (shown.fallback !== undefined) return; // the exact form is missing and its reason already given
  const other: Regime = shown.result.regime === 'asymptotic' ? 'exact-n' : 'asymptotic';
  out.push({ kind: 'heading', level: 2, text: 'The other regime' });
  const result = other === 'asymptotic' ? d.asymptotic : d.exactN;
  if ('unavailable' in result) {
    out.push({ kind: 'para', content: [text(`The exact finite-n form is unavailable: ${result.unavailable}.`)] });
    return;
  }
  out.push({ kind: 'para', content: [text('In the '), ...regimeInlines(other), text(' regime:')] });
  out.push(...resultDisplays(result));
}

// ---- interpretation -------------------------------------------------------------------------
const VERDICT: Readonly<Record<VerdictKind, string>> = {
  regularizing: 'regularizing',
  'anti-regularizing': 'anti-regularizing',
  mixed: 'mixed (the sign varies)',
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
        plain: `${E.isOne(w) ? '' : `${toTextFactor(w)} · `}∂ⱼ${phi(i).plain}`,
      };
    });
    out.push({
      kind: 'display',
      tex: `M_j(\\theta) = ${signed(terms.map((t) => ({ negative: t.negative, s: t.tex })), ' - ', ' + ', '-')}`,
      plain: `Mⱼ(θ) = ${signed(terms.map((t) => ({ negative: t.negative, s: t.plain })), ' − ', ' + ', '−')}`,
    });
  } else {
    out.push({ kind: 'para', content: [text('No potential was found: M is not written as a weighted gradient of a scalar.')] });
  }
  const ml = it.modifiedLoss;
  if (ml) {
    const phi = potentialInline(ml.potential);
    out.push({
      kind: 'para',
      content: [text('F and M share the preconditioner '), math('P', 'P'),
        text(', so the memoryless iteration is preconditioned gradient descent on a modified loss:')],
    });
    out.push({
      kind: 'display',
      tex: aligned([
        `\\tilde L(\\theta) &= L(\\theta) + h\\, ${toLatexFactor(ml.coefficient, COORD)} \\left(${phi.tex}\\right)`,
        '\\tilde\\theta_{n+1} &= \\tilde\\theta_n - h\\, P_j\\, \\partial_j \\tilde L(\\tilde\\theta_n)',
        `P_j &= ${toLatex(ml.preconditioner, COORD)}`,
      ]),
      plain: [
        `L̃(θ) = L(θ) + h·${toTextFactor(ml.coefficient)}·(${phi.plain})`,
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
  if (v.reason) out.push({ kind: 'para', content: [text(v.reason)] });
  if (v.suggestLimits?.length) {
    const hint: Inline[] = [text('The sign reads more clearly in the limit ')];
    v.suggestLimits.forEach((l, i) => {
      if (i > 0) hint.push(text(', '));
      hint.push(math(`${latexName(l)} \\to 0`, `${textName(l)} → 0`));
    });
    hint.push(text(` (--limit ${v.suggestLimits.join(',')}).`));
    out.push({ kind: 'para', content: hint });
  }
  if (it.notes.length) out.push({ kind: 'list', items: it.notes.map((n) => [text(n)]) });
}

/** The verdict's condition lhs op rhs, e.g. β₂ > β₁. */
export function conditionMath(c: NonNullable<Verdict['condition']>): { tex: string; plain: string } {
  return { tex: `${toLatex(c.lhs, COORD)} ${c.op} ${toLatex(c.rhs, COORD)}`, plain: `${toText(c.lhs)} ${c.op} ${toText(c.rhs)}` };
}

function listSection(title: string, items: readonly string[], out: Block[]) {
  out.push({ kind: 'heading', level: 2, text: title });
  if (items.length === 0) out.push({ kind: 'para', content: [text('None.')] });
  else out.push({ kind: 'list', items: items.map((s) => [text(s)]) });
}

/** Equations aligned at their = signs (KaTeX and amsmath both know `aligned`). */
function aligned(lines: readonly string[]): string {
  return lines.length === 1 ? lines[0]!.replace('&=', '=') : `\\begin{aligned}\n${lines.join(' \\\\\n')}\n\\end{aligned}`;
}

