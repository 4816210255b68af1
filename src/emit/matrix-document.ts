/**
 * What a matrix rule's derivation document says (shared by the text, LaTeX, HTML and
 * Markdown targets through the common block model), and its JSON. M is an operator: a
 * linear map applied to the Hessian-vector product H[V] of the field V = F (and to V),
 * with scalar weights in closed form; the Fréchet derivatives are written out
 * (Daleckii–Krein with the divided differences, and the polar factor's derivative).
 */
import type { Expr } from '../ir/expr.js';
import { toNumber } from '../ir/rational.js';
import type { Regime } from '../derive/types.js';
import type { MatrixDerivation, MatrixRegimeResult } from '../matrix/derive.js';
import type { MExpr } from '../matrix/expr.js';
import { aligned, math, text, type Block, type Inline } from './doc.js';
import { toLatex } from './expr-latex.js';
import { toText } from './expr-text.js';
import { sortKeys, type Json } from './json.js';
import { matrixLatex, matrixText } from './matrix-expr.js';
import { latexName, textName } from './names.js';

const VEC = { coordinate: null } as const;
const mm = (m: MExpr): Inline => math(matrixLatex(m), matrixText(m));
const sm = (e: Expr): Inline => math(toLatex(e, VEC), toText(e));

/** The regime shown: exact-n when asked for and available, else the asymptotic one (with the reason). */
export function shownMatrixRegime(d: MatrixDerivation, regime: Regime): { result: MatrixRegimeResult; fallback?: string } {
  return { result: regime === 'exact-n' ? d.exactN : d.asymptotic };
}

const sizeText = (r: string, c: string) => `${r}×${c}`;

export function buildMatrixDocument(d: MatrixDerivation, regime: Regime): Block[] {
  const { rule } = d;
  const { result: R, fallback } = shownMatrixRegime(d, regime);
  const exact = R.regime === 'exact-n';
  const Fname = exact ? { tex: 'F^{(n)}', plain: 'F⁽ⁿ⁾' } : { tex: 'F', plain: 'F' };
  const Mname = exact ? { tex: 'M^{(n)}', plain: 'M⁽ⁿ⁾' } : { tex: 'M', plain: 'M' };
  const blocks: Block[] = [];
  blocks.push({ kind: 'heading', level: 1, text: `${rule.name}: memory correction of a matrix rule` });
  if (rule.cite) blocks.push({ kind: 'para', content: [text(`Reference: ${rule.cite}.`)] });
  blocks.push({
    kind: 'para',
    content: [
      text('The parameter '), math('\\Theta', 'Θ'), text(' and its gradient '), math('G = \\nabla L(\\Theta)', 'G = ∇L(Θ)'),
      text(' are r×c matrices; the step is '), math('\\Theta_{n+1} = \\Theta_n - h\\,U_n', 'Θₙ₊₁ = Θₙ − h·Uₙ'), text('. Regime: '),
      text(exact ? 'exact finite n' : 'asymptotic (n → ∞, valid after burn-in)'), text('.'),
    ],
  });
  if (fallback) blocks.push({ kind: 'para', content: [text(`The exact finite-n form is not available: ${fallback}.`)] });

  blocks.push({ kind: 'heading', level: 2, text: 'States on the constant history' });
  blocks.push({
    kind: 'para',
    content: [text('Each state is an exponential moving average '), math('s_{n+1} = a\\,s_n + B(G_n, \\Theta_n)', 's ← a·s + B(G, Θ)'),
      text(' with |a| < 1, so on the constant history it is a multiple of B:')],
  });
  blocks.push(equations(R.states.map((s) => ({
    tex: `${latexName(s.name, ['n+1'])} &= ${toLatex(s.newValue, VEC)}\\,\\cdot\\,${wrap(matrixLatex(s.drive))} \\quad (a = ${toLatex(s.decay, VEC)},\\ ${sizeText(s.rows, s.cols)}${s.sym ? ',\\ \\text{symmetric}' : ''})`,
    plain: `${textName(s.name)} = ${toText(s.newValue)} · (${matrixText(s.drive)})    (a = ${toText(s.decay)}, ${sizeText(s.rows, s.cols)}${s.sym ? ', symmetric' : ''})`,
  }))));
  blocks.push({ kind: 'para', content: [text('The update on the constant history:')] });
  blocks.push({ kind: 'display', tex: `${Fname.tex} = ${matrixLatex(R.F)}`, plain: `${Fname.plain} = ${matrixText(R.F)}` });

  blocks.push({ kind: 'heading', level: 2, text: 'The correction M as an operator' });
  blocks.push({
    kind: 'para',
    content: [
      ...(R.pastSums
        ? [text('With each term\'s own field V (a sum over the past updates, listed below, since F⁽ˢ⁾ depends on s) and the Hessian-vector product ')]
        : [text('With the field '), math(`V = ${Fname.tex}`, `V = ${Fname.plain}`), text(' and the Hessian-vector product ')]),
      math('\\mathcal{H}[V] = \\frac{d}{dt}\\nabla L(\\Theta + tV)\\big|_{t=0}', 'H[V] = d/dt ∇L(Θ + tV) at t = 0'),
      text(', M is a linear map applied to H[V]: for each state, the weight '), math('\\sum_k k\\,a^k', 'Σₖ k·aᵏ'),
      text(' times the derivative of the update with respect to that state, in the direction of the state input\'s derivative along H[V]:'),
    ],
  });
  if (R.terms.length === 0) blocks.push({ kind: 'display', tex: `${Mname.tex} = 0`, plain: `${Mname.plain} = 0` });
  else {
    blocks.push(equations(R.terms.map((t, i) => ({
      tex: `${i === 0 ? `${Mname.tex} &= ` : '&\\quad + '}${t.past ? '' : `${wrap(toLatex(t.weight, VEC))}\\,`}${wrap(matrixLatex(t.operator))}`,
      plain: `${i === 0 ? `${Mname.plain} = ` : '  + '}${t.past ? '' : `(${toText(t.weight)}) · `}[${matrixText(t.operator)}]`,
    }))));
    blocks.push({
      kind: 'list',
      items: R.terms.map((t) => [
        text(`through ${t.prev ? `prev(${t.state})` : t.state}: weight `), sm(t.weight), text(', operator '), mm(t.operator),
        ...(t.past
          ? [text(', with its own field '), math(`V = \\sum_{s=0}^{n-1} ${wrap(toLatex(t.past.weight, VEC))}\\,F^{(s)},\\ F^{(s)} = ${matrixLatex(t.past.F)}`, `V = Σ_{s=0}^{n−1} (${toText(t.past.weight)}) · F⁽ˢ⁾, F⁽ˢ⁾ = ${matrixText(t.past.F)}`)]
          : []),
      ]),
    });
  }
  blocks.push({ kind: 'heading', level: 2, text: 'Sums of the lag weights' });
  blocks.push(equations(R.sums.map((s) => ({
    tex: `\\sum_{k=${toLatex(s.lo, VEC)}}^{${s.hi ? toLatex(s.hi, VEC) : '\\infty'}} ${toLatex(s.summand, VEC)} &= ${toLatex(s.value, VEC)}`,
    plain: `Σ_{k=${toText(s.lo)}}^{${s.hi ? toText(s.hi) : '∞'}} ${toText(s.summand)} = ${toText(s.value)}`,
  }))));

  blocks.push({ kind: 'heading', level: 2, text: 'Fréchet derivatives of the matrix functions' });
  blocks.push({
    kind: 'para',
    content: [text('For symmetric '), math('A = U\\,\\mathrm{diag}(\\lambda)\\,U^{\\top}', 'A = U diag(λ) Uᵀ'),
      text(' (Daleckii–Krein), with the divided differences computed without cancellation for nearly equal eigenvalues:')],
  });
  blocks.push({
    kind: 'display',
    tex: aligned([
      '\\mathrm{D}(\\cdot)^{p}\\big|_{A}[X] &= U\\left(D \\circ (U^{\\top} X U)\\right)U^{\\top}',
      'D_{ij} &= \\frac{\\lambda_i^{p} - \\lambda_j^{p}}{\\lambda_i - \\lambda_j} = \\lambda_j^{p-1}\\,\\frac{\\operatorname{expm1}(p\\,t_{ij})}{\\operatorname{expm1}(t_{ij})},\\quad t_{ij} = \\log(\\lambda_i/\\lambda_j),\\quad D_{ii} = p\\,\\lambda_i^{p-1}',
    ]),
    plain: 'Dpow(A, p)[X] = U (D ∘ (Uᵀ X U)) Uᵀ\nD_ij = (λᵢ^p − λⱼ^p)/(λᵢ − λⱼ) = λⱼ^(p−1)·expm1(p·tᵢⱼ)/expm1(tᵢⱼ), tᵢⱼ = log(λᵢ/λⱼ); D_ii = p·λᵢ^(p−1)',
  });
  blocks.push({
    kind: 'para',
    content: [text('The orthogonal polar factor '), math('\\operatorname{msign}(A) = A\\,(A^{\\top}A)^{-1/2}', 'msign(A) = A (AᵀA)^(−1/2)'),
      text(' (rows ≥ columns; '), math('(AA^{\\top})^{-1/2}A', '(AAᵀ)^(−1/2) A'), text(' otherwise), and with the SVD '),
      math('A = P\\Sigma Q^{\\top}', 'A = P Σ Qᵀ'), text(' of a square A:')],
  });
  blocks.push({
    kind: 'display',
    tex: aligned([
      '\\mathrm{D}\\operatorname{msign}\\big|_{A}[X] &= X\\,(A^{\\top}A)^{-1/2} + A\\,\\mathrm{D}(\\cdot)^{-1/2}\\big|_{A^{\\top}A}\\left[X^{\\top}A + A^{\\top}X\\right]',
      '&= P\\,\\Omega\\,Q^{\\top},\\quad \\Omega_{ij} = \\frac{(P^{\\top}XQ)_{ij} - (P^{\\top}XQ)_{ji}}{\\sigma_i + \\sigma_j}',
    ]),
    plain: 'Dmsign(A)[X] = X (AᵀA)^(−1/2) + A · Dpow(AᵀA, −1/2)[XᵀA + AᵀX]\n             = P Ω Qᵀ,  Ωᵢⱼ = ((PᵀXQ)ᵢⱼ − (PᵀXQ)ⱼᵢ)/(σᵢ + σⱼ)   (square A = P Σ Qᵀ)',
  });
  blocks.push({ kind: 'heading', level: 2, text: 'The memoryless iteration' });
  blocks.push({
    kind: 'display',
    tex: `\\tilde\\Theta_{n+1} = \\tilde\\Theta_n - h\\left(${Fname.tex}(\\tilde\\Theta_n) + h\\,${Mname.tex}(\\tilde\\Theta_n)\\right)`,
    plain: `Θ̃ₙ₊₁ = Θ̃ₙ − h·(${Fname.plain}(Θ̃ₙ) + h·${Mname.plain}(Θ̃ₙ))`,
  });
  const it = d.interpretation;
  blocks.push({ kind: 'heading', level: 2, text: 'Interpretation (numeric)' });
  blocks.push({
    kind: 'para',
    content: [
      text('If F is a gradient field, '), math('F = \\nabla\\Phi(G)', 'F = ∇Φ(G)'), text(', then '),
      math('\\mathcal{H}[F] = \\nabla_{\\Theta}\\,\\Phi(\\nabla L(\\Theta))', 'H[F] = ∇Θ Φ(∇L(Θ))'), text(' and '),
      math('M = K[\\nabla_{\\Theta}\\,\\Phi(\\nabla L)]', 'M = K[∇Θ Φ(∇L)]'),
      text(' with a linear map K: where K is positive semidefinite the memory term descends Φ (regularizing), where negative semidefinite it ascends Φ (anti-regularizing). '),
      text(`Verdict: ${it.verdict}. ${capitalize(it.reason)}.`),
    ],
  });
  blocks.push({ kind: 'heading', level: 2, text: 'Assumptions and notes' });
  blocks.push({ kind: 'list', items: [...d.assumptions, ...d.notes, 'interpretation (nuclear norm of the gradient): docs/matrix-optimizers.md'].map((a) => [text(a)]) });
  return blocks;
}

const capitalize = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);

const wrap = (s: string) => `\\left(${s}\\right)`;

/** One display of aligned equations, each given in both notations. */
const equations = (lines: readonly { tex: string; plain: string }[]): Block =>
  ({ kind: 'display', tex: aligned(lines.map((l) => l.tex)), plain: lines.map((l) => l.plain).join('\n') });


const expr = (e: Expr): Json => ({ latex: toLatex(e, VEC), text: toText(e) });
const mexpr = (m: MExpr): Json => ({ latex: matrixLatex(m), text: matrixText(m) });

function regimeJson(r: MatrixRegimeResult): Json {
  return {
    regime: r.regime,
    F: mexpr(r.F),
    states: r.states.map((s) => ({ name: s.name, size: sizeText(s.rows, s.cols), symmetric: s.sym, decay: expr(s.decay), input: mexpr(s.drive), newValue: expr(s.newValue), prevValue: expr(s.prevValue) })),
    M: r.terms.map((t) => ({
      state: t.state, through: t.prev ? 'prev' : 'new', weight: expr(t.weight), operator: mexpr(t.operator),
      // V = F, or (exact n, F⁽ˢ⁾ depending on s) V = Σ_{s=0}^{n−1} weight(s)·F⁽ˢ⁾
      field: t.past ? { sumOverPast: { weight: expr(t.past.weight), F: mexpr(t.past.F) } } : 'F',
    })),
    sums: r.sums.map((s) => ({ index: s.index, lo: expr(s.lo), hi: s.hi ? expr(s.hi) : null, summand: expr(s.summand), value: expr(s.value) })),
  };
}

/** Keys sorted at every level, 2-space indent, trailing newline. */
export function emitMatrixJson(d: MatrixDerivation, regime: Regime): string {
  const shown = shownMatrixRegime(d, regime);
  const doc: Json = {
    schemaVersion: 1,
    shape: 'matrix',
    rule: { name: d.rule.name, file: d.rule.file, cite: d.rule.cite ?? null },
    parameters: d.rule.params.map((p) => ({ name: p.name, default: p.valueText, value: toNumber(p.value) })),
    notation: {
      G: 'the gradient ∇L(Θ), an r×c matrix', V: 'the field: the constant-history update F', 'H[V]': 'the Hessian-vector product, d/dt ∇L(Θ + tV) at t = 0',
      Dpow: 'Dpow(A, p)[X] = U (D ∘ (Uᵀ X U)) Uᵀ, D_ij = (λᵢ^p − λⱼ^p)/(λᵢ − λⱼ), D_ii = p λᵢ^(p−1)',
      Dmsign: 'Dmsign(A)[X] = X (AᵀA)^(−1/2) + A Dpow(AᵀA, −1/2)[XᵀA + AᵀX]',
    },
    regime: { requested: regime, shown: shown.result.regime, unavailable: shown.fallback ?? null },
    regimes: {
      asymptotic: regimeJson(d.asymptotic),
      'exact-n': regimeJson(d.exactN),
    },
    interpretation: {
      kind: 'numeric',
      instances: d.interpretation.instances,
      fieldIsGradient: d.interpretation.fieldIsGradient,
      operatorSymmetric: d.interpretation.operatorSymmetric ?? null,
      definiteness: d.interpretation.definiteness ?? null,
      verdict: d.interpretation.verdict,
      reason: d.interpretation.reason,
    },
    assumptions: [...d.assumptions],
    notes: [...d.notes],
  };
  return `${JSON.stringify(sortKeys(doc), null, 2)}\n`;
}
