/** A parsed optimizer rule: the input of the derivation. Immutable. */
import { isZero, type Expr } from './expr.js';
import type { Dim, MExpr } from '../matrix/expr.js';
import type { Rational } from './rational.js';
import type { Span } from './diagnostics.js';

/** An interval of admissible parameter values; ±Infinity for unbounded ends. */
export interface Domain {
  readonly lo: number;
  readonly hi: number;
  readonly loOpen: boolean;
  readonly hiOpen: boolean;
  readonly text: string; // as written, e.g. "(0, 1)"
}

export interface ParamDecl {
  readonly name: string;
  readonly value: Rational;
  readonly valueText: string;
  readonly domain: Domain;
  readonly span: Span;
}

export interface FnDecl {
  readonly name: string;
  readonly args: readonly string[];
  readonly body: Expr;
  readonly source: string;
  readonly span: Span;
}

/**
 * s_{n+1} = rhs. In rhs, the symbol `s@prev` is the state's previous value s_n, the plain
 * symbol `t` of an earlier state t is that state's new value t_{n+1}, and `t@prev` is t_n.
 */
export interface StateDecl {
  readonly name: string;
  readonly rhs: Expr;
  readonly source: string;
  /** s_0, the value before step 0 (`state s = … from INIT`): reads parameters and numbers only; 0 unless the rule says otherwise. */
  readonly init: Expr;
  /** The initial value as written after `from`; '0' when the rule gives none. */
  readonly initSource: string;
  readonly span: Span;
  /** Added by the parser for prev(g) or prev(theta): a state of decay 0 holding the input (not in the file). */
  readonly implicit?: true;
}

/** Whether a state starts away from 0 (its rule line says `from …` with a value that is not 0). */
export const hasInitialValue = (s: StateDecl | MatrixStateDecl): s is StateDecl => 'init' in s && !isZero(s.init);

/** A state's right-hand side as written, with `from INIT` when it starts away from 0. */
export const stateSource = (s: StateDecl | MatrixStateDecl) => (hasInitialValue(s) ? `${s.source} from ${s.initSource}` : s.source);

export interface Rule {
  readonly name: string;
  readonly file: string;
  readonly cite?: string;
  readonly params: readonly ParamDecl[];
  readonly fns: readonly FnDecl[];
  readonly states: readonly StateDecl[];
  /** θ_{n+1} = θ_n − h·update. */
  readonly update: Expr;
  readonly updateSource: string;
  readonly updateSpan: Span;
}

/** A state of a matrix rule: s_{n+1} = rhs, a matrix of size rows×cols (of the parameter's r and c). */
export interface MatrixStateDecl {
  readonly name: string;
  readonly rhs: MExpr;
  readonly rows: Dim;
  readonly cols: Dim;
  /** Symmetric by construction (every value it takes is symmetric). */
  readonly sym: boolean;
  readonly source: string;
  readonly span: Span;
}

/** A `shape matrix` rule: the parameter θ and its gradient g are r×c matrices. */
export interface MatrixRule {
  readonly shape: 'matrix';
  readonly name: string;
  readonly file: string;
  readonly cite?: string;
  readonly params: readonly ParamDecl[];
  readonly states: readonly MatrixStateDecl[];
  /** θ_{n+1} = θ_n − h·update (an r×c matrix). */
  readonly update: MExpr;
  readonly updateSource: string;
  readonly updateSpan: Span;
  /** The line of `shape matrix`. */
  readonly shapeSpan: Span;
}

export const isMatrixRule = (r: Rule | MatrixRule): r is MatrixRule => 'shape' in r && r.shape === 'matrix';

/** Symbols with a fixed meaning in every rule. */
export const RESERVED = ['g', 'theta', 'n', 'h'] as const;
/**
 * Words mathjs reads as constants or operators, and the Σ function of the JSON's mathjs
 * strings (docs/derivation-json.md): a rule cannot name anything so, or its JSON would not
 * parse back to the same expression.
 */
export const MATHJS_WORDS: ReadonlySet<string> = new Set([
  'undefined', 'NaN', 'Infinity', 'true', 'false', 'null', 'mod', 'to', 'in', 'and', 'or', 'xor', 'not', 'end', 'sumOver',
]);
export const prevName = (state: string) => `${state}@prev`;
export const isPrevName = (name: string) => name.endsWith('@prev');
export const stateOfPrev = (name: string) => name.slice(0, -'@prev'.length);
