/** Reads one rule-language expression into the IR, with located errors. */
import * as E from '../ir/expr.js';
import type { Expr } from '../ir/expr.js';
import { ratFromDecimal, toNumber } from '../ir/rational.js';
import { RuleError, nearest, type DiagnosticCode, type Span } from '../ir/diagnostics.js';
import type { FnDecl } from '../ir/rule.js';
import { prevName } from '../ir/rule.js';
import { ExprSyntaxError, parseExpression, type SyntaxNode } from './expr-syntax.js';
import { evaluate } from '../ir/eval.js';
import { LIMITS, quote, shorten } from './limits.js';

/** What a name means where the expression stands. */
export interface ExprScope {
  /** name → the IR symbol it reads (parameters, g, theta, n, states as new or previous values, fn arguments). */
  readonly symbols: ReadonlyMap<string, Expr>;
  /** States whose previous value prev(s) may be read here. */
  readonly prevable: ReadonlySet<string>;
  /** The state whose own recursion this is (its bare name already is the previous value). */
  readonly ownState?: string;
  /** Names that exist but may not be read here, with the reason. */
  readonly forbidden: ReadonlyMap<string, string>;
  readonly fns: ReadonlyMap<string, FnDecl>;
  /** prev(g) and prev(theta): the symbol that reads the input's previous value (a state the parser adds). */
  readonly previousInput?: (input: 'g' | 'theta', at: Span) => Expr;
  /** Why prev() cannot be read here (a state's initial value), when it cannot. */
  readonly noPrev?: string;
}

const BUILTIN_FNS: readonly string[] = ['sqrt', ...E.FN_NAMES, 'pow', 'prev'];
const NON_DIFFERENTIABLE = new Set(['floor', 'ceil', 'round', 'fix', 'max', 'min', 'mod', 'heaviside', 'step']);

export class ExprReader {
  constructor(private readonly source: string, private readonly span: Span, private readonly scope: ExprScope) {}

  read(): Expr {
    let node: SyntaxNode;
    try {
      node = parseExpression(this.source);
    } catch (err) {
      if (err instanceof ExprSyntaxError) throw syntaxError(err, (code, message, at) => this.error(code, message, at));
      throw err;
    }
    const e = this.convert(node);
    const nodes = E.size(e);
    if (nodes > LIMITS.nodes) throw this.error('rule/too-large', `with its fn calls expanded this expression has ${nodes} nodes; the limit is ${LIMITS.nodes}`);
    return e;
  }

  private error(code: DiagnosticCode, message: string, offset = 0): RuleError {
    return new RuleError({ code, message, span: { ...this.span, col: this.span.col + Math.max(0, offset) } });
  }

  /** n in the IR; a constant part is evaluated here, where it can still be located. */
  private convert(n: SyntaxNode): Expr {
    let e: Expr;
    try {
      e = this.convertNode(n);
    } catch (err) {
      if (err instanceof E.SingularError) throw this.error('rule/bad-constant', singularMessage(n), n.at);
      throw err;
    }
    const problem = n.type === 'name' ? undefined : constantProblem(e);
    if (problem) throw this.error('rule/bad-constant', problem, n.at);
    return e;
  }

  private convertNode(n: SyntaxNode): Expr {
    switch (n.type) {
      case 'number': return E.numR(ratFromDecimal(n.text));
      case 'name': return this.symbol(n.name, n.at);
      case 'unary': return n.op === '-' ? E.neg(this.convert(n.arg)) : this.convert(n.arg);
      case 'binary': {
        const a = this.convert(n.left);
        const b = this.convert(n.right);
        switch (n.op) {
          case '+': return E.add(a, b);
          case '-': return E.sub(a, b);
          case '*': return E.mul(a, b);
          case '/': return E.div(a, b);
          case '^': return E.pow(a, b);
          case '.*': throw new Error('internal: .* in a coordinate-wise rule');
        }
      }
      case 'transpose': throw new Error("internal: ' in a coordinate-wise rule");
      // falls through only on a malformed tree
      case 'call':
        if (n.type !== 'call') throw new Error('internal: malformed syntax tree');
        return this.func(n);
    }
  }

  private symbol(name: string, at: number): Expr {
    const s = this.scope.symbols.get(name);
    if (s) return s;
    const why = this.scope.forbidden.get(name);
    if (why) throw this.error('rule/unknown-symbol', why, at);
    if (this.scope.fns.has(name) || BUILTIN_FNS.includes(name))
      throw this.error('rule/syntax', `${quote(name)} is a function; call it as ${shorten(name)}(…)`, at);
    const hint = nearest(name, this.scope.symbols.keys());
    throw this.error('rule/unknown-symbol', `unknown symbol ${quote(name)}${hint ? `; did you mean ${quote(hint)}?` : ''}`, at);
  }

  private func(n: Extract<SyntaxNode, { type: 'call' }>): Expr {
    const { name, at } = n;
    const arity = (k: number) => {
      if (n.args.length !== k) throw this.error('rule/syntax', `${name} takes ${k} argument${k === 1 ? '' : 's'}, got ${n.args.length}`, at);
    };
    if (name === 'prev') {
      if (this.scope.noPrev) throw this.error('rule/unknown-symbol', this.scope.noPrev, at);
      arity(1);
      const a = n.args[0]!;
      if (a.type !== 'name') throw this.error('rule/syntax', 'prev() takes the name of a state', a.at);
      const s = a.name;
      if ((s === 'g' || s === 'theta') && this.scope.previousInput && this.scope.symbols.get(s) === E.sym(s)) return this.scope.previousInput(s, { ...this.span, col: this.span.col + Math.max(0, a.at) });
      if (s === this.scope.ownState)
        throw this.error('rule/syntax', `inside the recursion of ${quote(s)}, ${quote(s)} already is its previous value; prev(${shorten(s)}) is not needed`, at);
      if (!this.scope.prevable.has(s)) {
        const hint = nearest(s, this.scope.prevable);
        throw this.error('rule/unknown-symbol', `prev() takes a state, g or theta; ${quote(s)} is none of them${hint ? `; did you mean ${quote(hint)}?` : ''}`, a.at);
      }
      return E.sym(prevName(s));
    }
    const user = this.scope.fns.get(name);
    if (user) {
      arity(user.args.length);
      const args = n.args.map((a) => this.convert(a));
      const e = E.subs(user.body, new Map(user.args.map((p, i) => [`${p}@arg`, args[i]!])));
      // fn calls nest, so their expansion can grow geometrically: bound it at each call
      const nodes = E.size(e);
      if (nodes > LIMITS.nodes) throw this.error('rule/too-large', `the call of ${quote(name)} expands to ${nodes} nodes; the limit is ${LIMITS.nodes}`, at);
      return e;
    }
    if (NON_DIFFERENTIABLE.has(name))
      throw this.error('rule/non-differentiable', `'${name}' has no derivative, and the correction differentiates the update; use a smooth surrogate (abs and sign are allowed: their derivative vanishes almost everywhere)`, at);
    if (!BUILTIN_FNS.includes(name)) {
      const hint = nearest(name, [...BUILTIN_FNS, ...this.scope.fns.keys()]);
      throw this.error('rule/unknown-function', `unknown function ${quote(name)}${hint ? `; did you mean ${quote(hint)}?` : ''}`, at);
    }
    const args = n.args.map((a) => this.convert(a));
    switch (name) {
      case 'sqrt': arity(1); return E.sqrt(args[0]!);
      case 'abs': arity(1); return E.abs(args[0]!);
      case 'sign': arity(1); return E.sign(args[0]!);
      case 'exp': arity(1); return E.call('exp', args[0]!);
      case 'log': arity(1); return E.call('log', args[0]!);
      case 'tanh': arity(1); return E.call('tanh', args[0]!);
      default: arity(2); return E.pow(args[0]!, args[1]!);
    }
  }
}

/** The located error of a syntax error, a limit or a bad number. */
export function syntaxError(err: ExprSyntaxError, error: (code: DiagnosticCode, message: string, at: number) => RuleError): RuleError {
  return err.code ? error(err.code, err.message, err.at) : error('rule/syntax', `syntax error: ${err.message}`, err.at);
}

/** Why a constant cannot be a value (it is not a finite real number), or undefined; non-constants pass. */
export function constantProblem(e: Expr): string | undefined {
  // a coefficient folded into a product or a sum (g * 1e300 * 1e300 is 1e600·g) is a constant too
  const folded = e.kind === 'mul' ? e.factors[0] : e.kind === 'add' ? e.terms[0] : undefined;
  if (folded?.kind === 'num' && !Number.isFinite(toNumber(folded.value))) return 'this constant is infinite as a double (beyond about 1.8e308)';
  if (e.kind === 'sym' || (e.kind !== 'num' && E.freeSymbols(e).size > 0)) return undefined;
  const v = evaluate(e, {});
  if (Number.isNaN(v)) return 'this constant is not a real number (a root or logarithm of a negative number)';
  if (!Number.isFinite(v)) return `this constant is ${v > 0 ? '' : 'minus '}infinite as a double (a logarithm of 0, or beyond about 1.8e308)`;
  return undefined;
}

/** The message of a division by zero, found where the IR folds the constant 0 into a power. */
export function singularMessage(n: SyntaxNode): string {
  return n.type === 'binary' && n.op === '/' ? 'division by zero (the divisor is the constant 0)' : '0 raised to a negative power (a division by zero)';
}
