/**
 * `memloss derive --batches m`: the mini-batch document (docs/theory.md §7) as blocks for the text,
 * Markdown, LaTeX and HTML emitters, and as JSON. It states the weights of the memory on a
 * batch history, the pathwise correction with its pair weights W(k, l), and the expectation
 * over random reshuffling with the noise term named.
 */
import * as E from '../ir/expr.js';
import type { Expr } from '../ir/expr.js';
import { toNumber } from '../ir/rational.js';
import type { BatchDerivation, BatchWeights, Derivation } from '../derive/types.js';
import { math, text, VECTOR, type Block } from './doc.js';
import { listSection, parameterBlocks, sourceBlock } from './document.js';
import { toLatex } from './expr-latex.js';
import { toMathjs } from './expr-mathjs.js';
import { toText } from './expr-text.js';
import { sortKeys, type Json } from './json.js';
import { evaluate } from '../ir/eval.js';

export const BATCH_JSON_SCHEMA_VERSION = 1;

const tex = (e: Expr) => toLatex(e, VECTOR);

export function buildBatchDocument(d: Derivation, b: BatchDerivation): Block[] {
  const w = b.asymptotic;
  const m = b.batchSymbol, l = b.gradientLagSymbol;
  const out: Block[] = [
    { kind: 'heading', level: 1, text: `Mini-batch correction of ${d.rule.name}` },
    sourceBlock(d.rule),
    { kind: 'para', content: [
      text(`Batches: the loss is L = (1/${m}) Σᵢ Lᵢ over ${m} = ${b.batches} batches; step n uses batch π(n), and π is random reshuffling (a fresh permutation every epoch of ${m} steps). Closed forms are asymptotic (n → ∞, valid after burn-in); `),
      math('H_i = \\nabla^2 L_i', 'Hᵢ = ∇²Lᵢ'), text('.'),
    ] },
    ...parameterBlocks(d.rule),
    { kind: 'heading', level: 2, text: 'Memory on a batch history' },
    { kind: 'para', content: [text('The update is linear in the gradients, so on the history θ, θ, … with the batch order π:')] },
    {
      kind: 'display',
      tex: `F^{(n)}(\\theta) = c_0 \\nabla L_{\\pi(n)} + \\sum_{k \\ge 1} c(k)\\, \\nabla L_{\\pi(n-k)}${E.isZero(w.thetaCoefficient) ? '' : ' + E\\, \\theta'}`,
      plain: `F⁽ⁿ⁾(θ) = c₀·∇L_π(n) + Σ_{k≥1} c(k)·∇L_π(n−k)${E.isZero(w.thetaCoefficient) ? '' : ' + E·θ'}`,
    },
    weightList(w, b),
  ];

  out.push({ kind: 'heading', level: 2, text: 'Pathwise correction' });
  out.push({ kind: 'para', content: [text('For a fixed batch order, replacing every past iterate by its Taylor expansion around the current one gives, with every gradient and Hessian at θ:')] });
  const thetaPart = !E.isZero(w.thetaCoefficient);
  const lagTheta = !E.isZero(w.lagTheta);
  out.push({
    kind: 'display',
    tex: `M^{(n)}(\\theta) = \\sum_{k \\ge 1} \\sum_{${l} \\ge 1} W(k, ${l})\\, H_{\\pi(n-k)} \\nabla L_{\\pi(n-${l})}`
      + (thetaPart ? ' + E \\sum_{k \\ge 1} k\\, c(k)\\, H_{\\pi(n-k)}\\, \\theta' : '')
      + (lagTheta ? ' + \\sum_{k \\ge 1} d(k)\\, D_k, \\quad D_k = \\sum_{s=n-k}^{n-1} F^{(s)}(\\theta)' : ''),
    plain: `M⁽ⁿ⁾(θ) = Σ_{k≥1} Σ_{${l}≥1} W(k, ${l})·H_π(n−k)·∇L_π(n−${l})`
      + (thetaPart ? ' + E·Σ_{k≥1} k·c(k)·H_π(n−k)·θ' : '')
      + (lagTheta ? ' + Σ_{k≥1} d(k)·D_k,  D_k = Σ_{s=n−k}^{n−1} F⁽ˢ⁾(θ)' : ''),
  });
  out.push({ kind: 'para', content: [text('with the pair weights (W(k, l) = c(k) Σ over the gradients of lag l inside the window of lag k):')] });
  out.push({
    kind: 'display',
    tex: `W(k, ${l}) = \\begin{cases} ${tex(b.pairWeight.lagAtMostK)} & ${l} \\le k \\\\ ${tex(b.pairWeight.lagAboveK)} & ${l} > k \\end{cases}`,
    plain: `W(k, ${l}) = ${toText(b.pairWeight.lagAtMostK)}   (${l} ≤ k)\nW(k, ${l}) = ${toText(b.pairWeight.lagAboveK)}   (${l} > k)`,
  });
  out.push({ kind: 'para', content: [text(`Every lag k of the same batch i adds up, so M⁽ⁿ⁾ costs ${m} gradients and ${m} Hessian-vector products per step whatever the memory length (generated code: historyWeights; memloss validate --batches).`)] });

  out.push({ kind: 'heading', level: 2, text: 'Expectation over random reshuffling' });
  out.push({ kind: 'para', content: [text('Averaging over the permutations (and over where the epoch boundaries fall), two steps in the same epoch see two different batches drawn without replacement; steps in different epochs are independent. The full-batch part is the M of the full-batch derivation; the noise adds one term:')] });
  out.push({
    kind: 'display',
    tex: `\\mathbb{E}_\\pi\\left[M\\right] = M_{\\text{full}} + \\gamma(${m})\\, \\nabla V, \\qquad V(\\theta) = \\frac{1}{${m}} \\sum_{i=1}^{${m}} \\left\\lVert \\nabla L_i(\\theta) - \\nabla L(\\theta) \\right\\rVert^2`,
    plain: `E_π[M] = M_full + γ(${m})·∇V,   V(θ) = (1/${m}) Σᵢ ‖∇Lᵢ(θ) − ∇L(θ)‖²  (the gradient variance)`,
  });
  out.push({
    kind: 'display',
    tex: `M_{\\text{full}} \\ni ${tex(b.fullBatchWeight)}\\, H \\nabla L, \\qquad \\gamma(${m}) = \\gamma_\\infty - \\frac{\\rho(${m})}{${m} - 1}`,
    plain: `M_full ∋ ${toText(b.fullBatchWeight)} · H·∇L,   γ(${m}) = γ∞ − ρ(${m})/(${m} − 1)`,
  });
  out.push({ kind: 'para', content: [text('where γ∞ comes from pairs of equal lags (the same batch twice) and ρ from pairs of steps in the same epoch (two different batches):')] });
  out.push({
    kind: 'display',
    tex: `\\gamma_\\infty = ${tex(b.noiseCoefficientManyBatches)}, \\qquad \\rho(${m}) = ${tex(b.noiseSameEpoch)}`,
    plain: `γ∞ = ${toText(b.noiseCoefficientManyBatches)}\nρ(${m}) = ${toText(b.noiseSameEpoch)}`,
  });
  out.push({ kind: 'para', content: readingOf(d, b) });
  listSection('Assumptions', [...b.assumptions, ...d.assumptions], out);
  listSection('Notes', b.notes, out);
  return out;
}

function weightList(w: BatchWeights, b: BatchDerivation): Block {
  const items = [
    [math(`c_0 = ${tex(w.current)}`, `c₀ = ${toText(w.current)}`)],
    [math(`c(k) = ${tex(w.lagG)}`, `c(k) = ${toText(w.lagG)}`)],
  ];
  if (!E.isZero(w.thetaCoefficient)) items.push([math(`E = ${tex(w.thetaCoefficient)}`, `E = ${toText(w.thetaCoefficient)}`)]);
  if (!E.isZero(w.lagTheta)) items.push([math(`d(k) = ${tex(w.lagTheta)}`, `d(k) = ${toText(w.lagTheta)}`), text(' (weight of θ_{n−k}: J_k = c(k) H_π(n−k) + d(k) I)')]);
  const exact = b.exactN;
  if (exact && !('unavailable' in exact) && (exact.current !== w.current || exact.lagG !== w.lagG))
    items.push([text('exact finite n: '), math(`c_0^{(n)} = ${tex(exact.current)},\\ c^{(n)}(k) = ${tex(exact.lagG)}`, `c₀⁽ⁿ⁾ = ${toText(exact.current)}, c⁽ⁿ⁾(k) = ${toText(exact.lagG)}`), text(' (k ≤ n)')]);
  return { kind: 'list', items };
}

/** What the sign of γ means: the expected memoryless step is descent on L + h·(γ/C)·V plus the full-batch terms. */
function readingOf(d: Derivation, b: BatchDerivation) {
  const g = b.noiseCoefficientValue;
  const C = evaluate(b.gradientCoefficient, Object.fromEntries(d.rule.params.map((p) => [p.name, toNumber(p.value)])));
  const sign = g > 0 ? 'regularizes (penalizes)' : g < 0 ? 'anti-regularizes (rewards)' : 'does not change';
  if (b.batches === 1) return [text('With one batch there is no noise (V = 0): the expectation is the full-batch M.')];
  return [text(`At ${b.batchSymbol} = ${b.batches} and the default parameters, γ = ${fmt(g)}. Since F ≈ C·∇L with C = ${toText(b.gradientCoefficient)} = ${fmt(C)}, the expected memoryless step is descent on L + h·(γ/C)·V besides the full-batch terms: the mini-batch noise ${sign} the gradient variance${g === 0 ? '' : `, with penalty weight h·${fmt(g / C)}`}.`)];
}

const fmt = (x: number) => Number(x.toPrecision(4)).toString();

const expr = (e: Expr): Json => ({ mathjs: toMathjs(e), latex: tex(e), text: toText(e) });

const weightsJson = (w: BatchWeights): Json => ({ current: expr(w.current), lagG: expr(w.lagG), lagTheta: expr(w.lagTheta), thetaCoefficient: expr(w.thetaCoefficient) });

/** The mini-batch derivation as deterministic JSON (keys sorted; schema in docs/minibatch.md). */
export function emitBatchJson(d: Derivation, b: BatchDerivation): string {
  const doc: Json = {
    schemaVersion: BATCH_JSON_SCHEMA_VERSION,
    rule: { name: d.rule.name, file: d.rule.file },
    parameters: d.rule.params.map((p) => ({ name: p.name, default: p.valueText })),
    batches: b.batches,
    symbols: { batches: b.batchSymbol, gradientLag: b.gradientLagSymbol },
    weights: {
      asymptotic: weightsJson(b.asymptotic),
      'exact-n': b.exactN === undefined ? null : 'unavailable' in b.exactN ? { unavailable: b.exactN.unavailable } : weightsJson(b.exactN),
    },
    pathwise: { pairWeight: { lagAtMostK: expr(b.pairWeight.lagAtMostK), lagAboveK: expr(b.pairWeight.lagAboveK) } },
    expectation: {
      fullBatchWeight: expr(b.fullBatchWeight),
      gradientCoefficient: expr(b.gradientCoefficient),
      noise: [{
        name: 'gradient variance',
        definition: `V = (1/${b.batchSymbol}) Σᵢ ‖∇Lᵢ − ∇L‖²`,
        coefficient: expr(b.noiseCoefficient),
        coefficientManyBatches: expr(b.noiseCoefficientManyBatches),
        sameEpochPart: expr(b.noiseSameEpoch),
        value: b.noiseCoefficientValue,
      }],
    },
    sums: b.sums.map((x) => ({ index: x.index, lo: expr(x.lo), hi: x.hi ? expr(x.hi) : null, summand: expr(x.summand), value: expr(x.value) })),
    assumptions: [...b.assumptions],
    notes: [...b.notes],
  };
  return `${JSON.stringify(sortKeys(doc), null, 2)}\n`;
}
