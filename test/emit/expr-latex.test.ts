import katex from 'katex';
import { describe, expect, it } from 'vitest';
import * as E from '../../src/ir/expr.js';
import { toLatex } from '../../src/emit/expr-latex.js';
import { ExprGen, rng } from './random-expr.js';

const { sym, num, add, sub, mul, div, pow, sqrt, abs, sign, ONE } = E;
const beta = sym('beta');

const renders = (tex: string) => katex.renderToString(tex, { throwOnError: true, displayMode: true });

describe('toLatex', () => {
  it('renders in KaTeX for 800 seeded random trees, in every symbol mode', { timeout: 60_000 }, () => {
    const gen = new ExprGen(rng(424242));
    for (let i = 0; i < 800; i++) {
      const e = gen.any(1 + (i % 4));
      for (const opts of [{}, { coordinate: null }, { step: { states: ['m', 's'] } }]) {
        const tex = toLatex(e, opts);
        expect(() => renders(tex), tex).not.toThrow();
      }
    }
  });

  it('is deterministic: equal trees give equal strings', () => {
    const a = new ExprGen(rng(9));
    const b = new ExprGen(rng(9));
    for (let i = 0; i < 200; i++) expect(toLatex(a.any(3))).toBe(toLatex(b.any(3)));
  });

  it('collects negative exponents into one fraction', () => {
    expect(toLatex(div(beta, pow(sub(ONE, beta), num(3))))).toBe('\\frac{\\beta}{(1 - \\beta)^{3}}');
    expect(toLatex(div(beta, mul(num(2), pow(sub(ONE, beta), num(2)))))).toBe('\\frac{\\beta}{2 (1 - \\beta)^{2}}');
    expect(toLatex(mul(num(3, 4), sym('g')))).toBe('\\frac{3 g_j}{4}');
    expect(toLatex(div(ONE, sqrt(add(sym('v'), sym('eps')))))).toBe('\\frac{1}{\\sqrt{\\varepsilon + v}}');
  });

  it('prints subtraction for negative coefficients, with a positive term first', () => {
    const c = sub(div(sym('beta1'), sub(ONE, sym('beta1'))), div(sym('beta2'), sub(ONE, sym('beta2'))));
    expect(toLatex(c)).toBe('\\frac{\\beta_1}{1 - \\beta_1} - \\frac{\\beta_2}{1 - \\beta_2}');
    expect(toLatex(sub(num(-1), sym('g')))).toBe('-g_j - 1');
    expect(toLatex(add(sym('n'), ONE))).toBe('n + 1');
  });

  it('names: Greek letters, digit subscripts, coordinate and step subscripts', () => {
    expect(toLatex(mul(sym('lambda'), sym('theta')))).toBe('\\lambda \\theta_j');
    expect(toLatex(sym('nu1'))).toBe('\\nu_1');
    expect(toLatex(sym('eps'))).toBe('\\varepsilon');
    expect(toLatex(sym('delta'))).toBe('\\delta');
    expect(toLatex(sym('g'), { coordinate: null })).toBe('g');
    expect(toLatex(sym('g'), { coordinate: 'i' })).toBe('g_i');
    expect(toLatex(sym('m@prev'))).toBe('m_{n-1}');
    expect(toLatex(add(sym('m@prev'), sym('m'), sym('g')), { step: { states: ['m'] } })).toBe('g_n + m_{n+1} + m_n');
    expect(toLatex(sym('lr_max'))).toBe('\\mathrm{lr}_{\\mathrm{max}}');
  });

  it('abs, sign, exp, log, tanh and sums', () => {
    expect(toLatex(div(sign(sym('g')), add(abs(sym('g')), sym('eps'))))).toBe('\\frac{\\operatorname{sign}(g_j)}{\\varepsilon + \\lvert g_j\\rvert}');
    expect(toLatex(E.call('exp', sym('x')))).toBe('e^{x}');
    expect(toLatex(E.call('log', sym('x')))).toBe('\\log(x)');
    expect(toLatex(E.call('tanh', mul(sym('c'), sym('g'))))).toBe('\\tanh(c g_j)');
    const s = sym('s');
    expect(toLatex(E.sum('s', num(0), sym('n'), pow(beta, s)))).toBe('\\sum_{s=0}^{n} \\beta^{s}');
    expect(toLatex(E.sum('s', num(0), sym('n'), E.neg(pow(beta, s))))).toBe('\\sum_{s=0}^{n} \\left(-\\beta^{s}\\right)'.replace('\\left(', '(').replace('\\right)', ')'));
    // a summation index is bare even when a state has the same name
    expect(toLatex(E.sum('s', num(0), sym('n'), pow(beta, s)), { step: { states: ['s'] } })).toBe('\\sum_{s=0}^{n} \\beta^{s}');
  });
});
