/**
 * The document model the emitters share: the builder (document.ts) decides what is said,
 * once; each emitter only decides how a heading, a paragraph, a display or a list looks.
 * Every piece of mathematics carries both notations: `tex` for LaTeX, HTML (KaTeX) and
 * Markdown, `plain` (Unicode) for the terminal.
 */
import type { Derivation, Regime, RegimeResult } from '../derive/types.js';
import type { LatexOptions } from './expr-latex.js';

export type Inline =
  | { readonly kind: 'text'; readonly text: string }
  | { readonly kind: 'math'; readonly tex: string; readonly plain: string };

export type Block =
  | { readonly kind: 'heading'; readonly level: 1 | 2; readonly text: string }
  | { readonly kind: 'para'; readonly content: readonly Inline[] }
  /** `plain` may span several lines (one equation each). */
  | { readonly kind: 'display'; readonly tex: string; readonly plain: string }
  | { readonly kind: 'list'; readonly items: readonly (readonly Inline[])[] };

export const text = (t: string): Inline => ({ kind: 'text', text: t });
export const math = (tex: string, plain: string): Inline => ({ kind: 'math', tex, plain });

/** The regime a document shows: the requested one, or the asymptotic one when exact-n has no closed form. */
export interface Shown {
  readonly requested: Regime;
  readonly result: RegimeResult;
  /** Why the requested exact-n form is unavailable, when the asymptotic result stands in for it. */
  readonly fallback?: string;
}

export function showRegime(d: Derivation, regime: Regime): Shown {
  if (regime === 'asymptotic') return { requested: regime, result: d.asymptotic };
  const exact = exactNResult(d);
  if ('unavailable' in exact) return { requested: regime, result: d.asymptotic, fallback: unavailableText(exact) };
  return { requested: regime, result: exact };
}

/** The exact-n result, or why there is none (no closed form, or not derived: `derive(rule, { exactN: true })`). */
export function exactNResult(d: Derivation): RegimeResult | { readonly unavailable: string; readonly derived: boolean; readonly byRecursion: boolean } {
  if (d.exactN === undefined) return { unavailable: 'the exact finite-n regime was not derived', derived: false, byRecursion: false };
  return 'unavailable' in d.exactN ? { unavailable: d.exactN.unavailable, derived: true, byRecursion: d.exactN.recursion !== undefined } : d.exactN;
}

/** How the exact finite-n regime is computed without a closed form (src/emit/recursion-code.ts). */
export const BY_RECURSION = 'the generated code evaluates F⁽ⁿ⁾ and M⁽ⁿ⁾ exactly by running the rule step by step on the constant history, with tangents along it';

/** Why there is no exact closed form, and how the numbers are computed instead. */
export const unavailableText = (x: { readonly unavailable: string; readonly byRecursion: boolean }) =>
  x.byRecursion ? `no closed form: ${x.unavailable}; ${BY_RECURSION}` : x.unavailable;

/** How each regime is described to the reader. */
export const REGIME_LABEL: Readonly<Record<Regime, string>> = {
  asymptotic: 'asymptotic (n → ∞, valid after burn-in)',
  'exact-n': 'exact finite n',
};

// ---- notation shared by the document sections --------------------------------------------
/** Result expressions are coordinate-wise: g and θ carry the coordinate j. */
export const COORD: LatexOptions = { coordinate: 'j' };
/** Vector fields V in (H V)_j and the derivation steps print without the coordinate. */
export const VECTOR: LatexOptions = { coordinate: null };

/** F and M with the regime's superscript: F^{(n)} in the exact finite-n regime. */
export const named = (letter: string, r: Regime) =>
  r === 'exact-n' ? { tex: `${letter}^{(n)}`, plain: `${letter}⁽ⁿ⁾` } : { tex: letter, plain: letter };

export function regimeInlines(r: Regime): Inline[] {
  return r === 'asymptotic'
    ? [text('asymptotic ('), math('n \\to \\infty', 'n → ∞'), text(', valid after burn-in)')]
    : [text(REGIME_LABEL['exact-n'])];
}

/** Equations aligned at their = signs (KaTeX and amsmath both know `aligned`). */
export function aligned(lines: readonly string[]): string {
  return lines.length === 1 ? lines[0]!.replace('&=', '=') : `\\begin{aligned}\n${lines.join(' \\\\\n')}\n\\end{aligned}`;
}
