/**
 * Loop-invariant values of the derived closed forms, evaluated in binary floating point
 * with PRECISION bits and rounded to float64 once at the end.
 *
 * Why: the exact finite-n closed forms are exponential polynomials whose coefficients are
 * rational functions of the rates, with denominators such as (1 − β)ᵏ and (β₃ − β₂). In
 * float64 they cancel catastrophically when a rate is close to 1 or two rates are close
 * (AdEMAMix's exact M at β₃ = 0.9999 keeps no correct digit at n = 1). With 256 bits the
 * same formulas lose the same number of bits and keep more than 53. When two rates
 * coincide exactly the closed form is 0/0 at a removable singularity: the values are then
 * taken at a point moved by a relative 2⁻¹²⁸ (distinct per input) and computed with 2048 bits, which changes the
 * result by about that much, far below float64's resolution.
 *
 * The generated code calls `precise(fns, inputs, moved)`: each fn computes one value from
 * the inputs with the arithmetic `A`; `moved[i]` says whether input i may be moved (the
 * step index n may not).
 *
 * The runtime is one JavaScript source text, so that generated JavaScript (the in-memory
 * module, the WebAssembly loader, the WebGPU uniform code) can carry it inline and stay
 * self-contained; TypeScript modules import the same code from `memloss/precise`.
 */

/** A value m·2^e (m = 0n for zero). */
export interface Big {
  readonly m: bigint;
  readonly e: number;
}

export interface Arithmetic {
  num(x: number): Big;
  add(...xs: Big[]): Big;
  mul(...xs: Big[]): Big;
  neg(a: Big): Big;
  inv(a: Big): Big;
  pow(a: Big, b: Big): Big;
  abs(a: Big): Big;
  sign(a: Big): Big;
  exp(a: Big): Big;
  log(a: Big): Big;
  tanh(a: Big): Big;
  /** The value rounded to float64 (loop bounds of finite sums). */
  value(a: Big): number;
}

export type PreciseFn = (a: Arithmetic, x: readonly Big[]) => Big;

/** The runtime's JavaScript: defines `A` and `precise`. */
export const PRECISE_RUNTIME_JS = String.raw`let PRECISION = 256; // raised while a removable singularity is evaluated
const SHIFT = 128; // the relative move at a removable singularity is 2^-SHIFT
const MOVED_PRECISION = 2048; // room for poles of order up to 14 at that move
let strict = true; // whether near-total cancellation counts as a singularity (not at the moved point)

// a value is { m, e } = m·2^e, m a bigint (0n for zero)

/** Raised where a closed form divides by zero or leaves the reals at the given point. */
class Singular extends Error {}

// hexadecimal digits, 4 bits each, and the bits of the first digit (toString(2) is 4× longer)
const bitLength = (m) => {
  if (m < 0n) m = -m;
  if (m === 0n) return 0;
  const s = m.toString(16);
  return (s.length - 1) * 4 + (32 - Math.clz32(parseInt(s[0], 16)));
};

const limits = new Map(); // PRECISION → 2^PRECISION, so that most results skip bitLength
function norm(m, e) {
  if (m === 0n) return { m: 0n, e: 0 };
  let limit = limits.get(PRECISION);
  if (limit === undefined) limits.set(PRECISION, (limit = 1n << BigInt(PRECISION)));
  if (m < limit && m > -limit) return { m, e };
  const extra = bitLength(m) - PRECISION;
  if (extra > 0) return { m: m >> BigInt(extra), e: e + extra }; // truncation: the error is 2^-PRECISION relative
  return { m, e };
}

const ZERO = { m: 0n, e: 0 };

function fromNumber(x) {
  if (!Number.isFinite(x)) throw new Singular();
  if (x === 0) return ZERO;
  if (Number.isSafeInteger(x)) return { m: BigInt(x), e: 0 }; // the common case, without reading bits
  // x = mantissa·2^exp exactly: read the 53-bit mantissa from its bits
  const buf = new DataView(new ArrayBuffer(8));
  buf.setFloat64(0, x);
  const hi = buf.getUint32(0), lo = buf.getUint32(4);
  const biased = (hi >>> 20) & 0x7ff;
  let mant = (BigInt(hi & 0xfffff) << 32n) | BigInt(lo);
  let exp;
  if (biased === 0) exp = -1074;
  else { mant |= 1n << 52n; exp = biased - 1075; }
  return norm(x < 0 ? -mant : mant, exp);
}

function toNumber(a) {
  if (a.m === 0n) return 0;
  // keep 64 leading bits, then let the float conversion round once more (a 2^-64 error at most)
  const len = bitLength(a.m);
  const drop = Math.max(0, len - 64);
  const top = Number(a.m >> BigInt(drop));
  const e = a.e + drop;
  // in two factors, so that a subnormal result does not underflow on the way
  return top * Math.pow(2, Math.trunc(e / 2)) * Math.pow(2, e - Math.trunc(e / 2));
}

function add(a, b) {
  if (a.m === 0n) return b;
  if (b.m === 0n) return a;
  if (a.e < b.e) [a, b] = [b, a];
  // b entirely below a's last kept bit changes a by less than 2^-PRECISION relative
  if (bitLength(b.m) + b.e < bitLength(a.m) + a.e - PRECISION - 8) return a;
  const r = norm((a.m << BigInt(a.e - b.e)) + b.m, b.e);
  // a non-zero sum that cancelled nearly all bits is rounding noise: near a removable
  // singularity (rates equal up to the rounding of an earlier step); taken at a moved point
  if (strict && r.m !== 0n && bitLength(r.m) + r.e < bitLength(a.m) + a.e - PRECISION + 96) throw new Singular();
  return r;
}

const neg = (a) => ({ m: -a.m, e: a.e });
const mul = (a, b) => norm(a.m * b.m, a.e + b.e);

function inv(a) {
  if (a.m === 0n) throw new Singular();
  const shift = PRECISION + bitLength(a.m);
  return norm((1n << BigInt(shift)) / a.m, -shift - a.e);
}

function powInt(a, k) {
  if (k < 0n) return inv(powInt(a, -k));
  let out = { m: 1n, e: 0 };
  let base = a;
  while (k > 0n) {
    if (k & 1n) out = mul(out, base);
    k >>= 1n;
    if (k > 0n) base = mul(base, base);
  }
  return out;
}

/** The integer value of a, if a is an integer of moderate size. */
function integerOf(a) {
  if (a.m === 0n) return 0n;
  if (a.e >= 0) return a.e < 64 ? a.m << BigInt(a.e) : undefined;
  const s = BigInt(-a.e);
  return (a.m >> s) << s === a.m ? a.m >> s : undefined;
}

function sqrt(a) {
  if (a.m < 0n) throw new Singular();
  if (a.m === 0n) return ZERO;
  // m·2^e with e even and m of 2·PRECISION bits, then the integer square root of m
  let m = a.m, e = a.e;
  const want = 2 * PRECISION + 2 - bitLength(m);
  if (want > 0) { m <<= BigInt(want); e -= want; }
  if (e % 2 !== 0) { m <<= 1n; e -= 1; }
  let x = 1n << BigInt(Math.ceil(bitLength(m) / 2));
  for (;;) {
    const y = (x + m / x) >> 1n;
    if (y >= x) break;
    x = y;
  }
  return norm(x, e / 2);
}

const cmpAbs = (a, b) => {
  const d = add({ m: a.m < 0n ? -a.m : a.m, e: a.e }, neg({ m: b.m < 0n ? -b.m : b.m, e: b.e }));
  return d.m === 0n ? 0 : d.m < 0n ? -1 : 1;
};

const ln2Cache = new Map();
/** ln 2 = Σ_{k≥1} 1/(k·2ᵏ). */
function ln2() {
  const hit = ln2Cache.get(PRECISION);
  if (hit) return hit;
  let s = ZERO;
  for (let k = 1; k <= PRECISION + 8; k++) s = add(s, mul(inv(fromNumber(k)), { m: 1n, e: -k }));
  ln2Cache.set(PRECISION, s);
  return s;
}

/** log a = e'·ln 2 + 2·atanh((x − 1)/(x + 1)) with a = x·2^e', x ∈ [1, 2). */
function log(a) {
  if (a.m <= 0n) throw new Singular();
  const len = bitLength(a.m);
  const ePrime = a.e + len - 1;
  const x = { m: a.m, e: -(len - 1) };
  const one = { m: 1n, e: 0 };
  const z = mul(add(x, neg(one)), inv(add(x, one)));
  const z2 = mul(z, z);
  let term = z, s = ZERO;
  for (let k = 1; term.m !== 0n && k < 2 * PRECISION; k += 2) {
    const piece = mul(term, inv(fromNumber(k)));
    s = add(s, piece);
    if (piece.m === 0n || bitLength(piece.m) + piece.e < bitLength(s.m) + s.e - PRECISION - 8) break;
    term = mul(term, z2);
  }
  return add(mul(fromNumber(ePrime), ln2()), mul({ m: 2n, e: 0 }, s));
}

/** exp x = 2^k·exp(r)², with r = (x − k·ln 2)/2^16 and the Taylor series of exp(r). */
function exp(x) {
  const k = Math.round(toNumber(x) / Math.LN2);
  if (!Number.isFinite(k) || Math.abs(k) > 1e9) throw new Singular();
  const SQUARINGS = 16;
  const r = mul(add(x, neg(mul(fromNumber(k), ln2()))), { m: 1n, e: -SQUARINGS });
  let term = { m: 1n, e: 0 }, s = term;
  for (let j = 1; j < PRECISION; j++) {
    term = mul(mul(term, r), inv(fromNumber(j)));
    if (term.m === 0n || bitLength(term.m) + term.e < -PRECISION - 8) break;
    s = add(s, term);
  }
  for (let j = 0; j < SQUARINGS; j++) s = mul(s, s);
  return { m: s.m, e: s.e + k };
}

/** exp x − 1 without cancellation: the Taylor series from the linear term for |x| < 1, else through exp. */
function expm1(x) {
  if (Math.abs(toNumber(x)) >= 1) return add(exp(x), { m: -1n, e: 0 });
  let term = x, s = x;
  for (let j = 2; j < 4 * PRECISION; j++) {
    term = mul(mul(term, x), inv(fromNumber(j)));
    if (term.m === 0n || bitLength(term.m) + term.e < bitLength(s.m) + s.e - PRECISION - 8) break;
    s = add(s, term);
  }
  return s;
}

/**
 * tanh |x| = −u/(2 + u) with u = exp(−2|x|) − 1 ∈ (−1, 0]: no overflow, and no cancellation
 * near 0 (u from expm1); the sign of x put back. Beyond |x| = PRECISION it is 1 to within
 * 2·e^(−2·PRECISION), far below the last kept bit.
 */
function tanh(x) {
  if (x.m === 0n) return ZERO;
  const a = x.m < 0n ? neg(x) : x;
  let t = { m: 1n, e: 0 };
  if (toNumber(a) <= PRECISION) {
    const u = expm1(mul({ m: -2n, e: 0 }, a));
    t = mul(neg(u), inv(add({ m: 2n, e: 0 }, u)));
  }
  return x.m < 0n ? neg(t) : t;
}

function pow(a, b) {
  const k = integerOf(b);
  if (k !== undefined) {
    if (a.m === 0n && k < 0n) throw new Singular();
    return powInt(a, k);
  }
  if (cmpAbs(b, { m: 1n, e: -1 }) === 0 && b.m > 0n) return sqrt(a);
  if (a.m === 0n) { if (b.m > 0n) return ZERO; throw new Singular(); }
  if (a.m < 0n) throw new Singular(); // a negative base with a non-integer exponent is not real
  return exp(mul(b, log(a)));
}

/** The arithmetic the generated closures compute with. */
const A = {
  num: fromNumber,
  add: (...xs) => xs.reduce(add, ZERO),
  mul: (...xs) => xs.reduce(mul, { m: 1n, e: 0 }),
  neg,
  inv,
  pow,
  abs: (a) => (a.m < 0n ? neg(a) : a),
  sign: (a) => ({ m: a.m === 0n ? 0n : a.m < 0n ? -1n : 1n, e: 0 }),
  exp,
  log,
  tanh,
  value: toNumber,
};


/**
 * The values fns[i](A, inputs) rounded to float64. If one of them is singular at the
 * inputs, all are taken at inputs moved by distinct relative amounts of about 2⁻¹²⁸ (a
 * zero moves by that much absolutely), so that coinciding rates no longer coincide.
 */
function precise(fns, inputs, moved) {
  const at = (x) => fns.map((f) => toNumber(f(A, x)));
  const exact = inputs.map(fromNumber);
  try {
    return at(exact);
  } catch (err) {
    if (!(err instanceof Singular)) throw err;
  }
  // near the move the closed form cancels about SHIFT bits per order of its pole: more bits
  const saved = PRECISION;
  PRECISION = MOVED_PRECISION;
  strict = false;
  try {
    const shifted = exact.map((v, i) => {
      if (!moved[i]) return v;
      const step = { m: BigInt(i + 1), e: -SHIFT };
      return v.m === 0n ? step : add(v, mul(v, step));
    });
    return at(shifted);
  } catch (err) {
    if (!(err instanceof Singular)) throw err;
    return fns.map(() => NaN);
  } finally {
    PRECISION = saved;
    strict = true;
  }
}
`;

/** One statement defining `precise` in generated JavaScript, the runtime inside a closure (its helpers stay private). */
export const PRECISE_DECLARATION_JS = `const precise = (function () {\n${PRECISE_RUNTIME_JS}\nreturn precise;\n})();`;

const runtime = new Function(`${PRECISE_RUNTIME_JS}\nreturn { A, precise };`)() as {
  A: Arithmetic;
  precise(fns: readonly PreciseFn[], inputs: readonly number[], moved: readonly boolean[]): number[];
};

export const A: Arithmetic = runtime.A;

/**
 * The values fns[i](A, inputs) rounded to float64. If one of them is singular at the
 * inputs, all are taken at inputs moved by distinct relative amounts of about 2⁻¹²⁸ (a
 * zero moves by that much absolutely), so that coinciding rates no longer coincide; if
 * they are still singular there, NaN.
 */
export const precise = runtime.precise;
