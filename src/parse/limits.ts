/**
 * The limits on rule input (docs/rule-language.md, "Limits"). Beyond them a rule is refused
 * with the limit named (rule/too-large, rule/bad-number), so that no input can exhaust the
 * stack, the memory or the patience of the parser and the engine.
 */
export const LIMITS = {
  /** A rule file, in bytes (the library counts characters of the source). */
  fileBytes: 1_048_576,
  /** One line, in characters. */
  lineChars: 10_000,
  /** Nesting of one expression: parentheses, calls, signs and powers. */
  depth: 64,
  /** Tokens (numbers, names, operators) of one expression. */
  tokens: 1_000,
  /** Nodes of one expression once fn calls are expanded. */
  nodes: 10_000,
  params: 32,
  fns: 32,
  states: 16,
  /** Digits of one number literal. */
  digits: 64,
  /** Diagnostics reported for one file; the rest of the file is not read. */
  diagnostics: 50,
} as const;

/** Longest name quoted whole in a message; longer ones are cut (the line stays readable). */
const SHOWN_NAME = 40;

/**
 * Text as messages show it: whole, or its first 40 characters and …; control characters
 * (a NUL, a lone carriage return) are written as escapes, so that a message stays one line.
 */
export const shorten = (text: string) =>
  (text.length > SHOWN_NAME ? `${text.slice(0, SHOWN_NAME)}…` : text)
    .replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);

/** A name as messages quote it: 'beta1', or its first 40 characters and … */
export const quote = (name: string) => `'${shorten(name)}'`;

/**
 * Why a decimal literal cannot be read exactly, or undefined when it can: too many digits,
 * or a value that is no finite double (1e400 overflows, 1e-400 would silently become 0). Checked
 * before the literal becomes an exact rational, whose size grows with the exponent.
 */
export function numberProblem(text: string): string | undefined {
  const m = /^[+-]?(\d*)(?:\.(\d*))?(?:[eE][+-]?\d+)?$/.exec(text);
  if (!m) return 'not a number';
  const digits = (m[1] ?? '').length + (m[2] ?? '').length;
  if (digits > LIMITS.digits) return `a number may have at most ${LIMITS.digits} digits; this one has ${digits}`;
  const v = Number(text);
  if (!Number.isFinite(v)) return `the number ${shorten(text)} is too large: a double reaches about 1.8e308`;
  if (v === 0 && /[1-9]/.test(`${m[1] ?? ''}${m[2] ?? ''}`)) return `the number ${shorten(text)} is too small: a double below about 5e-324 is 0`;
  return undefined;
}
