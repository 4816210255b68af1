/**
 * Potentials (docs/theory.md §4). For a term w ∘ H V with V = ∂Φ/∂g (coordinate-wise),
 *   (H V)ⱼ = ∂ⱼ Σᵢ Φ(gᵢ, θᵢ) − ∂Φ/∂θ (gⱼ, θⱼ),
 * and a plain field c·g + r(θ) is ∇[c L + Σ ρ(θᵢ)], ρ' = r. So M = Σ w ∘ ∇Φ_w.
 */
import * as E from '../ir/expr.js';
import type { Expr } from '../ir/expr.js';
import { evaluate } from '../ir/eval.js';
import { diff } from '../derive/diff.js';
import { applyDomains, collected, normalForm } from '../derive/simplify.js';
import { fromDomain } from '../ir/intervals.js';
import { prng, samplePoint, type SampleSpace } from '../derive/check.js';
import { antiderivative } from './antiderivative.js';
import type { CorrectionTerm, Potential, PotentialTerm } from '../derive/types.js';

const negate = (e: Expr, x: string) => E.subs(e, { [x]: E.neg(E.sym(x)) });

/** true when f ≡ g at random points (both signs of x, away from 0). */
function agree(f: Expr, g: Expr, space: SampleSpace): boolean {
  const rand = prng(4242);
  const syms = new Set([...E.freeSymbols(f), ...E.freeSymbols(g)]);
  for (let i = 0; i < 8; i++) {
    const env = samplePoint(syms, space, rand);
    const a = evaluate(f, env);
    const b = evaluate(g, env);
    if (!Number.isFinite(a) || !Number.isFinite(b) || Math.abs(a - b) > 1e-8 * Math.max(1, Math.abs(a), Math.abs(b))) return false;
  }
  return true;
}

/**
 * Φ with ∂Φ/∂x = v, verified. abs and sign are handled by parity: on x > 0 they are x and 1;
 * the odd part ψ integrates to Ψ₊(|x|), the even part to sign(x)·Ψ₊(|x|) with Ψ₊(0) = 0.
 */
export function integrate(v: Expr, x: string, space: SampleSpace): Expr | undefined {
  if (E.isZero(v)) return E.ZERO;
  const X = E.sym(x);
  const ax = E.abs(X);
  const odd = collected(E.mul(E.HALF, E.sub(v, negate(v, x))));
  const even = collected(E.mul(E.HALF, E.add(v, negate(v, x))));
  const positiveBranch = (e: Expr) =>
    E.mapBottomUp(e, (n) => (n.kind === 'call' && n.fn === 'abs' && E.equal(n.arg, X) ? X : n.kind === 'call' && n.fn === 'sign' && E.equal(n.arg, X) ? E.ONE : n));
  const parts: Expr[] = [];
  for (const [part, isOdd] of [[odd, true], [even, false]] as const) {
    if (E.isZero(part)) continue;
    const branch = positiveBranch(part);
    let P = E.hasSymbol(branch, x) ? antiderivative(branch, x) : E.mul(branch, X);
    if (!P) return undefined;
    const at0 = E.subs(P, { [x]: E.ZERO });
    const finite = (() => { try { return Number.isFinite(evaluate(at0, samplePoint(E.freeSymbols(at0), space, prng(1)))); } catch { return false; } })();
    if (!isOdd && !finite) return undefined;
    if (finite) P = E.sub(P, at0);
    const onAbs = E.subs(P, { [x]: ax });
    parts.push(isOdd ? onAbs : E.mul(E.sign(X), onAbs));
  }
  const phi = applyDomains(E.add(...parts), new Map([...space.domains].map(([k, d]) => [k, fromDomain(d)])));
  return agree(diff(phi, x), v, space) ? phi : undefined;
}

/** Writes the correction terms as Σ w ∘ ∇Φ_w, or returns undefined when some term has no potential. */
export function findPotentials(terms: readonly CorrectionTerm[], space: SampleSpace): PotentialTerm[] | undefined {
  const pieces: { weight: Expr; perCoordinate: Expr; lossCoefficient: Expr }[] = [];
  const fieldPotential = (w: Expr, r: Expr): boolean => {
    // r = c·g + r₀(θ): c·g = ∇(c L), r₀ = ∇ Σ ρ(θᵢ)
    const c = normalForm(diff(r, 'g'));
    if (E.hasSymbol(c, 'g') || E.hasSymbol(c, 'theta')) return false;
    const rest = normalForm(E.sub(r, E.mul(c, E.sym('g'))));
    if (E.hasSymbol(rest, 'g')) return false;
    const rho = integrate(rest, 'theta', space);
    if (!rho) return false;
    pieces.push({ weight: w, perCoordinate: rho, lossCoefficient: c });
    return true;
  };
  for (const t of terms) {
    if (t.kind === 'field') {
      if (!fieldPotential(t.weight, t.field)) return undefined;
      continue;
    }
    const phi = integrate(t.field, 'g', space);
    if (!phi) return undefined;
    pieces.push({ weight: t.weight, perCoordinate: phi, lossCoefficient: E.ZERO });
    const residual = normalForm(E.neg(diff(phi, 'theta')));
    if (!E.isZero(residual) && !fieldPotential(t.weight, residual)) return undefined;
  }
  // merge pieces whose weights differ by a constant factor: w₂ = c·w₁ ⇒ w₁ ∘ ∇(Φ₁ + cΦ₂)
  const merged: { weight: Expr; potential: Potential }[] = [];
  for (const p of pieces) {
    const home = merged.find((m) => {
      const ratio = normalForm(E.div(p.weight, m.weight));
      return !E.hasSymbol(ratio, 'g') && !E.hasSymbol(ratio, 'theta') && agree(E.mul(ratio, m.weight), p.weight, space);
    });
    if (!home) {
      merged.push({ weight: p.weight, potential: { perCoordinate: p.perCoordinate, lossCoefficient: p.lossCoefficient } });
      continue;
    }
    const ratio = normalForm(E.div(p.weight, home.weight));
    home.potential = {
      perCoordinate: E.add(home.potential.perCoordinate, E.mul(ratio, p.perCoordinate)),
      lossCoefficient: normalForm(E.add(home.potential.lossCoefficient, E.mul(ratio, p.lossCoefficient))),
    };
  }
  // additive constants do not change ∇Φ: drop the parts free of g and θ
  const dropConstants = (e: Expr) => E.add(...(e.kind === 'add' ? e.terms : [e]).filter((t) => E.hasSymbol(t, 'g') || E.hasSymbol(t, 'theta')));
  return merged.map((m) => ({ weight: m.weight, potential: { ...m.potential, perCoordinate: dropConstants(m.potential.perCoordinate) } }));
}
