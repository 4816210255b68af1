import { describe, expect, it } from 'vitest';
import * as E from '../../src/ir/expr.js';
import { toText } from '../../src/emit/expr-text.js';
import { ExprGen, rng } from './random-expr.js';

const { sym, num, add, sub, mul, div, pow, sqrt, abs, sign, ONE } = E;
const beta = sym('beta');

describe('toText', () => {
  it('prints the heavy-ball weight β/(1 − β)³', () => {
    expect(toText(div(beta, pow(sub(ONE, beta), num(3))))).toBe('β/(1 − β)³');
    expect(toText(div(beta, mul(num(2), pow(sub(ONE, beta), num(2)))))).toBe('β/(2·(1 − β)²)');
  });

  it('uses Unicode names, roots, bars and a true minus sign', () => {
    const c = sub(div(sym('beta1'), sub(ONE, sym('beta1'))), div(sym('beta2'), sub(ONE, sym('beta2'))));
    expect(toText(c)).toBe('β₁/(1 − β₁) − β₂/(1 − β₂)');
    expect(toText(div(sym('m@prev'), add(sqrt(sym('v')), sym('eps'))))).toBe('prev(m)/(ε + √v)');
    expect(toText(div(sign(sym('g')), add(abs(sym('g')), sym('eps'))))).toBe('sign(g)/(ε + |g|)');
    expect(toText(mul(num(2), sym('lambda'), sym('theta')))).toMatch(/^2·(λ·θ|θ·λ)$/);
    expect(toText(sqrt(sub(ONE, beta)))).toBe('√(1 − β)');
    expect(toText(pow(sym('beta1'), add(sym('n'), ONE)))).toBe('β₁^(n + 1)');
    expect(toText(mul(num(-1, 100000000), sym('g')))).toBe('−g/10⁸');
    expect(toText(sym('g'), { coordinate: 'j' })).toBe('gⱼ');
  });

  it('is one deterministic line for random trees', () => {
    const a = new ExprGen(rng(5));
    const b = new ExprGen(rng(5));
    for (let i = 0; i < 300; i++) {
      const s = toText(a.any(3));
      expect(s).not.toMatch(/\n|@|\*/);
      // integer powers are superscripts: never x^2 or x^(2)
      expect(s).not.toMatch(/\^(\d+(?![\d/·])|\(\d+\))/);
      expect(s).toBe(toText(b.any(3)));
    }
  });
});
