/**
 * The document model the emitters share: the builder (document.ts) decides what is said,
 * once; each emitter only decides how a heading, a paragraph, a display or a list looks.
 * Every piece of mathematics carries both notations: `tex` for LaTeX, HTML (KaTeX) and
 * Markdown, `plain` (Unicode) for the terminal.
 */
import type { Derivation, Regime, RegimeResult } from '../derive/types.js';

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
  if ('unavailable' in d.exactN) return { requested: regime, result: d.asymptotic, fallback: d.exactN.unavailable };
  return { requested: regime, result: d.exactN };
}

/** How each regime is described to the reader. */
export const REGIME_LABEL: Readonly<Record<Regime, string>> = {
  asymptotic: 'asymptotic (n → ∞, valid after burn-in)',
  'exact-n': 'exact finite n',
};
