/**
 * The optimizer module of a matrix rule, compiled in memory: the same API as the generated
 * coordinate-wise modules (src/numeric/types.ts), with θ a row-major Float64Array made of
 * one or more matrix blocks (`forShapes`; without it θ is one dim×1 column). The rule's
 * recursion, F⁽ⁿ⁾ and M are evaluated from the derivation's matrix expressions, blockwise;
 * the Hessian-vector product is one call for all blocks together.
 */
import { prevName } from '../ir/rule.js';
import { toNumber } from '../ir/rational.js';
import type { Hvp, Hyper, MatrixShape, OptimizerModule, OptimizerState } from '../numeric/types.js';
import * as M_ from './expr.js';
import { evaluate } from '../ir/eval.js';
import { FIELD, HVP, type MatrixDerivation, type MatrixRegimeResult } from './derive.js';
import { MatrixEvaluator } from './eval.js';
import { block, blockLayout, copy, sideShape, type Mat } from './linalg.js';

/** Past steps whose weight is below this fraction of the weights so far are below rounding. */
export const PAST_NEGLIGIBLE = 1e-20;

export function loadMatrixOptimizer(d: MatrixDerivation, blocks?: readonly MatrixShape[]): OptimizerModule {
  const rule = d.rule;
  const defaults: Hyper = Object.fromEntries(rule.params.map((p) => [p.name, toNumber(p.value)]));
  const exact = d.exactN;
  const Fexact = d.exactN.F;
  const sides = rule.states.map((s) => [s.rows, s.cols] as const);
  const lay = (dim: number) => blockLayout(rule.name, blocks, dim, sides);
  const shapesFor = (dim: number) => lay(dim).shapes;
  const env = (hyper: Partial<Hyper> | undefined, n: number) => ({ ...defaults, ...definedOnly(hyper), n });

  /** F per block: exact F⁽ⁿ⁾ with n, its limit without. */
  const direction = (theta: Float64Array, grad: Float64Array, hyper?: Partial<Hyper>, n?: number): Float64Array => {
    const L = lay(theta.length);
    const out = new Float64Array(theta.length);
    shapesFor(theta.length).forEach((s, i) => {
      const ev = new MatrixEvaluator(new Map([['g', block(grad, L.theta[i]!, s)], ['theta', block(theta, L.theta[i]!, s)]]), env(hyper, n ?? 0), s);
      out.set(ev.eval(n === undefined ? d.asymptotic.F : Fexact).data, L.theta[i]!);
    });
    return out;
  };

  /** M⁽ⁿ⁾ (exact when n is given and available, else asymptotic) and the F it uses as its field. */
  const correctionWith = (theta: Float64Array, grad: Float64Array, hvp: Hvp, hyper?: Partial<Hyper>, n?: number): { F: Float64Array; M: Float64Array } => {
    const regime: MatrixRegimeResult = n !== undefined ? exact : d.asymptotic;
    const L = lay(theta.length);
    const shapes = shapesFor(theta.length);
    const e = env(hyper, n ?? 0);
    const evs = shapes.map((s, i) => new MatrixEvaluator(new Map([['g', block(grad, L.theta[i]!, s)], ['theta', block(theta, L.theta[i]!, s)]]), e, s));
    // the field is the regime's constant-history update; the step uses the exact F⁽ⁿ⁾ when n is given
    const V = new Float64Array(theta.length);
    shapes.forEach((_, i) => V.set(evs[i]!.eval(regime.F).data, L.theta[i]!));
    const F = V;
    const M = new Float64Array(theta.length);
    if (regime.M.kind === 'zero') return { F, M };
    if (regime.pastSums) {
      // each term on its own field V = Σ_{s=0}^{n−1} R(s)·F⁽ˢ⁾ (one HVP per term)
      for (const t of regime.terms) {
        const past = t.past!;
        const Vt = new Float64Array(theta.length);
        // from the latest past step back; weights decay geometrically into the past, and
        // steps whose weight is below 1e-20 of the sum so far change V by less than rounding
        let total = 0;
        for (let s = n! - 1; s >= 0; s--) {
          const es = { ...e, s };
          const w = evaluate(past.weight, es);
          if (Math.abs(w) < PAST_NEGLIGIBLE * total) break;
          total += Math.abs(w);
          shapes.forEach((sh, i) => {
            const Fs = new MatrixEvaluator(new Map([['g', block(grad, L.theta[i]!, sh)], ['theta', block(theta, L.theta[i]!, sh)]]), es, sh).eval(past.F);
            const o = L.theta[i]!;
            for (let j = 0; j < Fs.data.length; j++) Vt[o + j] += w * Fs.data[j]!;
          });
        }
        const Et = hvp(Vt).slice();
        shapes.forEach((s, i) => {
          const ev = evs[i]!.extend(new Map([[FIELD, block(Vt, L.theta[i]!, s)], [HVP, block(Et, L.theta[i]!, s)]]));
          const Mt = ev.eval(M_.scale(t.weight, t.operator));
          const o = L.theta[i]!;
          for (let j = 0; j < Mt.data.length; j++) M[o + j] += Mt.data[j]!;
        });
      }
      return { F, M };
    }
    const Ev = hvp(V).slice();
    shapes.forEach((s, i) => {
      const ev = evs[i]!.extend(new Map([[FIELD, block(V, L.theta[i]!, s)], [HVP, block(Ev, L.theta[i]!, s)]]));
      M.set(ev.eval(regime.M).data, L.theta[i]!);
    });
    return { F, M };
  };

  const module: OptimizerModule = {
    name: rule.name,
    defaults,
    init(dim: number): OptimizerState {
      const L = lay(dim);
      return { n: 0, arrays: Object.fromEntries(rule.states.map((s, k) => [s.name, new Float64Array(L.stateLength[k]!)])) };
    },
    step(theta, grad, state, h, hyper) {
      const L = lay(theta.length);
      const e = env(hyper, state.n);
      shapesFor(theta.length).forEach((s, i) => {
        const leaves = new Map<string, Mat>([['g', block(grad, L.theta[i]!, s)], ['theta', block(theta, L.theta[i]!, s)]]);
        const fresh: [string, number, Mat][] = [];
        rule.states.forEach((st, k) => {
          const prev = copy(block(state.arrays[st.name]!, L.states[k]![i]!, sideShape(s, st.rows, st.cols)));
          leaves.set(prevName(st.name), prev);
          const next = new MatrixEvaluator(leaves, e, s).eval(st.rhs);
          leaves.set(st.name, next);
          fresh.push([st.name, k, next]);
        });
        const U = new MatrixEvaluator(leaves, e, s).eval(rule.update);
        const o = L.theta[i]!;
        for (let j = 0; j < U.data.length; j++) theta[o + j] -= h * U.data[j]!;
        for (const [name, k, v] of fresh) state.arrays[name]!.set(v.data, L.states[k]![i]!);
      });
      state.n++;
    },
    direction,
    correction: (theta, grad, hvp, hyper, n) => correctionWith(theta, grad, hvp, hyper, n).M,
    memorylessStep(theta, grad, hvp, h, hyper, n) {
      const { F, M } = correctionWith(theta, grad, hvp, hyper, n);
      for (let j = 0; j < theta.length; j++) theta[j] -= h * (F[j]! + h * M[j]!);
    },
    forShapes: (shapes: readonly MatrixShape[]) => loadMatrixOptimizer(d, shapes),
  };
  return module;
}

const definedOnly = (h: Partial<Hyper> | undefined): Record<string, number> =>
  Object.fromEntries(Object.entries(h ?? {}).filter((e): e is [string, number] => e[1] !== undefined));

