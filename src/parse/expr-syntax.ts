/**
 * A recursive-descent parser for rule-language expressions (the mathjs operator syntax:
 * + − * / ^, unary minus, calls, parentheses). Our own, so that every error has an exact
 * column and so that start-up does not pay for loading a whole math library.
 */
export type SyntaxNode =
  | { readonly type: 'number'; readonly text: string; readonly at: number }
  | { readonly type: 'name'; readonly name: string; readonly at: number }
  | { readonly type: 'unary'; readonly op: '-' | '+'; readonly arg: SyntaxNode; readonly at: number }
  | { readonly type: 'binary'; readonly op: '+' | '-' | '*' | '/' | '^' | '.*'; readonly left: SyntaxNode; readonly right: SyntaxNode; readonly at: number }
  | { readonly type: 'transpose'; readonly arg: SyntaxNode; readonly at: number }
  | { readonly type: 'call'; readonly name: string; readonly args: readonly SyntaxNode[]; readonly at: number };

/** A syntax error at a 0-based offset into the expression text. */
export class ExprSyntaxError extends Error {
  constructor(message: string, readonly at: number) {
    super(message);
  }
}

interface Token { kind: 'num' | 'id' | 'op' | 'end'; text: string; at: number }

/** Matrix rules (`shape matrix`) also read the postfix transpose ' and the elementwise product .* */
export interface SyntaxOptions { readonly matrix?: boolean }

function tokenize(src: string, matrix: boolean): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i]!;
    if (c === ' ' || c === '\t') { i++; continue; }
    if (matrix && c === '.' && src[i + 1] === '*') { out.push({ kind: 'op', text: '.*', at: i }); i += 2; continue; }
    if (matrix && c === "'") { out.push({ kind: 'op', text: "'", at: i }); i++; continue; }
    const num = /^(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?/.exec(src.slice(i));
    if (num) {
      // '2.*A' in a matrix rule is 2 .* A
      const text = matrix && num[0].endsWith('.') && src[i + num[0].length] === '*' ? num[0].slice(0, -1) : num[0];
      out.push({ kind: 'num', text, at: i }); i += text.length; continue;
    }
    const id = /^[A-Za-z_][A-Za-z0-9_]*/.exec(src.slice(i));
    if (id) { out.push({ kind: 'id', text: id[0], at: i }); i += id[0].length; continue; }
    if ('+-*/^(),'.includes(c)) { out.push({ kind: 'op', text: c, at: i }); i++; continue; }
    if (c === "'" || (c === '.' && src[i + 1] === '*'))
      throw new ExprSyntaxError(`matrix operator '${c === '.' ? '.*' : "'"}' is only allowed in matrix rules`, i);
    throw new ExprSyntaxError(`unexpected character '${c}'`, i);
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
    if (t.kind !== 'op' || t.text !== op) throw new ExprSyntaxError(t.kind === 'end' ? `expected '${op}' before the end of the expression` : `expected '${op}', found '${t.text}'`, t.at);
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
        throw new ExprSyntaxError(`missing operator before '${t.text}' (write * for a product)`, t.at);
      } else return left;
    }
  }
  // unary := ('-'|'+') unary | power      (so −x^2 = −(x^2), as in mathjs)
  function unary(): SyntaxNode {
    const t = peek();
    if (isOp(t, '-', '+')) {
      next();
      return { type: 'unary', op: t.text as '-' | '+', arg: unary(), at: t.at };
    }
    return power();
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
    throw new ExprSyntaxError(t.kind === 'end' ? 'the expression ends where a value is expected' : `unexpected '${t.text}' where a value is expected`, t.at);
  }

  if (peek().kind === 'end') throw new ExprSyntaxError('empty expression', 0);
  const tree = sum();
  const rest = peek();
  if (rest.kind !== 'end') throw new ExprSyntaxError(isOp(rest, ')') ? "unmatched ')'" : `unexpected '${rest.text}'`, rest.at);
  return tree;
}
