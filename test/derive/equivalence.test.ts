/** Equivalences between related optimizers (house style): each derived separately, compared as values. */
import { describe, expect, it } from 'vitest';
import { derive } from '../../src/derive/index.js';
import { parseRule } from '../../src/parse/rule-file.js';
import { evalCorrection, field, loadRule, maxRelDiff, mulberry32, paramEnv, randomInstance } from './helpers.js';

const rmspropBiasCorrected = parseRule(`optimizer RMSProp (bias-corrected)
param beta2 = 0.999 in (0, 1)
param eps = 1e-8 in [0, inf)
state v = beta2 * v + (1 - beta2) * g^2
update g / (sqrt(v / (1 - beta2^(n+1))) + eps)
`, 'rmsprop-bc.rule');

function same(a: ReturnType<typeof derive>, b: ReturnType<typeof derive>, envA: Record<string, number>, envB: Record<string, number>, n?: number) {
  const rand = mulberry32(3);
  for (let i = 0; i < 4; i++) {
    const inst = randomInstance(rand);
    const ra = n === undefined ? a.asymptotic : (a.exactN as any);
    const rb = n === undefined ? b.asymptotic : (b.exactN as any);
    const ea = { ...envA, ...(n === undefined ? {} : { n }) };
    const eb = { ...envB, ...(n === undefined ? {} : { n }) };
    expect(maxRelDiff(evalCorrection(ra.M, inst, ea), evalCorrection(rb.M, inst, eb))).toBeLessThan(1e-12);
    expect(maxRelDiff(field(ra.F, inst, ea), field(rb.F, inst, eb))).toBeLessThan(1e-12);
  }
}

describe('equivalences', () => {
  it('AdamW with λ = 0 equals Adam (asymptotic and exact n = 5)', () => {
    const adamw = derive(loadRule('rules/adamw.rule'), { exactN: true });
    const adam = derive(loadRule('rules/adam.rule'), { exactN: true });
    const env = { ...paramEnv(loadRule('rules/adam.rule'), { eps: 0.05, beta2: 0.7 }) };
    same(adamw, adam, { ...env, lambda: 0 }, env);
    same(adamw, adam, { ...env, lambda: 0 }, env, 5);
  });
  it('Adam with β₁ = 0 equals bias-corrected RMSProp', () => {
    const adam = derive(loadRule('rules/adam.rule'), { exactN: true });
    const rms = derive(rmspropBiasCorrected, { exactN: true });
    same(adam, rms, { beta1: 0, beta2: 0.8, eps: 0.1 }, { beta2: 0.8, eps: 0.1 });
    same(adam, rms, { beta1: 0, beta2: 0.8, eps: 0.1 }, { beta2: 0.8, eps: 0.1 }, 4);
  });
  it('heavy-ball with β = 0 equals GD: M = 0', () => {
    const hb = derive(loadRule('rules/heavy-ball.rule'));
    const inst = randomInstance(mulberry32(1));
    const M = evalCorrection(hb.asymptotic.M, inst, { beta: 0 });
    expect(Math.max(...M.map(Math.abs))).toBe(0);
    expect([...field(hb.asymptotic.F, inst, { beta: 0 })]).toEqual([...inst.g]);
  });
});
