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

const ENTITY: ReadonlyMap<string, string> = new Map([['&', '&amp;'], ['<', '&lt;'], ['>', '&gt;']]);

/**
 * Text that every Markdown renderer shows as written, also inside a table cell: & < > as
 * entities (Python-Markdown does not honour a backslash before <, so raw HTML would pass),
 * the other characters Markdown reads as markup backslash-escaped (CommonMark allows that
 * for any ASCII punctuation; `\|` keeps a table cell whole), line breaks as spaces (a new
 * line could start a block).
 */
export const escapeMarkdown = (s: string) =>
  oneLine(s).replace(/[&<>]/g, (c) => ENTITY.get(c)!).replace(/[\\`*_[\]|$~#]/g, (c) => `\\${c}`);

/** Line breaks (and other control characters) as spaces. */
export const oneLine = (s: string) => s.replace(/[\u0000-\u001f\u007f\u0085\u2028\u2029]/g, ' ');

/** s as a Markdown code span, shown as written: a fence of more backticks than any run in s. */
export function codeSpan(s: string): string {
  const t = oneLine(s);
  const fence = '`'.repeat(1 + Math.max(0, ...(t.match(/`+/g) ?? []).map((r) => r.length)));
  const pad = /^`|`$/.test(t) ? ' ' : '';
  return `${fence}${pad}${t}${pad}${fence}`;
}

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
