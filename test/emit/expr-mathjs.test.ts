import { describe, expect, it } from 'vitest';
import * as E from '../../src/ir/expr.js';
import { evaluate, type Env } from '../../src/ir/eval.js';
import { mathjsName, toMathjs } from '../../src/emit/expr-mathjs.js';
import { mathjsWithSumOver } from '../../src/emit/mathjs-eval.js';
import { ExprGen, randomEnv, rng } from './random-expr.js';

const math = mathjsWithSumOver();

/** The mathjs scope of an IR environment (m@prev is spelled m_prev). */
const scope = (env: Env) => Object.fromEntries(Object.entries(env).map(([k, v]) => [mathjsName(k), v]));

const close = (a: number, b: number, rel = 1e-12) => Math.abs(a - b) <= rel * Math.max(Math.abs(a), Math.abs(b), Number.MIN_VALUE);

describe('toMathjs', () => {
  it('parses back to the same value on 2000 seeded random trees', () => {
    const r = rng(20250207);
    const gen = new ExprGen(r);
    let checked = 0;
    for (let i = 0; i < 2000; i++) {
      const e = gen.any(1 + (i % 4));
      const env = randomEnv(r);
      const want = evaluate(e, env);
      if (!Number.isFinite(want)) continue;
      const s = toMathjs(e);
      const got = math.evaluate(s, scope(env)) as number;
      expect(typeof got, s).toBe('number');
      if (!close(want, got)) expect.fail(`${s}: evaluate ${want}, mathjs ${got}`);
      checked++;
    }
    expect(checked).toBeGreaterThan(1900);
  });

  it('writes numbers exactly, never as rounded decimals', () => {
    const e = E.mul(E.num(1, 100000000), E.sym('g'));
    expect(toMathjs(e)).toBe('g / 100000000');
    expect(toMathjs(E.num(-3, 4))).toBe('-3/4');
    expect(toMathjs(E.pow(E.num(3, 4), E.sym('n')))).toBe('(3/4)^n');
    expect(toMathjs(E.pow(E.sym('x'), E.num(3, 4)))).toBe('x^(3/4)');
    expect(math.evaluate(toMathjs(E.num(1, 3)))).toBe(1 / 3);
  });

  it('uses - / sqrt and the IR function names', () => {
    const b = E.sym('beta');
    expect(toMathjs(E.div(b, E.pow(E.sub(E.ONE, b), E.num(3))))).toBe('beta / (1 - beta)^3');
    expect(toMathjs(E.div(E.sym('m@prev'), E.add(E.sqrt(E.sym('v')), E.sym('eps'))))).toBe('m_prev / (eps + sqrt(v))');
    expect(toMathjs(E.mul(E.sign(E.sym('g')), E.call('exp', E.call('log', E.abs(E.sym('x'))))))).toBe('abs(x) * sign(g)');
  });

  it('evaluates sumOver as a finite sum with the index bound over integers', () => {
    const k = E.sym('k');
    const e = E.sum('k', E.ONE, E.sym('n'), E.mul(k, E.pow(E.sym('beta'), k)));
    const s = toMathjs(e);
    expect(s).toMatch(/^sumOver\(k, 1, n, /);
    const env = { beta: 0.9, n: 12 };
    expect(math.evaluate(s, env)).toBeCloseTo(evaluate(e, env), 12);
    // nested sums, an empty range, and the index shadowing an outer variable of the same name
    expect(math.evaluate('sumOver(i, 1, 3, sumOver(j, 1, i, j))')).toBe(10);
    expect(math.evaluate('sumOver(i, 5, 4, i)')).toBe(0);
    expect(math.evaluate('sumOver(k, 1, 2, k) + k', { k: 100 })).toBe(103);
  });

  it('refuses a symbol mathjs would read as something else', () => {
    expect(() => toMathjs(E.sym('mod'))).toThrow(/mathjs/);
    expect(() => toMathjs(E.sym('sqrt'))).toThrow(/mathjs/);
    expect(() => toMathjs(E.add(E.sym('m@prev'), E.sym('m_prev')))).toThrow(/both print/);
  });
});
