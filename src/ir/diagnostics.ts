/** The catalogue of user-facing diagnostics. Each is one line: file:line:col: reason. */
export type DiagnosticCode =
  | 'rule/syntax'
  | 'rule/unknown-symbol'
  | 'rule/unknown-function'
  | 'rule/duplicate'
  | 'rule/missing'
  | 'rule/default-outside-domain'
  | 'rule/reserved-name'
  | 'rule/state-order'
  | 'rule/not-linear'
  | 'rule/memory-not-decaying'
  | 'rule/non-differentiable'
  | 'rule/unsupported'
  | 'rule/cannot-derive'
  | 'rule/limit'
  | 'rule/too-large'
  | 'rule/bad-number'
  | 'rule/bad-constant'
  | 'rule/name-clash'
  | 'rule/f32-range'
  | 'rule/bad-argument';

export interface Span {
  readonly file: string;
  readonly line: number; // 1-based
  readonly col: number; // 1-based
}

export interface Diagnostic {
  readonly code: DiagnosticCode;
  readonly span: Span;
  readonly message: string;
}

export const formatDiagnostic = (d: Diagnostic) => `${d.span.file}:${d.span.line}:${d.span.col}: ${d.message} [${d.code}]`;

/** Bad input: carries one or more located diagnostics; the CLI prints them and exits 1. */
export class RuleError extends Error {
  readonly diagnostics: readonly Diagnostic[];
  constructor(diagnostics: Diagnostic | readonly Diagnostic[]) {
    const list = Array.isArray(diagnostics) ? diagnostics : [diagnostics as Diagnostic];
    super(list.map(formatDiagnostic).join('\n'));
    this.name = 'RuleError';
    this.diagnostics = list;
  }
}

/** A broken invariant inside memloss (a bug), e.g. a rewrite that failed its random-point check. */
export class InternalError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(`internal error: ${message}`, options);
    this.name = 'InternalError';
  }
}

/** Closest candidate by edit distance, for "did you mean" hints. */
export function nearest(name: string, candidates: Iterable<string>): string | undefined {
  // a hint is for a typo; a very long name is no typo, and its edit distances cost its length squared
  if (name.length > 64) return undefined;
  let best: string | undefined;
  let bestD = Infinity;
  for (const c of candidates) {
    const d = editDistance(name.toLowerCase(), c.toLowerCase());
    if (d < bestD) { bestD = d; best = c; }
  }
  return best !== undefined && bestD <= Math.max(2, Math.floor(name.length / 2)) ? best : undefined;
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const cur = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = cur;
    }
  }
  return row[b.length]!;
}
