/**
 * The derivation as data. Every expression is coordinate-wise: it reads the symbols `g`
 * (∂ⱼL at the current iterate), `theta` (θⱼ), `n` (step index), the rule's parameters and,
 * inside recorded steps, the lag `k` and the summation index `s`.
 */
import type { Expr } from '../ir/expr.js';
import type { Rule } from '../ir/rule.js';

export type Regime = 'asymptotic' | 'exact-n';

/**
 * One term of M: Mⱼ = Σ weightⱼ · (H V)ⱼ  (kind 'hvp', H = ∇²L, V = field)
 *                  or weightⱼ · Vⱼ      (kind 'field').
 */
export interface CorrectionTerm {
  readonly kind: 'hvp' | 'field';
  readonly weight: Expr;
  readonly field: Expr;
}

/** A state unrolled on a history: its constant-history value and its sensitivities to past g and θ. */
export interface UnrolledState {
  readonly name: string;
  /** Coefficient a of the state's own previous value (|a| < 1 on the parameter domain). */
  readonly decay: Expr;
  /** Value of s_{n+1} on the constant history (θ, θ, …); reads n in the exact-n regime. */
  readonly constantHistory: Expr;
  /** ∂s_{n+1}/∂g_{n−k} at the constant history, for 0 ≤ k ≤ n (reads k). */
  readonly weightG: Expr;
  /** ∂s_{n+1}/∂θ_{n−k} (direct dependence on past iterates, e.g. weight decay inside a moment). */
  readonly weightTheta: Expr;
}

/** Σ_{k=lo}^{hi} summand = value, recorded for the appendix. */
export interface RecordedSum {
  readonly summand: Expr;
  readonly index: string;
  readonly lo: Expr;
  /** undefined: the upper limit is ∞. */
  readonly hi?: Expr;
  readonly value: Expr;
}

export interface RegimeResult {
  readonly regime: Regime;
  /** The update on a constant history, F⁽ⁿ⁾(θ) (exact-n) or its limit F(θ) (asymptotic). */
  readonly F: Expr;
  readonly states: readonly UnrolledState[];
  /** ∂F⁽ⁿ⁾/∂g_{n−k} and ∂F⁽ⁿ⁾/∂θ_{n−k} at the constant history, k ≥ 1 (read k). */
  readonly lagWeightG: Expr;
  readonly lagWeightTheta: Expr;
  readonly sums: readonly RecordedSum[];
  /** M = Σ terms. Empty when M vanishes (almost everywhere). */
  readonly M: readonly CorrectionTerm[];
}

/** Φ(∇L, θ) = Σⱼ perCoordinate(gⱼ, θⱼ) + lossCoefficient · L(θ). */
export interface Potential {
  readonly perCoordinate: Expr;
  readonly lossCoefficient: Expr;
}

/** M = Σ weightᵢ ∘ ∇θ Φᵢ. */
export interface PotentialTerm {
  readonly weight: Expr;
  readonly potential: Potential;
}

export type VerdictKind = 'regularizing' | 'anti-regularizing' | 'mixed' | 'none';

export interface Verdict {
  /** The verdict under the default parameter values. */
  readonly kind: VerdictKind;
  /** When the sign depends on the parameters: `kind` holds when lhs op rhs, `otherwise` when not. */
  readonly condition?: { readonly lhs: Expr; readonly op: '<' | '>'; readonly rhs: Expr; readonly otherwise: VerdictKind };
  readonly reason: string;
  /** Parameters whose limit → 0 would make the sign clearer (suggest `--limit`). */
  readonly suggestLimits?: readonly string[];
  /** The verdict in that limit (where those parameters are negligible against |g|). */
  readonly limitVerdict?: Verdict;
}

export interface Interpretation {
  /** M written through potentials; undefined when no potential was found. */
  readonly potentials?: readonly PotentialTerm[];
  /**
   * Preconditioned descent on L̃ = L + (weightDecay/2)·‖θ‖² + h·coefficient·Φ, when F and M
   * share the preconditioner (F = P∘∇(L + (λ/2)‖θ‖²); weightDecay absent when λ = 0).
   */
  readonly modifiedLoss?: { readonly preconditioner: Expr; readonly coefficient: Expr; readonly potential: Potential; readonly weightDecay?: Expr };
  /** The scalar factor of the weight that carries the sign, if the weight factors as c(params)·(positive). */
  readonly signCoefficient?: Expr;
  readonly verdict: Verdict;
  readonly notes: readonly string[];
}

/** What the verification stage checked (src/verify): both regimes against the oracle. */
export interface Verification {
  /** Comparisons of F or M with the oracle (each at one parameter draw, point and n). */
  readonly checks: number;
  /** Parameter sets: the defaults and random draws across the declared domains. */
  readonly draws: number;
  readonly regimes: readonly Regime[];
  /** The largest |derived − oracle| / |oracle| (∞-norms over coordinates) seen. */
  readonly maxRelativeDifference: number;
  /** What could not be checked, and why. */
  readonly skipped: readonly string[];
}

/** One expression of the rule and its partial derivatives in the inputs it reads (g, theta, states, prev(states)). */
export interface RecursionStep {
  readonly name: string;
  readonly value: Expr;
  readonly partials: readonly { readonly of: string; readonly value: Expr }[];
}

/**
 * The exact finite-n regime evaluated by running the rule (src/derive/recursion.ts), where it
 * has no closed form: the states in file order, then the update, each with its partials.
 */
export interface RecursionPlan {
  /** With each state's initial value s_0 (0 unless the rule gives one). */
  readonly states: readonly (RecursionStep & { readonly init: Expr })[];
  readonly update: Omit<RecursionStep, 'name'>;
  /** Each state's decay a (s ← a·s + b), for the window of lags the tangents keep. */
  readonly decays: readonly Expr[];
}

/** Why the exact finite-n regime has no closed form, and how it is evaluated instead. */
export interface ExactUnavailable {
  readonly unavailable: string;
  /** Present when the rule's own recursion evaluates it (every coordinate-wise rule that derives). */
  readonly recursion?: RecursionPlan;
}

export interface Derivation {
  readonly rule: Rule;
  /** The oracle comparison that preceded every output; absent only when skipped on request. */
  readonly verification?: Verification;
  /** Parameters sent to 0 after the derivation (`--limit`). */
  readonly limits: readonly string[];
  readonly asymptotic: RegimeResult;
  /** The exact finite-n result (when asked for with `exactN`), or why it has no closed form. */
  readonly exactN?: RegimeResult | ExactUnavailable;
  readonly interpretation: Interpretation;
  /** What the result rests on (decay, smoothness, almost-everywhere identities, generic parameters). */
  readonly assumptions: readonly string[];
  /** Remarks for the reader (e.g. exact sign on the memory path). */
  readonly notes: readonly string[];
}

export interface DeriveOptions {
  /** Compare with the oracle before returning (the command line always does, unless --no-verify). */
  readonly verify?: boolean;
  /** Parameters to send to 0 after deriving, e.g. ['eps']. */
  readonly limits?: readonly string[];
  /** Also derive the exact finite-n regime (every βⁿ term kept). Slower for nested states. */
  readonly exactN?: boolean;
}

/**
 * A rule whose memory is linear in the gradients, on a batch history (docs/theory.md §7):
 *   F⁽ⁿ⁾(θ) = c₀·∇L_{π(n)} + Σ_{k≥1} c(k)·∇L_{π(n−k)} + thetaCoefficient·θ,
 *   J_k = c(k)·H_{π(n−k)} + d(k)·I.
 */
export interface BatchWeights {
  readonly regime: Regime;
  /** c₀, the weight of the current batch gradient (reads n in the exact-n regime). */
  readonly current: Expr;
  /** c(k), k ≥ 1: the weight of the batch gradient k steps back (reads k; n in exact-n). */
  readonly lagG: Expr;
  /** d(k), k ≥ 1: the weight of the iterate k steps back. */
  readonly lagTheta: Expr;
  /** The coefficient of θ in F⁽ⁿ⁾ on a constant history. */
  readonly thetaCoefficient: Expr;
}

/**
 * `derive --batches m`: the pathwise correction for a batch order π and its expectation over
 * random reshuffling (m batches per epoch, a new permutation each epoch).
 */
export interface BatchDerivation {
  /** Batches per epoch asked for (the closed forms read the symbol `batchSymbol` for it). */
  readonly batches: number;
  /** The printed names of the batch count and of the gradient lag (m and l unless a parameter has that name). */
  readonly batchSymbol: string;
  readonly gradientLagSymbol: string;
  readonly asymptotic: BatchWeights;
  readonly exactN?: BatchWeights | { readonly unavailable: string };
  /**
   * W(k, l): M⁽ⁿ⁾ = Σ_{k,l≥1} W(k,l)·H_{π(n−k)}∇L_{π(n−l)} + (parts linear in θ and in ∇L_π),
   * asymptotically; one form for l ≤ k and one for l > k (reads k and l).
   */
  readonly pairWeight: { readonly lagAtMostK: Expr; readonly lagAboveK: Expr };
  /** Σ_k k·c(k)·C: the full-batch weight of H·∇L (C = Σ c, the weight of ∇L in F). */
  readonly fullBatchWeight: Expr;
  /** γ(m): E_π[M] = M_full-batch + γ·∇V, V = (1/m)Σᵢ‖∇Lᵢ − ∇L‖² (reads the batch symbol). */
  readonly noiseCoefficient: Expr;
  /** γ at m = batches and the default parameters. */
  readonly noiseCoefficientValue: number;
  /** γ∞ = lim γ as m → ∞; γ(m) = γ∞ − ρ(m)/(m − 1). */
  readonly noiseCoefficientManyBatches: Expr;
  /** ρ(m): the part of γ from pairs of steps in the same epoch (two different batches). */
  readonly noiseSameEpoch: Expr;
  /** The weight of ∇L in F (asymptotic), so that the noise adds h·γ/C·V to the loss. */
  readonly gradientCoefficient: Expr;
  readonly sums: readonly RecordedSum[];
  readonly assumptions: readonly string[];
  readonly notes: readonly string[];
}
