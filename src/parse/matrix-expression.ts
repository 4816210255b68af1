/**
 * Reads one expression of a `shape matrix` rule into the matrix IR (src/matrix/expr.ts),
 * inferring shapes and tracking symmetry, with located errors (docs/rule-language.md,
 * "Matrix rules"). The parameter θ and its gradient g are r×c; sizes are symbolic, so a
 * product must agree for every r and c (g * g is an error, g * g' is r×r); I takes its
 * size from where it stands.
 */
import * as E from '../ir/expr.js';
import type { Expr } from '../ir/expr.js';
import { ratFromDecimal } from '../ir/rational.js';
import { RuleError, nearest, type DiagnosticCode, type Span } from '../ir/diagnostics.js';
import { prevName } from '../ir/rule.js';
import * as M from '../matrix/expr.js';
import type { Dim, MExpr } from '../matrix/expr.js';
import { ExprSyntaxError, parseExpression, type SyntaxNode } from './expr-syntax.js';
import { constantProblem, singularMessage, syntaxError } from './expression.js';
import { quote, shorten } from './limits.js';

/** A size: the parameter's rows or columns, or not yet known (an identity's). */
type Size = Dim | { readonly v: number };

export interface MatrixShape { readonly rows: Dim; readonly cols: Dim; readonly sym: boolean }

export interface MatrixScope {
  /** Parameter names (scalars). */
  readonly params: ReadonlySet<string>;
  /** States readable here, with their shapes (their new values; prev(s) reads the previous one). */
  readonly states: ReadonlyMap<string, MatrixShape>;
  /** The state whose own recursion this is: its bare name is its previous value, of unknown shape until inferred. */
  readonly ownState?: { readonly name: string; readonly sym: boolean };
  readonly forbidden: ReadonlyMap<string, string>;
}

type Value =
  | { readonly k: 's'; readonly e: Expr }
  | { readonly k: 'm'; readonly m: MExpr; readonly rows: Size; readonly cols: Size };

const SCALAR_FNS = ['sqrt', 'abs', 'exp', 'log'];
const MATRIX_FNS = ['pow', 'msign', 'prev', ...SCALAR_FNS];
const IDENTITY = 'I@';

export interface MatrixRead {
  readonly m: MExpr;
  readonly rows: Dim;
  readonly cols: Dim;
}

export class MatrixExprReader {
  private readonly parent = new Map<number, Size>();
  private vars = 0;
  /** The own state's previous value, while its size is still inferred. */
  private ownSize?: { rows: Size; cols: Size };

  constructor(private readonly source: string, private readonly span: Span, private readonly scope: MatrixScope) {}

  /** The expression as a matrix; a scalar expression is an error (a matrix rule's states and update are matrices). */
  read(what: string): MatrixRead {
    let node: SyntaxNode;
    try {
      node = parseExpression(this.source, { matrix: true });
    } catch (err) {
      if (err instanceof ExprSyntaxError) throw syntaxError(err, (code, message, at) => this.error(code, message, at));
      throw err;
    }
    const own = this.scope.ownState;
    if (own) this.ownSize = { rows: this.fresh(), cols: this.fresh() };
    const v = this.convert(node);
    if (v.k === 's') throw this.error('rule/syntax', `${what} of a matrix rule must be a matrix, not a scalar`, 0);
    if (own) {
      this.unify(v.rows, this.ownSize!.rows, 0, 'the state');
      this.unify(v.cols, this.ownSize!.cols, 0, 'the state');
    }
    const rows = this.concrete(v.rows, 'rows');
    const cols = this.concrete(v.cols, 'columns');
    // identities and the own state's previous value get their sizes now that they are known
    const map = new Map<string, MExpr>();
    for (let i = 0; i < this.identities.length; i++) map.set(`${IDENTITY}${i}`, M.I(this.concrete(this.identities[i]!, 'size of I')));
    if (own) map.set(prevName(own.name), M.leaf(prevName(own.name), rows, cols, own.sym));
    return { m: M.substitute(v.m, map), rows, cols };
  }

  private readonly identities: Size[] = [];

  private error(code: DiagnosticCode, message: string, offset = 0): RuleError {
    return new RuleError({ code, message, span: { ...this.span, col: this.span.col + Math.max(0, offset) } });
  }

  private fresh(): Size {
    const v = { v: this.vars++ };
    return v;
  }

  private find(s: Size): Size {
    while (typeof s !== 'string') {
      const p = this.parent.get(s.v);
      if (p === undefined) return s;
      s = p;
    }
    return s;
  }

  private unify(a0: Size, b0: Size, at: number, what: string): void {
    const a = this.find(a0), b = this.find(b0);
    if (typeof a === 'string' && typeof b === 'string') {
      if (a !== b) throw this.error('rule/syntax', `${what}: sizes cannot agree (${sizeName(a)} against ${sizeName(b)}; g is r×c and a matrix parameter is not assumed square)`, at);
      return;
    }
    if (typeof a !== 'string') { if (typeof b === 'string' || a.v !== b.v) this.parent.set(a.v, b); return; }
    this.parent.set((b as { v: number }).v, a);
  }

  private concrete(s: Size, what: string): Dim {
    const r = this.find(s);
    if (typeof r !== 'string') throw this.error('rule/syntax', `cannot infer the ${what}: add or multiply I with something of known size`, 0);
    return r;
  }

  private shapeText(v: Extract<Value, { k: 'm' }>): string {
    const t = (s: Size) => { const r = this.find(s); return typeof r === 'string' ? r : '?'; };
    return `${t(v.rows)}×${t(v.cols)}`;
  }

  private matrix(m: MExpr, rows: Size, cols: Size): Value {
    return { k: 'm', m, rows, cols };
  }

  /** n as a scalar or a matrix; a constant scalar is evaluated here, where it can still be located. */
  private convert(n: SyntaxNode): Value {
    let v: Value;
    try {
      v = this.convertNode(n);
    } catch (err) {
      if (err instanceof E.SingularError) throw this.error('rule/bad-constant', singularMessage(n), n.at);
      throw err;
    }
    const problem = v.k === 's' && n.type !== 'name' ? constantProblem(v.e) : undefined;
    if (problem) throw this.error('rule/bad-constant', problem, n.at);
    return v;
  }

  private convertNode(n: SyntaxNode): Value {
    switch (n.type) {
      case 'number': return { k: 's', e: E.numR(ratFromDecimal(n.text)) };
      case 'name': return this.name(n.name, n.at);
      case 'unary': {
        const a = this.convert(n.arg);
        if (n.op === '+') return a;
        return a.k === 's' ? { k: 's', e: E.neg(a.e) } : this.matrix(M.scale(E.MINUS_ONE, a.m), a.rows, a.cols);
      }
      case 'transpose': {
        const a = this.convert(n.arg);
        if (a.k === 's') throw this.error('rule/syntax', "' transposes a matrix; this is a scalar", n.at);
        return this.matrix(M.tr(a.m), a.cols, a.rows);
      }
      case 'binary': return this.binary(n);
      case 'call': return this.call(n);
    }
  }

  private binary(n: Extract<SyntaxNode, { type: 'binary' }>): Value {
    const a = this.convert(n.left);
    const b = this.convert(n.right);
    if (a.k === 's' && b.k === 's') {
      switch (n.op) {
        case '+': return { k: 's', e: E.add(a.e, b.e) };
        case '-': return { k: 's', e: E.sub(a.e, b.e) };
        case '*': case '.*': return { k: 's', e: E.mul(a.e, b.e) };
        case '/': return { k: 's', e: E.div(a.e, b.e) };
        case '^': return { k: 's', e: E.pow(a.e, b.e) };
      }
    }
    switch (n.op) {
      case '+': case '-': {
        if (a.k === 's' || b.k === 's')
          throw this.error('rule/syntax', `cannot ${n.op === '+' ? 'add' : 'subtract'} a scalar and a matrix; write c * I for a multiple of the identity`, n.at);
        this.unify(a.rows, b.rows, n.at, `'${n.op}' of a ${this.shapeText(a)} and a ${this.shapeText(b)} matrix`);
        this.unify(a.cols, b.cols, n.at, `'${n.op}' of a ${this.shapeText(a)} and a ${this.shapeText(b)} matrix`);
        return this.matrix(n.op === '+' ? M.add(a.m, b.m) : M.sub(a.m, b.m), a.rows, a.cols);
      }
      case '*': {
        if (a.k === 's' && b.k === 'm') return this.matrix(M.scale(a.e, b.m), b.rows, b.cols);
        if (a.k === 'm' && b.k === 's') return this.matrix(M.scale(b.e, a.m), a.rows, a.cols);
        if (a.k === 'm' && b.k === 'm') {
          this.unify(a.cols, b.rows, n.at, `matrix product of a ${this.shapeText(a)} and a ${this.shapeText(b)} matrix`);
          return this.matrix(M.mul(a.m, b.m), a.rows, b.cols);
        }
        break;
      }
      case '.*': {
        if (a.k === 'm' && b.k === 'm') {
          this.unify(a.rows, b.rows, n.at, `elementwise product of a ${this.shapeText(a)} and a ${this.shapeText(b)} matrix`);
          this.unify(a.cols, b.cols, n.at, `elementwise product of a ${this.shapeText(a)} and a ${this.shapeText(b)} matrix`);
          return this.matrix(M.had(a.m, b.m), a.rows, a.cols);
        }
        throw this.error('rule/syntax', '.* multiplies two matrices elementwise; use * for a scalar times a matrix', n.at);
      }
      case '/': {
        if (a.k === 'm' && b.k === 's') return this.matrix(M.scale(E.pow(b.e, E.MINUS_ONE), a.m), a.rows, a.cols);
        throw this.error('rule/syntax', 'only a division of a matrix by a scalar is defined; use pow(A, -1) for the inverse of a symmetric positive definite A', n.at);
      }
      case '^':
        throw this.error('rule/syntax', '^ raises scalars; write pow(A, p) for a power of a symmetric positive (semi)definite matrix', n.at);
    }
    throw this.error('rule/syntax', 'internal: unexpected operand kinds', n.at);
  }

  private name(name: string, at: number): Value {
    const { scope } = this;
    if (scope.params.has(name) || name === 'n') return { k: 's', e: E.sym(name) };
    if (name === 'g' || name === 'theta') return this.matrix(M.leaf(name, 'r', 'c'), 'r', 'c');
    if (name === 'I') {
      const s = this.fresh();
      this.identities.push(s);
      return this.matrix(M.leaf(`${IDENTITY}${this.identities.length - 1}`, 'r', 'r', true), s, s);
    }
    if (scope.ownState && name === scope.ownState.name) {
      const { rows, cols } = this.ownSize!;
      return this.matrix(M.leaf(prevName(name), 'r', scope.ownState.sym ? 'r' : 'c', scope.ownState.sym), rows, cols);
    }
    const st = scope.states.get(name);
    if (st) return this.matrix(M.leaf(name, st.rows, st.cols, st.sym), st.rows, st.cols);
    const why = scope.forbidden.get(name);
    if (why) throw this.error('rule/unknown-symbol', why, at);
    if (MATRIX_FNS.includes(name)) throw this.error('rule/syntax', `'${name}' is a function; call it as ${name}(…)`, at);
    const hint = nearest(name, ['g', 'theta', 'n', 'I', ...scope.params, ...scope.states.keys(), ...(scope.ownState ? [scope.ownState.name] : [])]);
    throw this.error('rule/unknown-symbol', `unknown symbol ${quote(name)}${hint ? `; did you mean ${quote(hint)}?` : ''}`, at);
  }

  private call(n: Extract<SyntaxNode, { type: 'call' }>): Value {
    const { name, at } = n;
    const arity = (k: number) => {
      if (n.args.length !== k) throw this.error('rule/syntax', `${name} takes ${k} argument${k === 1 ? '' : 's'}, got ${n.args.length}`, at);
    };
    if (name === 'prev') {
      arity(1);
      const a = n.args[0]!;
      if (a.type !== 'name') throw this.error('rule/syntax', 'prev() takes the name of a state', a.at);
      if (a.name === this.scope.ownState?.name)
        throw this.error('rule/syntax', `inside the recursion of ${quote(a.name)}, ${quote(a.name)} already is its previous value; prev(${shorten(a.name)}) is not needed`, at);
      const st = this.scope.states.get(a.name);
      if (!st) throw this.error('rule/unknown-symbol', `prev() takes a state; ${quote(a.name)} is not one`, a.at);
      return this.matrix(M.leaf(prevName(a.name), st.rows, st.cols, st.sym), st.rows, st.cols);
    }
    if (!MATRIX_FNS.includes(name)) {
      const hint = nearest(name, MATRIX_FNS);
      throw this.error('rule/unknown-function', `unknown function ${quote(name)}${hint ? `; did you mean ${quote(hint)}?` : ''} (matrix rules know ${MATRIX_FNS.join(', ')})`, at);
    }
    const args = n.args.map((a) => this.convert(a));
    if (name === 'msign') {
      arity(1);
      const a = args[0]!;
      if (a.k === 's') throw this.error('rule/syntax', 'msign takes a matrix', n.args[0]!.at);
      return this.matrix(M.msign(a.m), a.rows, a.cols);
    }
    if (name === 'pow') {
      arity(2);
      const [a, p] = args as [Value, Value];
      if (a.k === 's' && p.k === 's') return { k: 's', e: E.pow(a.e, p.e) };
      if (p.k === 'm') throw this.error('rule/syntax', 'the exponent of pow must be a number', n.args[1]!.at);
      if (a.k !== 'm') throw this.error('rule/syntax', 'internal: pow operand', at);
      if (p.e.kind !== 'num') throw this.error('rule/syntax', 'the power of a matrix must be a constant number, such as -1/4', n.args[1]!.at);
      this.unify(a.rows, a.cols, n.args[0]!.at, `pow of a ${this.shapeText(a)} matrix (it must be square)`);
      if (!M.isSymmetric(a.m))
        throw this.error('rule/syntax', 'pow(A, p) needs a symmetric positive (semi)definite A, and this argument is not symmetric by construction (symmetric are: I, X * X\', X\' * X, states built from them, and sums and scalings of such)', n.args[0]!.at);
      return this.matrix(M.pow(a.m, p.e.value), a.rows, a.cols);
    }
    arity(1);
    const a = args[0]!;
    if (a.k === 'm') throw this.error('rule/syntax', `'${name}' acts on scalars; matrix rules apply pow(A, p) and msign(A) to matrices`, at);
    switch (name) {
      case 'sqrt': return { k: 's', e: E.sqrt(a.e) };
      case 'abs': return { k: 's', e: E.abs(a.e) };
      case 'exp': return { k: 's', e: E.call('exp', a.e) };
      default: return { k: 's', e: E.call('log', a.e) };
    }
  }
}

const sizeName = (d: Dim) => (d === 'r' ? 'r (rows of g)' : 'c (columns of g)');
