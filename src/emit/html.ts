/**
 * A self-contained HTML page with the content of the LaTeX document. Every formula is
 * rendered by KaTeX to MathML, which browsers display natively, so the page needs no
 * stylesheet, font or script from anywhere. All text is escaped: rule names and
 * citations come from user files.
 */
import katex from 'katex';
import type { Derivation, Regime } from '../derive/types.js';
import type { Block, Inline } from './doc.js';
import { buildDocument } from './document.js';

const ENTITIES: Readonly<Record<string, string>> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => ENTITIES[c]!);

/** One formula as MathML; a TeX error is a bug in a printer, so it throws. */
const render = (tex: string, displayMode: boolean) =>
  katex.renderToString(tex, { displayMode, throwOnError: true, output: 'mathml' });

const STYLE = 'body{max-width:50rem;margin:2rem auto;padding:0 1rem;font-family:serif;line-height:1.5}'
  + '.display{overflow-x:auto;overflow-y:hidden;margin:1rem 0;padding:0.2rem 0}';

export function emitHtml(d: Derivation, regime: Regime): string {
  return renderHtml(buildDocument(d, regime, { appendix: true }), d.rule.name);
}

/** Any document (also a matrix rule's) as a self-contained HTML page. */
export function renderHtml(blocks: readonly Block[], name: string): string {
  const title = blocks.find((b) => b.kind === 'heading');
  return [
    '<!DOCTYPE html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>${escapeHtml(title?.kind === 'heading' ? title.text : name)}</title>`,
    `<style>${STYLE}</style>`,
    '</head>',
    '<body>',
    ...blocks.map(block),
    '</body>',
    '</html>',
    '',
  ].join('\n');
}

const inline = (xs: readonly Inline[]) => xs.map((x) => (x.kind === 'text' ? escapeHtml(x.text) : render(x.tex, false))).join('');

function block(b: Block): string {
  switch (b.kind) {
    case 'heading': return b.level === 1 ? `<h1>${escapeHtml(b.text)}</h1>` : `<h2>${escapeHtml(b.text)}</h2>`;
    case 'para': return `<p>${inline(b.content)}</p>`;
    case 'display': return `<div class="display">${render(b.tex, true)}</div>`;
    case 'list': return `<ul>\n${b.items.map((i) => `<li>${inline(i)}</li>`).join('\n')}\n</ul>`;
  }
}
