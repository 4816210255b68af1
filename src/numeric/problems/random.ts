/**
 * Seeded randomness for the test problems: a mulberry32 stream and Box–Muller normals.
 * The problems never call Math.random, so data, teachers and starting points are
 * deterministic in their seeds on every platform (mulberry32 uses only 32-bit integer ops).
 */
import { mulberry32 } from '../../ir/random.js';

export { mulberry32 };

/** A seeded stream of uniforms and standard normals. */
export interface Rng {
  /** Uniform in [0, 1). */
  uniform(): number;
  /** Uniform in [lo, hi). */
  between(lo: number, hi: number): number;
  /** Standard normal N(0, 1). */
  normal(): number;
}

/** Two seeds (a problem's and a purpose's) mixed into one 32-bit seed, so streams differ. */
export function mixSeed(seed: number, salt: number): number {
  let h = Math.imul((seed >>> 0) ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(salt >>> 0, 0xc2b2ae35);
  h ^= h >>> 16;
  h = Math.imul(h, 0x7feb352d);
  return (h ^ (h >>> 15)) >>> 0;
}

export function createRng(seed: number): Rng {
  const u = mulberry32(seed);
  let spare = NaN; // Box–Muller makes normals in pairs; the second waits here
  return {
    uniform: u,
    between: (lo, hi) => lo + (hi - lo) * u(),
    normal() {
      if (!Number.isNaN(spare)) {
        const z = spare;
        spare = NaN;
        return z;
      }
      // (r cos φ, r sin φ) with r = √(−2 ln U₁), φ = 2πU₂ are independent N(0, 1); 1 − U₁ ∈ (0, 1] avoids ln 0.
      const r = Math.sqrt(-2 * Math.log(1 - u())), phi = 2 * Math.PI * u();
      spare = r * Math.sin(phi);
      return r * Math.cos(phi);
    },
  };
}

/**
 * A seeded r×c matrix s·Q + N(0, (0.1·s)²) noise, Q with orthonormal columns (tall) or rows
 * (wide) by Gram–Schmidt: all singular values near s.
 */
export function wellConditioned(rows: number, cols: number, s: number, rng: Rng): { rows: number; cols: number; data: Float64Array } {
  const tall = rows >= cols;
  const len = tall ? rows : cols, count = tall ? cols : rows;
  const vecs: Float64Array[] = [];
  for (let j = 0; j < count; j++) {
    const v = Float64Array.from({ length: len }, () => rng.normal());
    for (const q of vecs) {
      const d = v.reduce((a, x, i) => a + x * q[i]!, 0);
      for (let i = 0; i < len; i++) v[i] -= d * q[i]!;
    }
    const nrm = Math.sqrt(v.reduce((a, x) => a + x * x, 0));
    vecs.push(v.map((x) => x / nrm));
  }
  const data = new Float64Array(rows * cols);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) {
    const q = tall ? vecs[j]![i]! : vecs[i]![j]!;
    data[i * cols + j] = s * q + 0.1 * s * rng.normal();
  }
  return { rows, cols, data };
}
