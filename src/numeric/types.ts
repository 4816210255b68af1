/**
 * The numeric side: what a generated optimizer module provides (the same API whether it is
 * a generated TypeScript file or compiled in memory), and what a test problem provides.
 */

/** Hyperparameters by name (a rule's parameters). */
export type Hyper = Readonly<Record<string, number>>;

/** Optimizer state: the step index n and one array per rule state, set by init to the state's initial value (0 unless the rule gives one). */
export interface OptimizerState {
  n: number;
  readonly arrays: Record<string, Float64Array>;
}

/** The shape of one matrix block of θ (row-major). */
export interface MatrixShape {
  readonly rows: number;
  readonly cols: number;
}

/** Hessian-vector product at the current iterate: returns H·v (may reuse its output buffer). */
export type Hvp = (v: Float64Array) => Float64Array;

/**
 * A coordinate-wise optimizer and its memoryless approximation (docs/theory.md §2):
 * θₙ₊₁ = θₙ − h·F⁽ⁿ⁾(history) for `step`, θ̃ₙ₊₁ = θ̃ₙ − h·(F⁽ⁿ⁾ + h·M⁽ⁿ⁾) for `memorylessStep`.
 */
export interface OptimizerModule {
  readonly name: string;
  readonly defaults: Hyper;
  /**
   * n = 0 and every state at its initial value. A rule's initial value (`from …`) may read
   * the parameters: pass the hyperparameters `step` will get (the defaults otherwise).
   */
  init(dim: number, hyper?: Partial<Hyper>): OptimizerState;
  /** The true optimizer, in place (θ and the state); increments state.n. */
  step(theta: Float64Array, grad: Float64Array, state: OptimizerState, h: number, hyper?: Partial<Hyper>): void;
  /** F⁽ⁿ⁾(θ) on a constant history: exact finite-n when n is given, else the n → ∞ form. */
  direction(theta: Float64Array, grad: Float64Array, hyper?: Partial<Hyper>, n?: number): Float64Array;
  /** M⁽ⁿ⁾(θ): exact finite-n when n is given, else the asymptotic form. */
  correction(theta: Float64Array, grad: Float64Array, hvp: Hvp, hyper?: Partial<Hyper>, n?: number): Float64Array;
  /** θ −= h·(F⁽ⁿ⁾ + h·M⁽ⁿ⁾), in place. */
  memorylessStep(theta: Float64Array, grad: Float64Array, hvp: Hvp, h: number, hyper?: Partial<Hyper>, n?: number): void;
  /**
   * Φ(∇L(θ), θ) = Σⱼ φ(gⱼ, θⱼ) + c·L(θ) when the derivation found M = w ∘ ∇Φ; `loss` = L(θ)
   * is needed only when c ≠ 0 (weight decay parts), and omitting it then throws.
   */
  penalty?(theta: Float64Array, grad: Float64Array, hyper?: Partial<Hyper>, loss?: number): number;
  penaltyWeight?(theta: Float64Array, grad: Float64Array, hyper?: Partial<Hyper>): Float64Array;
  /**
   * Only for rules whose memory is linear in the gradients (docs/theory.md §7): the weights of
   * F⁽ⁿ⁾ = Σⱼ g[j]·∇L_{π(n−j)} + thetaCoefficient·θ on a batch history, j = 0..count, and
   * J_k = g[k]·H_{π(n−k)} + theta[k]·I; exact finite-n when n is given (zero for j > n).
   */
  historyWeights?(hyper?: Partial<Hyper>, n?: number, count?: number): HistoryWeights;
  /**
   * Matrix rules only: the same module for θ made of these row-major matrix blocks (in
   * order); without it θ is one dim×1 matrix.
   */
  forShapes?(blocks: readonly MatrixShape[]): OptimizerModule;
}

export interface HistoryWeights {
  readonly g: Float64Array;
  /** theta[0] is 0: the current iterate's part is thetaCoefficient. */
  readonly theta: Float64Array;
  readonly thetaCoefficient: number;
}

/** A test problem with an exact gradient and Hessian-vector product. */
export interface Problem {
  readonly name: string;
  readonly dim: number;
  /** A starting point, deterministic in the seed. */
  initial(seed?: number): Float64Array;
  loss(theta: Float64Array): number;
  grad(theta: Float64Array, out: Float64Array): Float64Array;
  hvp(theta: Float64Array, v: Float64Array, out: Float64Array): Float64Array;
  /** Matrix problems: θ is these row-major matrix blocks, concatenated (matrix rules act per block). */
  readonly blocks?: readonly MatrixShape[];
}

/**
 * A finite-sum problem L = (1/m) Σᵢ Lᵢ over m equal batches (docs/theory.md §7): the full loss as a
 * Problem, plus each batch's loss, gradient and Hessian-vector product (same buffer contract).
 */
export interface FiniteSumProblem extends Problem {
  readonly batches: number;
  batchLoss(batch: number, theta: Float64Array): number;
  batchGrad(batch: number, theta: Float64Array, out: Float64Array): Float64Array;
  batchHvp(batch: number, theta: Float64Array, v: Float64Array, out: Float64Array): Float64Array;
}
