/** Exact rationals over bigint: every literal in a rule file is a terminating decimal, so it is exact here. */
export interface Rational {
  readonly p: bigint;
  readonly q: bigint; // q > 0, gcd(p, q) = 1
}

const gcd = (a: bigint, b: bigint): bigint => {
  a = a < 0n ? -a : a;
  b = b < 0n ? -b : b;
  while (b !== 0n) [a, b] = [b, a % b];
  return a;
};

export function rat(p: bigint | number, q: bigint | number = 1n): Rational {
  let P = BigInt(p);
  let Q = BigInt(q);
  if (Q === 0n) throw new Error('internal: rational with zero denominator');
  if (Q < 0n) [P, Q] = [-P, -Q];
  const d = gcd(P, Q) || 1n;
  return Object.freeze({ p: P / d, q: Q / d });
}

/** Parses a decimal literal such as "1e-8" or "0.999" exactly. */
export function ratFromDecimal(text: string): Rational {
  const m = /^([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/.exec(text.trim());
  if (!m) throw new Error(`internal: not a decimal literal: ${text}`);
  const [, sign, int = '', frac = '', exp = '0'] = m;
  let p = BigInt((int + frac) || '0');
  // 0e999999999 is 0: do not build 10^999999999 to find that out
  if (p === 0n) return ZERO;
  let q = 10n ** BigInt(frac.length);
  const e = Number(exp);
  if (e >= 0) p *= 10n ** BigInt(e);
  else q *= 10n ** BigInt(-e);
  return rat(sign === '-' ? -p : p, q);
}

export const ZERO = rat(0);
export const ONE = rat(1);
export const add = (a: Rational, b: Rational) => rat(a.p * b.q + b.p * a.q, a.q * b.q);
export const sub = (a: Rational, b: Rational) => rat(a.p * b.q - b.p * a.q, a.q * b.q);
export const mul = (a: Rational, b: Rational) => rat(a.p * b.p, a.q * b.q);
export const div = (a: Rational, b: Rational) => rat(a.p * b.q, a.q * b.p);
export const neg = (a: Rational) => rat(-a.p, a.q);
export const isZero = (a: Rational) => a.p === 0n;
export const isOne = (a: Rational) => a.p === 1n && a.q === 1n;
export const isInteger = (a: Rational) => a.q === 1n;
export const eq = (a: Rational, b: Rational) => a.p === b.p && a.q === b.q;
export const cmp = (a: Rational, b: Rational) => {
  const d = a.p * b.q - b.p * a.q;
  return d < 0n ? -1 : d > 0n ? 1 : 0;
};
/** The nearest double (about; exact for the literals of a rule), also when p and q exceed the double range. */
export function toNumber(a: Rational): number {
  const p = Number(a.p), q = Number(a.q);
  if (Number.isFinite(p) && Number.isFinite(q)) return p / q;
  // scale both down to about 2^1000 so that their quotient survives
  const bits = (x: bigint) => (x < 0n ? -x : x).toString(2).length;
  const shift = BigInt(Math.max(bits(a.p), bits(a.q)) - 1000);
  return Number(a.p >> shift) / Number(a.q >> shift);
}

/** a^k for integer k; undefined when the result would be huge (kept symbolic instead). */
export function powInt(a: Rational, k: bigint): Rational | undefined {
  if (k === 0n) return ONE;
  if (k < 0n) {
    if (a.p === 0n) return undefined;
    return powInt(rat(a.q, a.p), -k);
  }
  if (k > 64n) return undefined;
  return rat(a.p ** k, a.q ** k);
}

/** Exact rational root a^(1/k), if one exists. */
export function rootExact(a: Rational, k: bigint): Rational | undefined {
  if (a.p < 0n && k % 2n === 0n) return undefined;
  const r = (x: bigint): bigint | undefined => {
    const neg = x < 0n;
    const ax = neg ? -x : x;
    const guess = BigInt(Math.round(Math.pow(Number(ax), 1 / Number(k))));
    for (const c of [guess - 1n, guess, guess + 1n]) if (c >= 0n && c ** k === ax) return neg ? -c : c;
    return undefined;
  };
  const p = r(a.p);
  const q = r(a.q);
  return p === undefined || q === undefined ? undefined : rat(p, q);
}

export function ratToString(a: Rational): string {
  return a.q === 1n ? a.p.toString() : `${a.p}/${a.q}`;
}
