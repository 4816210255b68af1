/**
 * The nerdamer bridge: antiderivatives and polynomial factoring. nerdamer returns wrong answers in places
 * (engineering notes), so callers verify every result by differentiating it; this module
 * only translates. Symbols are renamed to safe names (never e, pi, i) on the way in.
 */
import { createRequire } from 'node:module';
import { parseExpression, type SyntaxNode } from '../parse/expr-syntax.js';
import * as E from '../ir/expr.js';
import type { Expr } from '../ir/expr.js';
import { ratFromDecimal, ratToString } from '../ir/rational.js';

type Nerdamer = ((expr: string) => { toString(): string }) & { set(setting: string, value: boolean): void; getWarnings(): string[] };
let cached: Nerdamer | undefined;
function load(): Nerdamer {
  if (!cached) {
    cached = createRequire(import.meta.url)('nerdamer-prime/all') as Nerdamer;
    // nerdamer prints "Unable to compute integral!" and the like on the console: a failed
    // integral is an ordinary answer here (undefined), not something to tell the user
    cached.set('SILENCE_WARNINGS', true);
  }
  return cached;
}

function toNerdamer(e: Expr, names: Map<string, string>): string {
  const p = (x: Expr) => `(${toNerdamer(x, names)})`;
  switch (e.kind) {
    case 'num': return `(${ratToString(e.value)})`;
    case 'sym': return names.get(e.name)!;
    case 'add': return e.terms.map(p).join('+');
    case 'mul': return e.factors.map(p).join('*');
    case 'pow': return `${p(e.base)}^${p(e.exp)}`;
    case 'call': return `${e.fn}${p(e.arg)}`;
    case 'sum': throw new Error('internal: sums are not sent to nerdamer');
  }
}

function fromSyntax(n: SyntaxNode, back: Map<string, string>): Expr {
  switch (n.type) {
    case 'number': return E.numR(ratFromDecimal(n.text));
    case 'name': {
      const s = back.get(n.name);
      if (!s) throw new Error(`unexpected symbol ${n.name}`);
      return E.sym(s);
    }
    case 'unary': return n.op === '-' ? E.neg(fromSyntax(n.arg, back)) : fromSyntax(n.arg, back);
    case 'binary': {
      const a = fromSyntax(n.left, back);
      const b = fromSyntax(n.right, back);
      return n.op === '+' ? E.add(a, b) : n.op === '-' ? E.sub(a, b) : n.op === '*' ? E.mul(a, b) : n.op === '/' ? E.div(a, b) : E.pow(a, b);
    }
    case 'transpose': throw new Error('unexpected transpose');
    case 'call': {
      const a = n.args.map((x) => fromSyntax(x, back));
      if (a.length !== 1) throw new Error(`unexpected call ${n.name}`);
      switch (n.name) {
        case 'sqrt': return E.sqrt(a[0]!);
        case 'abs': return E.abs(a[0]!);
        case 'sign': return E.sign(a[0]!);
        case 'exp': return E.call('exp', a[0]!);
        case 'log': return E.call('log', a[0]!);
        case 'tanh': return E.call('tanh', a[0]!);
      }
      throw new Error(`unexpected function ${n.name}`);
    }
  }
}

/** Safe names v0, v1, … for e's symbols (x kept as 'x' when given), both ways. */
function rename(e: Expr, x?: string): [Map<string, string>, Map<string, string>] {
  const names = new Map<string, string>(x ? [[x, 'x']] : []);
  const back = new Map<string, string>(x ? [['x', x]] : []);
  [...E.freeSymbols(e)].filter((s) => s !== x).sort().forEach((s, i) => {
    names.set(s, `v${i}`);
    back.set(`v${i}`, s);
  });
  return [names, back];
}

/** nerdamer's answer to call(e), read back; undefined when it fails or answers with `refuse`. */
function ask(call: (arg: string) => string, e: Expr, names: Map<string, string>, back: Map<string, string>, refuse: RegExp): Expr | undefined {
  const nerdamer = load();
  try {
    const out = nerdamer(call(toNerdamer(e, names))).toString();
    if (refuse.test(out)) return undefined;
    return fromSyntax(parseExpression(out), back);
  } catch {
    return undefined;
  } finally {
    // the warnings are also kept in a list that would grow with every call
    nerdamer.getWarnings().length = 0;
  }
}

/** An antiderivative of e in x as nerdamer finds it, unverified; undefined when it finds none. */
export function antiderivative(e: Expr, x: string): Expr | undefined {
  const [names, back] = rename(e, x);
  return ask((a) => `integrate(${a}, x)`, e, names, back, /integrate|atan|asin|acos|erf|Si|Ci|Ei|\bi\b/);
}

/** A polynomial e factored by nerdamer, unverified (its factor is wrong in places: callers check). */
export function factorPolynomial(e: Expr): Expr | undefined {
  const [names, back] = rename(e);
  return ask((a) => `factor(${a})`, e, names, back, /factor|\bi\b/);
}
