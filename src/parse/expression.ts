/** Reads one rule-language expression into the IR, with located errors. */
import * as E from '../ir/expr.js';
import type { Expr } from '../ir/expr.js';
import { ratFromDecimal } from '../ir/rational.js';
import { RuleError, nearest, type DiagnosticCode, type Span } from '../ir/diagnostics.js';
import type { FnDecl } from '../ir/rule.js';
import { prevName } from '../ir/rule.js';
import { ExprSyntaxError, parseExpression, type SyntaxNode } from './expr-syntax.js';

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
}

const BUILTIN_FNS = ['sqrt', 'abs', 'sign', 'exp', 'log', 'pow', 'prev'] as const;
const NON_DIFFERENTIABLE = new Set(['floor', 'ceil', 'round', 'fix', 'max', 'min', 'mod', 'heaviside', 'step']);

export class ExprReader {
  constructor(private readonly source: string, private readonly span: Span, private readonly scope: ExprScope) {}

  read(): Expr {
    let node: SyntaxNode;
    try {
      node = parseExpression(this.source);
    } catch (err) {
      if (err instanceof ExprSyntaxError) throw this.error('rule/syntax', `syntax error: ${err.message}`, err.at);
      throw err;
    }
    return this.convert(node);
  }

  private error(code: DiagnosticCode, message: string, offset = 0): RuleError {
    return new RuleError({ code, message, span: { ...this.span, col: this.span.col + Math.max(0, offset) } });
  }

  private convert(n: SyntaxNode): Expr {
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
    if (this.scope.fns.has(name) || (BUILTIN_FNS as readonly string[]).includes(name))
      throw this.error('rule/syntax', `'${name}' is a function; call it as ${name}(…)`, at);
    const hint = nearest(name, this.scope.symbols.keys());
    throw this.error('rule/unknown-symbol', `unknown symbol '${name}'${hint ? `; did you mean '${hint}'?` : ''}`, at);
  }

  private func(n: Extract<SyntaxNode, { type: 'call' }>): Expr {
    const { name, at } = n;
    const arity = (k: number) => {
      if (n.args.length !== k) throw this.error('rule/syntax', `${name} takes ${k} argument${k === 1 ? '' : 's'}, got ${n.args.length}`, at);
    };
    if (name === 'prev') {
      arity(1);
      const a = n.args[0]!;
      if (a.type !== 'name') throw this.error('rule/syntax', 'prev() takes the name of a state', a.at);
      const s = a.name;
      if (s === this.scope.ownState)
        throw this.error('rule/syntax', `inside the recursion of '${s}', '${s}' already is its previous value; prev(${s}) is not needed`, at);
      if (!this.scope.prevable.has(s)) {
        const hint = nearest(s, this.scope.prevable);
        throw this.error('rule/unknown-symbol', `prev() takes a state; '${s}' is not one${hint ? `; did you mean '${hint}'?` : ''}`, a.at);
      }
      return E.sym(prevName(s));
    }
    const user = this.scope.fns.get(name);
    if (user) {
      arity(user.args.length);
      const args = n.args.map((a) => this.convert(a));
      return E.subs(user.body, new Map(user.args.map((p, i) => [`${p}@arg`, args[i]!])));
    }
    if (NON_DIFFERENTIABLE.has(name))
      throw this.error('rule/non-differentiable', `'${name}' has no derivative, and the correction differentiates the update; use a smooth surrogate (abs and sign are allowed: their derivative vanishes almost everywhere)`, at);
    if (!(BUILTIN_FNS as readonly string[]).includes(name)) {
      const hint = nearest(name, [...BUILTIN_FNS, ...this.scope.fns.keys()]);
      throw this.error('rule/unknown-function', `unknown function '${name}'${hint ? `; did you mean '${hint}'?` : ''}`, at);
    }
    const args = n.args.map((a) => this.convert(a));
    switch (name) {
      case 'sqrt': arity(1); return E.sqrt(args[0]!);
      case 'abs': arity(1); return E.abs(args[0]!);
      case 'sign': arity(1); return E.sign(args[0]!);
      case 'exp': arity(1); return E.call('exp', args[0]!);
      case 'log': arity(1); return E.call('log', args[0]!);
      default: arity(2); return E.pow(args[0]!, args[1]!);
    }
  }
}
