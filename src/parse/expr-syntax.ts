/**
 * A recursive-descent parser for rule-language expressions (the mathjs operator syntax:
 * + − * / ^, unary minus, calls, parentheses). Our own, so that every error has an exact
 * column and so that start-up does not pay for loading a whole math library.
 */
import { LIMITS, numberProblem, quote } from './limits.js';

export type SyntaxNode =
  | { readonly type: 'number'; readonly text: string; readonly at: number }
  | { readonly type: 'name'; readonly name: string; readonly at: number }
  | { readonly type: 'unary'; readonly op: '-' | '+'; readonly arg: SyntaxNode; readonly at: number }
  | { readonly type: 'binary'; readonly op: '+' | '-' | '*' | '/' | '^' | '.*'; readonly left: SyntaxNode; readonly right: SyntaxNode; readonly at: number }
  | { readonly type: 'transpose'; readonly arg: SyntaxNode; readonly at: number }
  | { readonly type: 'call'; readonly name: string; readonly args: readonly SyntaxNode[]; readonly at: number };

/** A syntax error at a 0-based offset into the expression text; `code` is set for a limit or a bad number. */
export class ExprSyntaxError extends Error {
  constructor(message: string, readonly at: number, readonly code?: 'rule/too-large' | 'rule/bad-number') {
    super(message);
  }
}

interface Token { kind: 'num' | 'id' | 'op' | 'end'; text: string; at: number }

/** Matrix rules (`shape matrix`) also read the postfix transpose ' and the elementwise product .* */
export interface SyntaxOptions { readonly matrix?: boolean }

// sticky (matched at lastIndex): no copy of the rest of the line per token
const NUM = /(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?/y;
const ID = /[A-Za-z_][A-Za-z0-9_]*/y;
const at = (re: RegExp, src: string, i: number) => {
  re.lastIndex = i;
  return re.exec(src)?.[0];
};

function tokenize(src: string, matrix: boolean): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i]!;
    if (c === ' ' || c === '\t') { i++; continue; }
    if (out.length === LIMITS.tokens) throw new ExprSyntaxError(`an expression may have at most ${LIMITS.tokens} tokens (numbers, names, operators)`, i, 'rule/too-large');
    if (matrix && c === '.' && src[i + 1] === '*') { out.push({ kind: 'op', text: '.*', at: i }); i += 2; continue; }
    if (matrix && c === "'") { out.push({ kind: 'op', text: "'", at: i }); i++; continue; }
    const num = at(NUM, src, i);
    if (num) {
      // '2.*A' in a matrix rule is 2 .* A
      const text = matrix && num.endsWith('.') && src[i + num.length] === '*' ? num.slice(0, -1) : num;
      const problem = numberProblem(text);
      if (problem) throw new ExprSyntaxError(problem, i, 'rule/bad-number');
      out.push({ kind: 'num', text, at: i }); i += text.length; continue;
    }
    const id = at(ID, src, i);
    if (id) { out.push({ kind: 'id', text: id, at: i }); i += id.length; continue; }
    if ('+-*/^(),'.includes(c)) { out.push({ kind: 'op', text: c, at: i }); i++; continue; }
    if (c === "'" || (c === '.' && src[i + 1] === '*'))
      throw new ExprSyntaxError(`matrix operator '${c === '.' ? '.*' : "'"}' is only allowed in matrix rules`, i);
    throw new ExprSyntaxError(`unexpected character ${quote(String.fromCodePoint(src.codePointAt(i)!))}`, i);
  }
  out.push({ kind: 'end', text: '', at: src.length });
  return out;
}

export function parseExpression(src: string, opts: SyntaxOptions = {}): SyntaxNode {
  const toks = tokenize(src, opts.matrix ?? false);
  let p = 0;
  const peek = () => toks[p]!;
  const next = () => toks[p++]!;
  const expectOp = (op: string) => {
    const t = next();
    if (t.kind !== 'op' || t.text !== op) throw new ExprSyntaxError(t.kind === 'end' ? `expected '${op}' before the end of the expression` : `expected '${op}', found ${quote(t.text)}`, t.at);
  };
  const isOp = (t: Token, ...ops: string[]) => t.kind === 'op' && ops.includes(t.text);

  // sum := product (('+'|'-') product)*
  function sum(): SyntaxNode {
    let left = product();
    while (isOp(peek(), '+', '-')) {
      const t = next();
      left = { type: 'binary', op: t.text as '+' | '-', left, right: product(), at: t.at };
    }
    return left;
  }
  // product := unary (('*'|'/'|'.*') unary)*
  function product(): SyntaxNode {
    let left = unary();
    for (;;) {
      const t = peek();
      if (isOp(t, '*', '/', '.*')) {
        next();
        left = { type: 'binary', op: t.text as '*' | '/' | '.*', left, right: unary(), at: t.at };
      } else if (t.kind === 'num' || t.kind === 'id' || isOp(t, '(')) {
        throw new ExprSyntaxError(`missing operator before ${quote(t.text)} (write * for a product)`, t.at);
      } else return left;
    }
  }
  // unary := ('-'|'+') unary | power      (so −x^2 = −(x^2), as in mathjs)
  // Every level of nesting passes here (a sign, a power's exponent, a parenthesis, a call's
  // arguments), so this is where the depth is bounded, well before the stack is.
  let depth = 0;
  function unary(): SyntaxNode {
    const t = peek();
    if (++depth > LIMITS.depth) throw new ExprSyntaxError(`an expression may nest at most ${LIMITS.depth} levels deep (parentheses, calls, signs, powers)`, t.at, 'rule/too-large');
    try {
      if (isOp(t, '-', '+')) {
        next();
        return { type: 'unary', op: t.text as '-' | '+', arg: unary(), at: t.at };
      }
      return power();
    } finally {
      depth--;
    }
  }
  // power := postfix ('^' unary)?      (right-associative: a^b^c = a^(b^c))
  function power(): SyntaxNode {
    const base = postfix();
    if (isOp(peek(), '^')) {
      const t = next();
      return { type: 'binary', op: '^', left: base, right: unary(), at: t.at };
    }
    return base;
  }
  // postfix := atom "'"*      (transpose, matrix rules only)
  function postfix(): SyntaxNode {
    let a = atom();
    while (isOp(peek(), "'")) a = { type: 'transpose', arg: a, at: next().at };
    return a;
  }
  function atom(): SyntaxNode {
    const t = next();
    if (t.kind === 'num') return { type: 'number', text: t.text, at: t.at };
    if (t.kind === 'id') {
      if (!isOp(peek(), '(')) return { type: 'name', name: t.text, at: t.at };
      next();
      const args: SyntaxNode[] = [];
      if (!isOp(peek(), ')')) {
        args.push(sum());
        while (isOp(peek(), ',')) { next(); args.push(sum()); }
      }
      expectOp(')');
      return { type: 'call', name: t.text, args, at: t.at };
    }
    if (isOp(t, '(')) {
      const inner = sum();
      expectOp(')');
      return inner;
    }
    throw new ExprSyntaxError(t.kind === 'end' ? 'the expression ends where a value is expected' : `unexpected ${quote(t.text)} where a value is expected`, t.at);
  }

  if (peek().kind === 'end') throw new ExprSyntaxError('empty expression', 0);
  const tree = sum();
  const rest = peek();
  if (rest.kind !== 'end') throw new ExprSyntaxError(isOp(rest, ')') ? "unmatched ')'" : `unexpected ${quote(rest.text)}`, rest.at);
  return tree;
}
