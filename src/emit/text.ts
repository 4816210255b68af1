/**
 * Terminal report: the constant-history update F, M term by term, the memoryless
 * iteration, the interpretation (potential, modified loss, verdict), regime, limits,
 * assumptions and notes, in Unicode (β₁, θ̃ₙ₊₁, H·(g)).
 */
import type { Derivation, Regime } from '../derive/types.js';
import type { Block, Inline } from './doc.js';
import { buildDocument } from './document.js';

export function emitText(d: Derivation, regime: Regime): string {
  return renderText(buildDocument(d, regime, { appendix: false }));
}

/** Any document (also a matrix rule's) as terminal text. */
export const renderText = (blocks: readonly Block[]) => `${blocks.map(block).join('\n\n')}\n`;

const inline = (xs: readonly Inline[]) => xs.map((x) => (x.kind === 'text' ? x.text : x.plain)).join('');

function block(b: Block): string {
  switch (b.kind) {
    case 'heading': return b.level === 1 ? `${b.text}\n${'='.repeat([...b.text].length)}` : `${b.text}\n${'-'.repeat([...b.text].length)}`;
    case 'para': return inline(b.content);
    case 'display': return b.plain.split('\n').map((l) => `    ${l}`).join('\n');
    case 'list': return b.items.map((i) => `  - ${inline(i)}`).join('\n');
  }
}
