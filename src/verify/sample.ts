/**
 * Where verification looks: parameter draws across the declared domains (the defaults,
 * random interior values, rates close to 1, two rates equal, zeros where the domain
 * allows), seeded points (θ, g, H) and the step indices of the exact finite-n regime.
 */
import type { Domain, Rule } from '../ir/rule.js';
import { dict } from '../ir/dict.js';
import { mulberry32 } from '../ir/random.js';

export const EXACT_STEPS = [0, 1, 2, 3, 10, 100] as const;

const isUnit = (d: Domain) => d.lo === 0 && d.hi === 1;
const inside = (d: Domain, x: number) => (d.loOpen ? x > d.lo : x >= d.lo) && (d.hiOpen ? x < d.hi : x <= d.hi);

/** One random value of a parameter in its domain, near its default for unbounded domains. */
function drawValue(d: Domain, fallback: number, r: () => number): number {
  if (isUnit(d)) return r() < 0.5 ? 0.05 + 0.9 * r() : 1 - 10 ** -(1 + 3 * r());
  if (Number.isFinite(d.lo) && Number.isFinite(d.hi)) return d.lo + (d.hi - d.lo) * (0.05 + 0.9 * r());
  const scale = fallback !== 0 ? Math.abs(fallback) : 1;
  const x = (Number.isFinite(d.lo) ? Math.max(d.lo, 0) : 0) + scale * 10 ** (2 * r() - 1);
  return inside(d, x) ? x : fallback;
}

/** Parameter sets: {} (the defaults), then random draws, the first with every rate near 1; with `special`, rates equal and zeros too. */
/** Seeded (mulberry32): the same rule is always checked at the same draws. */
export function parameterDraws(rule: Rule, count: number, seed: number, special: boolean): Record<string, number>[] {
  const r = mulberry32(seed);
  const out: Record<string, number>[] = [dict<number>()];
  const units = rule.params.filter((p) => isUnit(p.domain));
  for (let i = 0; i < count; i++) {
    const draw = dict<number>(); // a parameter may be named __proto__
    for (const p of rule.params) draw[p.name] = drawValue(p.domain, Number(p.valueText), r);
    if (i === 0) units.forEach((p, k) => { const x = special ? 0.9999 : 1 - 1e-4 * (1 + 0.3 * k); if (inside(p.domain, x)) draw[p.name] = x; }); // every rate close to 1
    if (i === 1 && special && units.length >= 2) draw[units[1]!.name] = draw[units[0]!.name]!; // two rates equal
    if (i === 2 && special) for (const p of rule.params) if (inside(p.domain, 0) && !isUnit(p.domain)) draw[p.name] = 0; // zeros (ε = 0, λ = 0)
    if (i === 3 && special) for (const p of units) if (inside(p.domain, 0)) draw[p.name] = 0; // a rate of 0 where allowed
    out.push(draw);
  }
  return out;
}

export interface Point {
  readonly theta: Float64Array;
  readonly g: Float64Array;
  /** Symmetric, row-major. */
  readonly hessian: Float64Array;
}

export const DIM = 3;

/** A point with gradient coordinates of both signs and magnitudes from 0.05 to 2. */
export function samplePoint(seed: number): Point {
  const r = mulberry32(seed);
  const theta = Float64Array.from({ length: DIM }, () => 2 * r() - 1);
  const g = Float64Array.from({ length: DIM }, () => (r() < 0.5 ? -1 : 1) * (0.05 + 1.95 * r()));
  const hessian = new Float64Array(DIM * DIM);
  for (let i = 0; i < DIM; i++)
    for (let j = 0; j <= i; j++) {
      const v = i === j ? 0.5 + 2 * r() : r() - 0.5;
      hessian[i * DIM + j] = hessian[j * DIM + i] = v;
    }
  return { theta, g, hessian };
}

export const matVec = (H: Float64Array, v: Float64Array): Float64Array => {
  const d = v.length;
  const out = new Float64Array(d);
  for (let i = 0; i < d; i++) {
    let acc = 0;
    for (let j = 0; j < d; j++) acc += H[i * d + j]! * v[j]!;
    out[i] = acc;
  }
  return out;
};
