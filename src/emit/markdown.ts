/**
 * Markdown report with the content of the text report; mathematics as $…$ and $$…$$
 * LaTeX (GitHub, Jupyter and KaTeX-based renderers read both).
 */
import type { Derivation, Regime } from '../derive/types.js';
import type { Block, Inline } from './doc.js';
import { buildDocument } from './document.js';

export function emitMarkdown(d: Derivation, regime: Regime): string {
  return renderMarkdown(buildDocument(d, regime, { appendix: false }));
}

/** Any document (also a matrix rule's) as Markdown. */
export const renderMarkdown = (blocks: readonly Block[]) => `${blocks.map(block).join('\n\n')}\n`;

/** Backslash-escapes the characters Markdown would read as markup (CommonMark allows it for any ASCII punctuation). */
export const escapeMarkdown = (s: string) => s.replace(/[\\`*_[\]<>|$~#]/g, (c) => `\\${c}`);

const inline = (xs: readonly Inline[]) =>
  xs.map((x) => (x.kind === 'text' ? escapeMarkdown(x.text) : `$${x.tex}$`)).join('');

function block(b: Block): string {
  switch (b.kind) {
    case 'heading': return `${b.level === 1 ? '#' : '##'} ${escapeMarkdown(b.text)}`;
    case 'para': return inline(b.content);
    case 'display': return `$$\n${b.tex}\n$$`;
    case 'list': return b.items.map((i) => `- ${inline(i)}`).join('\n');
  }
}
