/**
 * The appendix sections of a document, printed from the derivation's recorded steps: the
 * rule as equations, each state unrolled on a history (constant-history value and history
 * weights), the memoryless expansion M = Σ_k J_k D_k with its lag weights, and the sums.
 */
import * as E from '../ir/expr.js';
import { hasInitialValue, stateSource, type Rule } from '../ir/rule.js';
import type { RecordedSum, RegimeResult } from '../derive/types.js';
import { aligned, math, text, VECTOR, type Block, type Inline } from './doc.js';
import { latexSymbol, paren, toLatex, toLatexFactor, type LatexOptions } from './expr-latex.js';
import { toText } from './expr-text.js';
import { latexName, textName } from './names.js';

export function ruleSection(rule: Rule, out: Block[]) {
  const step: LatexOptions = { step: { states: rule.states.map((s) => s.name) } };
  out.push({ kind: 'heading', level: 2, text: 'The rule' });
  out.push({
    kind: 'para',
    content: [text('Each step reads the gradient '), math('g_n = \\nabla L(\\theta_n)', 'gₙ = ∇L(θₙ)'),
      text(', updates the states in order, then the iterate with step size '), math('h', 'h'), text(':')],
  });
  const lines = rule.states.map((s) => `${latexSymbol(s.name, step)} &= ${toLatex(s.rhs, step)}`);
  lines.push(`\\theta_{n+1} &= \\theta_n - h\\, ${toLatexFactor(rule.update, step)}`);
  const plain = [...rule.states.map((s) => `state ${s.name} = ${stateSource(s)}`), `update ${rule.updateSource}`];
  out.push({ kind: 'display', tex: aligned(lines), plain: plain.join('\n') });
  if (rule.states.length)
    out.push({ kind: 'para', content: [...statesStart(rule), text('; a subscript n+1 is the new value, n the previous one.')] });
}

/** Where the states start (before step 0), as a clause: every one at 0, or each initial value that is not 0. */
export function statesStart(rule: Rule, sentenceStart = true): Inline[] {
  const started = rule.states.filter(hasInitialValue);
  if (!started.length) return [text(`${sentenceStart ? 'E' : 'e'}very state starts at 0`)];
  const out: Inline[] = [];
  started.forEach((s, i) => {
    out.push(text(i === 0 ? `${sentenceStart ? 'S' : 's'}tate ` : i === started.length - 1 ? ' and state ' : ', state '));
    out.push(math(latexName(s.name), textName(s.name)), text(' starts at '), math(toLatex(s.init, VECTOR), toText(s.init)));
  });
  if (started.length < rule.states.length) out.push(text(', every other state at 0'));
  return out;
}

export function unrolledSection(r: RegimeResult, out: Block[]) {
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
      content: [text('State '), math(latexName(s.name), textName(s.name)), text(' decays with coefficient '), math(toLatex(s.decay, VECTOR), toText(s.decay)), text(':')],
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

export function expansionSection(r: RegimeResult, out: Block[]) {
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
