/**
 * Mini-batches, numerically (docs/theory.md §7): batch orders under random reshuffling, and the
 * pathwise memoryless iteration for a fixed order, built from a module's `historyWeights`.
 *
 * For step n with batch order π, on the history θ̃ (every past iterate replaced by θ̃ₙ):
 *   F⁽ˢ⁾ = Σⱼ c⁽ˢ⁾ⱼ ∇L_{π(s−j)} + E⁽ˢ⁾θ,   D_k = Σ_{s=n−k}^{n−1} F⁽ˢ⁾,
 *   M⁽ⁿ⁾ = Σ_{k≥1} (c⁽ⁿ⁾_k H_{π(n−k)} + d⁽ⁿ⁾_k I) D_k.
 * Every D_k is a combination of the m batch gradients and θ, so M costs m gradients and m
 * Hessian-vector products per step, whatever the number of lags. Lags beyond `lags` are
 * dropped; `truncationBound` states the weight that drops.
 */
import { mulberry32, shuffleInPlace } from '../ir/random.js';
import type { FiniteSumProblem, HistoryWeights, Hyper, OptimizerModule } from './types.js';

/** π(step): the batch used at each step. */
export type BatchOrder = (step: number) => number;

/**
 * Random reshuffling: epochs of m steps, each a fresh uniform permutation of the batches,
 * deterministic in the seed. `phase` shifts the epoch boundaries: step s is in epoch
 * ⌊(s + phase)/m⌋ (the first epoch is cut short when phase > 0).
 */
export function reshuffledOrder(batches: number, seed: number, phase = 0): BatchOrder {
  if (!Number.isInteger(batches) || batches < 1) throw new RangeError(`batches must be a positive integer, got ${batches}`);
  const epochs = new Map<number, Int32Array>();
  const permutation = (epoch: number) => {
    let p = epochs.get(epoch);
    if (!p) {
      const rand = mulberry32((seed * 1000003 + epoch * 7919 + 17) >>> 0);
      p = shuffleInPlace(Int32Array.from({ length: batches }, (_, i) => i), rand);
      if (epochs.size > 64) epochs.clear(); // only a window of epochs is ever read
      epochs.set(epoch, p);
    }
    return p;
  };
  // steps before 0 are defined too: the asymptotic regime reads an unbounded past
  return (step) => {
    const t = step + phase;
    const epoch = Math.floor(t / batches);
    return permutation(epoch)[t - epoch * batches]!;
  };
}

/** Which weights: the exact finite-n ones (F⁽ⁿ⁾ and M⁽ⁿ⁾), or the n → ∞ ones. */
export type BatchRegime = 'exact' | 'asymptotic';

export interface Truncation {
  /** Lags kept in every sum over the past. */
  readonly lags: number;
  /**
   * Relative weight dropped (asymptotic weights): max of Σ_{j>K}|cⱼ| / Σ|cⱼ| (in F) and the
   * share of Σ_k k(|c_k| + |d_k|)·Σ|cⱼ| (which bounds M's weights) carried by dropped lags.
   */
  readonly droppedWeight: number;
}

/** Chooses the number of lags so that the dropped weight is at most `tol`. */
export function truncationFor(weights: (count: number) => HistoryWeights, tol: number): Truncation {
  if (!(tol > 0 && tol < 1)) throw new RangeError(`the truncation tolerance must be in (0, 1), got ${tol}`);
  // the weights decay exponentially (the derivation proved |a| < 1): read far enough out
  let count = 64;
  let w = weights(count);
  while (count < 1 << 20) {
    const tail = Math.abs(w.g[count]!) + Math.abs(w.theta[count]!);
    let head = 0;
    for (let k = 0; k <= count; k++) head = Math.max(head, Math.abs(w.g[k]!), Math.abs(w.theta[k]!));
    if (tail <= 1e-20 * head || head === 0) break;
    count *= 2;
    w = weights(count);
  }
  const { g, theta } = w;
  const absG = Array.from(g, Math.abs);
  const totalG = absG.reduce((a, b) => a + b, 0);
  const mass = absG.map((c, k) => k * (c + Math.abs(theta[k]!)));
  const totalM = mass.reduce((a, b) => a + b, 0);
  const dropped = (K: number) => {
    let tailG = 0, tailM = 0, headM = 0;
    for (let k = K + 1; k <= count; k++) { tailG += absG[k]!; tailM += mass[k]!; }
    for (let k = 1; k <= K; k++) headM += mass[k]!;
    const inF = totalG > 0 ? tailG / totalG : 0;
    // a dropped lag k drops D_k's whole weight; a kept one drops D_k's gradients older than K
    const inM = totalM > 0 ? (tailM * totalG + headM * tailG) / (totalM * totalG) : 0;
    return Math.max(inF, inM);
  };
  let K = 0;
  while (K < count && dropped(K) > tol) K++;
  return { lags: K, droppedWeight: dropped(K) };
}

export interface PathwiseOptions {
  readonly hyper?: Partial<Hyper>;
  readonly regime?: BatchRegime;
  /** Largest relative weight the lag truncation may drop (default 1e-13). */
  readonly tol?: number;
}

/**
 * The pathwise memoryless iteration of a rule linear in the gradients on a finite-sum
 * problem, for a given batch order.
 */
export class PathwiseMemoryless {
  readonly truncation: Truncation;
  private readonly cache = new Map<number, HistoryWeights>();
  private readonly asymptotic: HistoryWeights;
  private readonly grads: Float64Array[];
  private readonly hv: Float64Array;
  private readonly v: Float64Array;

  constructor(private readonly module: OptimizerModule, private readonly problem: FiniteSumProblem, private readonly opts: PathwiseOptions = {}) {
    const history = module.historyWeights;
    if (!history) throw new RangeError(`${module.name}: the memory is not linear in the gradients, so there is no closed-form pathwise correction (see \`memloss derive --batches\`)`);
    this.truncation = truncationFor((count) => history(opts.hyper, undefined, count), opts.tol ?? 1e-13);
    this.asymptotic = history(opts.hyper, undefined, this.truncation.lags);
    this.grads = Array.from({ length: problem.batches }, () => new Float64Array(problem.dim));
    this.hv = new Float64Array(problem.dim);
    this.v = new Float64Array(problem.dim);
  }

  /** The weights at step s (exact regime: cached over the window of recent steps). */
  private weights(s: number): HistoryWeights {
    if (this.opts.regime === 'asymptotic') return this.asymptotic;
    let w = this.cache.get(s);
    if (!w) {
      w = this.module.historyWeights!(this.opts.hyper, s, this.truncation.lags);
      this.cache.set(s, w);
      this.cache.delete(s - 2 * this.truncation.lags - 2);
    }
    return w;
  }

  /** The oldest lag read at step s: the history starts at step 0, except in the n → ∞ regime. */
  private lastLag(s: number): number {
    return this.opts.regime === 'asymptotic' ? this.truncation.lags : Math.min(s, this.truncation.lags);
  }

  /** F⁽ⁿ⁻ᵏ⁾ as weights on the batch gradients, plus its θ coefficient (slot m); batchAt[j] = π(n−j). */
  private directionWeights(n: number, k: number, batchAt: Int32Array): Float64Array {
    const m = this.problem.batches;
    const out = new Float64Array(m + 1);
    const w = this.weights(n - k);
    const last = this.lastLag(n - k);
    for (let j = 0; j <= last; j++) out[batchAt[k + j]!]! += w.g[j]!;
    out[m] = w.thetaCoefficient;
    return out;
  }

  /**
   * Fills the batch gradients at θ and returns F⁽ⁿ⁾(θ) and M⁽ⁿ⁾(θ) for the order; `withM`
   * false skips M (and its Hessian-vector products).
   */
  evaluate(theta: Float64Array, order: BatchOrder, n: number, withM = true): { F: Float64Array; M: Float64Array } {
    const { problem } = this;
    const m = problem.batches, dim = problem.dim;
    for (let i = 0; i < m; i++) problem.batchGrad(i, theta, this.grads[i]!);
    const combine = (coef: Float64Array, out: Float64Array) => {
      out.fill(0);
      for (let i = 0; i < m; i++) {
        const c = coef[i]!;
        if (c === 0) continue;
        const gi = this.grads[i]!;
        for (let x = 0; x < dim; x++) out[x] += c * gi[x]!;
      }
      const ct = coef[m]!;
      if (ct !== 0) for (let x = 0; x < dim; x++) out[x] += ct * theta[x]!;
      return out;
    };
    // π(n−j) for every lag read below (up to two windows back), looked up once
    const K = this.truncation.lags;
    const batchAt = new Int32Array(2 * K + 1);
    for (let j = 0; j <= 2 * K; j++) batchAt[j] = this.opts.regime === 'asymptotic' || n - j >= 0 ? order(n - j) : 0;
    const F = combine(this.directionWeights(n, 0, batchAt), new Float64Array(dim));
    const M = new Float64Array(dim);
    if (!withM) return { F, M };
    // A[i] = Σ_{k: π(n−k)=i} c_k D_k (goes through H_i), B = Σ_k d_k D_k (direct)
    const w = this.weights(n);
    const A = Array.from({ length: m }, () => new Float64Array(m + 1));
    const B = new Float64Array(m + 1);
    const Dk = new Float64Array(m + 1);
    const last = this.lastLag(n);
    for (let k = 1; k <= last; k++) {
      const f = this.directionWeights(n, k, batchAt);
      for (let x = 0; x <= m; x++) Dk[x] += f[x]!;
      const a = A[batchAt[k]!]!, ck = w.g[k]!, dk = w.theta[k]!;
      for (let x = 0; x <= m; x++) { a[x] += ck * Dk[x]!; B[x] += dk * Dk[x]!; }
    }
    for (let i = 0; i < m; i++) {
      if (A[i]!.every((x) => x === 0)) continue;
      problem.batchHvp(i, theta, combine(A[i]!, this.v), this.hv);
      for (let x = 0; x < dim; x++) M[x] += this.hv[x]!;
    }
    combine(B, this.v);
    for (let x = 0; x < dim; x++) M[x] += this.v[x]!;
    return { F, M };
  }

  /** θ −= h·(F⁽ⁿ⁾ + h·M⁽ⁿ⁾) in place; without M when `withM` is false. */
  step(theta: Float64Array, order: BatchOrder, n: number, h: number, withM = true): void {
    const { F, M } = this.evaluate(theta, order, n, withM);
    for (let x = 0; x < theta.length; x++) theta[x] = theta[x]! - h * (F[x]! + h * M[x]!);
  }
}
