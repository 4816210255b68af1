/**
 * Prints matrix expressions (src/matrix/expr.ts) as LaTeX and as one line of Unicode: G for
 * the gradient, Θ for the parameter, V for the field and H[V] for the Hessian-vector
 * product; Xᵀ, A^{p}, msign(A); the derivatives as D(·)^{p}|_A[X] and D msign|_A[X].
 * Scalar coefficients go through the scalar printers.
 */
import type { MExpr } from '../matrix/expr.js';
import { FIELD, HVP } from '../matrix/derive.js';
import type { Rational } from '../ir/rational.js';
import { toLatex } from './expr-latex.js';
import { toText } from './expr-text.js';
import { latexName, textName } from './names.js';

type Kind = 'sum' | 'product' | 'atom';

const fraction = (p: Rational) => (p.q === 1n ? String(p.p) : `${p.p}/${p.q}`);

interface Printer {
  leaf(name: string, prev: boolean): string;
  coef(c: Parameters<typeof toText>[0]): { s: string; sum: boolean };
  paren(s: string): string;
  times: string;
  had: string;
  tr(s: string): string;
  pow(a: string, p: string): string;
  msign(a: string): string;
  dpow(a: string, p: string, dir: string): string;
  dmsign(a: string, dir: string): string;
  identity: string;
  frac(p: Rational): string;
}

const LATEX: Printer = {
  leaf: (name, prev) => name === 'g' ? 'G' : name === 'theta' ? '\\Theta' : name === FIELD ? 'V' : name === HVP ? '\\mathcal{H}[V]' : prev ? latexName(name, ['n']) : latexName(name, ['n+1']),
  coef: (c) => ({ s: toLatex(c, { coordinate: null }), sum: c.kind === 'add' }),
  paren: (s) => `\\left(${s}\\right)`,
  times: ' ',
  had: ' \\circ ',
  tr: (s) => `${s}^{\\top}`,
  pow: (a, p) => `${a}^{${p}}`,
  msign: (a) => `\\operatorname{msign}\\left(${a}\\right)`,
  dpow: (a, p, dir) => `\\mathrm{D}(\\cdot)^{${p}}\\big|_{${a}}\\left[${dir}\\right]`,
  dmsign: (a, dir) => `\\mathrm{D}\\operatorname{msign}\\big|_{${a}}\\left[${dir}\\right]`,
  identity: 'I',
  frac: (p) => fraction(p),
};

const TEXT: Printer = {
  leaf: (name, prev) => name === 'g' ? 'G' : name === 'theta' ? 'Θ' : name === FIELD ? 'V' : name === HVP ? 'H[V]' : prev ? `prev(${textName(name)})` : textName(name),
  coef: (c) => ({ s: toText(c), sum: c.kind === 'add' }),
  paren: (s) => `(${s})`,
  times: ' ',
  had: ' ∘ ',
  tr: (s) => `${s}ᵀ`,
  pow: (a, p) => `pow(${a}, ${p})`,
  msign: (a) => `msign(${a})`,
  dpow: (a, p, dir) => `Dpow(${a}, ${p})[${dir}]`,
  dmsign: (a, dir) => `Dmsign(${a})[${dir}]`,
  identity: 'I',
  frac: (p) => fraction(p),
};

function print(m: MExpr, P: Printer): { s: string; kind: Kind } {
  const inner = (x: MExpr, at: Kind) => {
    const r = print(x, P);
    return (at === 'atom' && r.kind !== 'atom') || (at === 'product' && r.kind === 'sum') ? P.paren(r.s) : r.s;
  };
  switch (m.kind) {
    case 'leaf': {
      const prev = m.name.endsWith('@prev');
      return { s: P.leaf(prev ? m.name.slice(0, -'@prev'.length) : m.name, prev), kind: 'atom' };
    }
    case 'I': return { s: P.identity, kind: 'atom' };
    case 'zero': return { s: '0', kind: 'atom' };
    case 'scale': {
      const c = P.coef(m.coef);
      const minus = c.s === '-1' || c.s === '−1';
      const cs = c.sum ? P.paren(c.s) : c.s;
      return { s: minus ? `-${inner(m.arg, 'product')}` : `${cs}${P.times}${inner(m.arg, 'product')}`, kind: 'product' };
    }
    case 'add': return { s: m.terms.map((t) => print(t, P).s).join(' + ').replace(/\+ -/g, '- ').replace(/\+ −/g, '− '), kind: 'sum' };
    case 'mul': return { s: m.factors.map((f) => inner(f, 'product')).join(P.times), kind: 'product' };
    case 'had': return { s: `${inner(m.a, 'product')}${P.had}${inner(m.b, 'product')}`, kind: 'product' };
    case 'tr': return { s: P.tr(inner(m.arg, 'atom')), kind: 'atom' };
    case 'pow': return { s: P.pow(P === TEXT ? print(m.arg, P).s : inner(m.arg, 'atom'), P.frac(m.p)), kind: 'atom' };
    case 'msign': return { s: P.msign(print(m.arg, P).s), kind: 'atom' };
    case 'dpow': return { s: P.dpow(print(m.arg, P).s, P.frac(m.p), print(m.dir, P).s), kind: 'atom' };
    case 'dmsign': return { s: P.dmsign(print(m.arg, P).s, print(m.dir, P).s), kind: 'atom' };
  }
}

export const matrixLatex = (m: MExpr) => print(m, LATEX).s;
export const matrixText = (m: MExpr) => print(m, TEXT).s;
