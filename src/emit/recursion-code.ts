/**
 * `directionExact` and `correctionExact` of a generated module where the exact finite-n
 * regime has no closed form: the rule itself run on the constant history, with forward-mode
 * tangents along θ_s = θ + ε·D_{n−s}, g_s = g + ε·H·D_{n−s} for M⁽ⁿ⁾ (docs/method.md).
 *
 * Lags beyond a window K, where Kᴾ·ρᴷ < 10⁻¹⁶ (ρ the largest decay, P the number of states
 * plus one: the polynomial factor of nested memories and of D_k ≈ k·F), are dropped from the
 * tangents: O(n) work per coordinate for the values, O(min(n, K)) Hessian-vector products.
 */
import * as E from '../ir/expr.js';
import type { RecursionPlan, RecursionStep } from '../derive/types.js';
import { isPrevName, stateOfPrev } from '../ir/rule.js';
import { toJs } from './expr-js.js';
import { codeName, nameOf } from './code-names.js';

/** The kept lags' weights fall below this (relative to M, up to constants of order 1). */
export const RECURSION_TAIL = 1e-16;

/** A tangent's name: ds_m for the new value of m, dprev_m for its previous one. */
const tangentOf = (x: string) => (x === 'g' ? 'dg' : x === 'theta' ? 'dth' : isPrevName(x) ? `d${codeName.prev(stateOfPrev(x))}` : `d${codeName.state(x)}`);

/** Inside the loop the step index is t, a state's new value s_…, its previous value prev_…. */
const inLoop = (states: ReadonlySet<string>) => (sym: string) => (sym === 'n' ? 't' : states.has(sym) ? codeName.state(sym) : nameOf(sym));

/** Σ ∂e/∂x · ẋ; a zero tangent contributes exactly 0 (a partial may be infinite where its input is: sqrt at 0). */
function tangent(step: Omit<RecursionStep, 'name'>, name: (s: string) => string): string {
  if (!step.partials.length) return '0';
  return step.partials.map((p) => `(${tangentOf(p.of)} === 0 ? 0 : ${E.isOne(p.value) ? '' : `(${toJs(p.value, name)}) * `}${tangentOf(p.of)})`).join(' + ');
}

export function recursionFunctions(plan: RecursionPlan, readHyper: (indent: string) => string[], T: (s: string) => string): string[] {
  const states = plan.states.map((s) => s.name);
  const name = inLoop(new Set(states));
  const L: string[] = [];
  const stateValues = (indent: string, withTangents: string | undefined) => {
    L.push(`${indent}${states.map((s) => `const ${codeName.prev(s)} = ${codeName.state(s)};`).join(' ')}`);
    if (withTangents) L.push(`${indent}${states.map((s) => `const d${codeName.prev(s)} = d${codeName.state(s)};`).join(' ')}`);
    for (const s of plan.states) {
      if (withTangents) L.push(`${indent}d${codeName.state(s.name)} = ${withTangents} ? ${tangent(s, name)} : 0;`);
      L.push(`${indent}${codeName.state(s.name)} = ${toJs(s.value, name)};`);
    }
  };
  // each state starts at its initial value (a constant: its tangent starts at 0)
  const initial = (s: RecursionPlan['states'][number]) => (E.isZero(s.init) ? '0' : toJs(s.init, nameOf));
  const declareStates = (indent: string, withTangents: boolean) =>
    states.length ? [`${indent}let ${plan.states.map((s) => `${codeName.state(s.name)} = ${initial(s)}${withTangents ? `, d${codeName.state(s.name)} = 0` : ''}`).join(', ')};`] : [];

  L.push('/** F⁽ⁿ⁾ by the recursion: the rule run on the constant history for steps 0..n (no closed form). */');
  L.push(`function directionExact(theta${T(': Float64Array')}, grad${T(': Float64Array')}, out${T(': Float64Array')}, hyper${T(': Partial<Hyper>')}, n${T(': number')})${T(': Float64Array')} {`);
  L.push(...readHyper('  '));
  L.push('  for (let i = 0; i < theta.length; i++) {');
  L.push(`    const g = grad[i]${T('!')};`, `    const th = theta[i]${T('!')};`, '    void g; void th;');
  L.push(...declareStates('    ', false));
  L.push('    for (let t = 0; t <= n; t++) {');
  stateValues('      ', undefined);
  L.push(`      if (t === n) out[i] = ${toJs(plan.update.value, name)};`);
  L.push('    }');
  L.push('  }');
  L.push('  return out;');
  L.push('}', '');

  const decays = plan.decays.map((e) => `Math.abs(${toJs(e, nameOf)})`);
  L.push(`/** M⁽ⁿ⁾ by the recursion with tangents along the history; lags beyond K (Kᴾ·ρᴷ < ${RECURSION_TAIL}) dropped. */`);
  L.push(`function correctionExact(theta${T(': Float64Array')}, grad${T(': Float64Array')}, hvp${T(': Hvp')}, out${T(': Float64Array')}, hyper${T(': Partial<Hyper>')}, n${T(': number')})${T(': Float64Array')} {`);
  L.push(...readHyper('  '));
  L.push('  const dim = theta.length;');
  L.push('  out.fill(0);');
  L.push('  if (n === 0) return out;');
  L.push(`  const rho = Math.max(0, ${decays.join(', ')});`);
  L.push(`  let window = ${plan.states.length + 3};`);
  L.push(`  while (window < n && Math.pow(window, ${plan.states.length + 1}) * Math.pow(rho, window) > ${RECURSION_TAIL}) window = Math.ceil(window * 1.05) + 1;`);
  L.push('  const K = Math.min(n, window), s0 = n - K;');
  L.push('  // F⁽ˢ⁾ for s0 ≤ s < n, then D_{n−s} = Σ_{t=s}^{n−1} F⁽ᵗ⁾ and H·D_{n−s}');
  L.push('  const F = new Float64Array(K * dim), dTh = new Float64Array((K + 1) * dim), dG = new Float64Array((K + 1) * dim);');
  L.push('  for (let i = 0; i < dim; i++) {');
  L.push(`    const g = grad[i]${T('!')};`, `    const th = theta[i]${T('!')};`, '    void g; void th;');
  L.push(...declareStates('    ', false));
  L.push('    for (let t = 0; t < n; t++) {');
  stateValues('      ', undefined);
  L.push(`      if (t >= s0) F[(t - s0) * dim + i] = ${toJs(plan.update.value, name)};`);
  L.push('    }');
  L.push('  }');
  L.push('  for (let s = n - 1; s >= s0; s--) {');
  L.push('    const r = (s - s0) * dim;');
  L.push(`    for (let i = 0; i < dim; i++) dTh[r + i] = dTh[r + dim + i]${T('!')} + F[r + i]${T('!')};`);
  L.push('    dG.set(hvp(dTh.slice(r, r + dim)), r);');
  L.push('  }');
  L.push('  for (let i = 0; i < dim; i++) {');
  L.push(`    const g = grad[i]${T('!')};`, `    const th = theta[i]${T('!')};`, '    void g; void th;');
  L.push(...declareStates('    ', true));
  L.push('    for (let t = 0; t <= n; t++) {');
  L.push('      const kept = t >= s0, at = (t - s0) * dim + i;');
  L.push(`      const dg = kept ? dG[at]${T('!')} : 0, dth = kept ? dTh[at]${T('!')} : 0;`);
  L.push('      void dg; void dth;');
  stateValues('      ', 'kept');
  L.push(`      if (t === n) out[i] = ${tangent(plan.update, name)};`);
  L.push('    }');
  L.push('  }');
  L.push('  return out;');
  L.push('}', '');
  return L;
}

