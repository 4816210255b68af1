/**
 * The one precedence table every expression printer shares (SymPy's printers share theirs
 * the same way). A printer renders a child, compares the child's level with the level its
 * slot requires, and parenthesizes when the child binds more loosely.
 */

/** Binding strength of a printed form; higher binds tighter. */
export const PREC = {
  /** a + b, a − b, and the big operator Σ (which extends as far right as it can). */
  sum: 1,
  /** a·b, a/b, unary −a, and a rational p/q printed inline. */
  product: 2,
  /** a^b. */
  power: 3,
  /** Symbols, non-negative integers, calls f(x), |x|, √x, \frac{}{}, anything parenthesized. */
  atom: 4,
} as const;

export type Prec = (typeof PREC)[keyof typeof PREC];

/** The level each slot requires of what is printed in it. */
export const SLOT = {
  /** A term of a sum; subtraction's right operand is a term too (its sign is printed outside). */
  term: PREC.product,
  /** A factor of a product: a sum or a signed value must be parenthesized. */
  factor: PREC.power,
  /** A power's base: a^b^c is right-associative, so even a power is parenthesized. */
  base: PREC.atom,
  /** An exponent written inline (mathjs, text); LaTeX braces need no parentheses. */
  exponent: PREC.atom,
} as const;

/** A printed fragment together with how tightly it binds. */
export interface Printed {
  readonly s: string;
  readonly prec: Prec;
}

export const printed = (s: string, prec: Prec): Printed => ({ s, prec });

/** Parenthesizes p if it binds more loosely than the slot requires. */
export function inSlot(p: Printed, slot: Prec, open = '(', close = ')'): string {
  return p.prec < slot ? `${open}${p.s}${close}` : p.s;
}
