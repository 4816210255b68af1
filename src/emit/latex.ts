/**
 * A standalone LaTeX document (article + amsmath only) written like a paper appendix: the
 * rule, its unrolled memory, the memoryless expansion with lag weights and sums, the
 * result M, the memoryless iteration and the interpretation. Displays use only commands
 * KaTeX also knows, so the HTML page renders the very same strings (see `latexDisplays`).
 */
import type { Derivation, Regime } from '../derive/types.js';
import type { Block, Inline } from './doc.js';
import { buildDocument } from './document.js';
import { latexText } from './latex-text.js';

export function emitLatex(d: Derivation, regime: Regime): string {
  return renderLatex(buildDocument(d, regime, { appendix: true }));
}

/** Any document (also a matrix rule's) as a standalone LaTeX file. */
export function renderLatex(blocks: readonly Block[]): string {
  const body = blocks.map(block).join('\n\n');
  return `\\documentclass{article}\n\\usepackage{amsmath}\n\\begin{document}\n\n${body}\n\n\\end{document}\n`;
}

/** Every display-math body of the document, in order (each must render in KaTeX). */
export function latexDisplays(d: Derivation, regime: Regime): string[] {
  return buildDocument(d, regime, { appendix: true }).flatMap((b) => (b.kind === 'display' ? [b.tex] : []));
}

const inline = (xs: readonly Inline[]) => xs.map((x) => (x.kind === 'text' ? latexText(x.text) : `\\(${x.tex}\\)`)).join('');

function block(b: Block): string {
  switch (b.kind) {
    case 'heading': return `${b.level === 1 ? '\\section*' : '\\subsection*'}{${latexText(b.text)}}`;
    case 'para': return inline(b.content);
    case 'display': return `\\[\n${b.tex}\n\\]`;
    case 'list': return `\\begin{itemize}\n${b.items.map((i) => `\\item ${inline(i)}`).join('\n')}\n\\end{itemize}`;
  }
}
