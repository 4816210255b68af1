/** Reads one rule-language expression (mathjs syntax) into the IR, with located errors. */
import { parse as mathParse } from 'mathjs';
import type { MathNode } from 'mathjs';
import * as E from '../ir/expr.js';
import type { Expr } from '../ir/expr.js';
import { ratFromDecimal } from '../ir/rational.js';
import { RuleError, nearest, type DiagnosticCode, type Span } from '../ir/diagnostics.js';
import type { FnDecl } from '../ir/rule.js';
import { prevName } from '../ir/rule.js';

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
    let node: MathNode;
    try {
      node = mathParse(this.source);
    } catch (err) {
      const msg = err instanceof Error ? err.message : String(err);
      const m = /\(char (\d+)\)/.exec(msg);
      const at = m ? Number(m[1]) - 1 : 0;
      throw this.error('rule/syntax', `syntax error: ${msg.replace(/\s*\(char \d+\)/, '').toLowerCase()}`, at);
    }
    return this.convert(node);
  }

  private error(code: DiagnosticCode, message: string, offset = 0): RuleError {
    return new RuleError({ code, message, span: { ...this.span, col: this.span.col + Math.max(0, offset) } });
  }

  /** Offset of the first whole-word occurrence of name, for locating errors. */
  private offsetOf(name: string): number {
    const re = new RegExp(`(?<![A-Za-z0-9_])${name.replace(/[^A-Za-z0-9_]/g, '\\$&')}(?![A-Za-z0-9_])`);
    const m = re.exec(this.source);
    return m ? m.index : 0;
  }

  private convert(node: MathNode): Expr {
    const n = node as MathNode & Record<string, any>;
    switch (n.type) {
      case 'ParenthesisNode':
        return this.convert(n.content);
      case 'ConstantNode': {
        if (typeof n.value !== 'number' || !Number.isFinite(n.value)) throw this.error('rule/syntax', `unsupported constant ${String(n.value)}`);
        return E.numR(ratFromDecimal(String(n.value)));
      }
      case 'SymbolNode':
        return this.symbol(n.name as string);
      case 'OperatorNode': {
        const args = (n.args as MathNode[]).map((a) => this.convert(a));
        switch (n.fn as string) {
          case 'add': return E.add(args[0]!, args[1]!);
          case 'subtract': return E.sub(args[0]!, args[1]!);
          case 'multiply': return E.mul(args[0]!, args[1]!);
          case 'divide': return E.div(args[0]!, args[1]!);
          case 'pow': return E.pow(args[0]!, args[1]!);
          case 'unaryMinus': return E.neg(args[0]!);
          case 'unaryPlus': return args[0]!;
          default:
            throw this.error('rule/unsupported', `operator '${n.op}' is not supported in coordinate-wise rules`, this.source.indexOf(n.op));
        }
      }
      case 'FunctionNode':
        return this.func(n);
      default:
        throw this.error('rule/unsupported', `unsupported syntax (${String(n.type).replace(/Node$/, '').toLowerCase()})`);
    }
  }

  private symbol(name: string): Expr {
    const s = this.scope.symbols.get(name);
    if (s) return s;
    const why = this.scope.forbidden.get(name);
    if (why) throw this.error('rule/unknown-symbol', why, this.offsetOf(name));
    if (this.scope.fns.has(name) || (BUILTIN_FNS as readonly string[]).includes(name))
      throw this.error('rule/syntax', `'${name}' is a function; call it as ${name}(…)`, this.offsetOf(name));
    const hint = nearest(name, this.scope.symbols.keys());
    throw this.error('rule/unknown-symbol', `unknown symbol '${name}'${hint ? `; did you mean '${hint}'?` : ''}`, this.offsetOf(name));
  }

  private func(n: Record<string, any>): Expr {
    const name: string = n.fn?.name ?? '';
    const rawArgs: MathNode[] = n.args;
    const at = this.offsetOf(name);
    const arity = (k: number) => {
      if (rawArgs.length !== k) throw this.error('rule/syntax', `${name} takes ${k} argument${k === 1 ? '' : 's'}, got ${rawArgs.length}`, at);
    };
    if (name === 'prev') {
      arity(1);
      const a = rawArgs[0] as MathNode & Record<string, any>;
      if (a.type !== 'SymbolNode') throw this.error('rule/syntax', 'prev() takes the name of a state', at);
      const s: string = a.name;
      if (s === this.scope.ownState)
        throw this.error('rule/syntax', `inside the recursion of '${s}', '${s}' already is its previous value; prev(${s}) is not needed`, at);
      if (!this.scope.prevable.has(s)) {
        const hint = nearest(s, this.scope.prevable);
        throw this.error('rule/unknown-symbol', `prev() takes a state; '${s}' is not one${hint ? `; did you mean '${hint}'?` : ''}`, this.offsetOf(s));
      }
      return E.sym(prevName(s));
    }
    const user = this.scope.fns.get(name);
    if (user) {
      arity(user.args.length);
      const args = rawArgs.map((a) => this.convert(a));
      return E.subs(user.body, new Map(user.args.map((p, i) => [`${p}@arg`, args[i]!])));
    }
    const args = rawArgs.map((a) => this.convert(a));
    switch (name) {
      case 'sqrt': arity(1); return E.sqrt(args[0]!);
      case 'abs': arity(1); return E.abs(args[0]!);
      case 'sign': arity(1); return E.sign(args[0]!);
      case 'exp': arity(1); return E.call('exp', args[0]!);
      case 'log': arity(1); return E.call('log', args[0]!);
      case 'pow': arity(2); return E.pow(args[0]!, args[1]!);
    }
    if (NON_DIFFERENTIABLE.has(name))
      throw this.error('rule/non-differentiable', `'${name}' has no derivative, and the correction differentiates the update; use a smooth surrogate (abs and sign are allowed: their derivative vanishes almost everywhere)`, at);
    const hint = nearest(name, [...BUILTIN_FNS, ...this.scope.fns.keys()]);
    throw this.error('rule/unknown-function', `unknown function '${name}'${hint ? `; did you mean '${hint}'?` : ''}`, at);
  }
}
