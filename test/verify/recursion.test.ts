// The exact finite-n regime by the recursion (src/derive/recursion.ts, src/emit/recursion-code.ts):
// rules whose constant-history values are not exponential polynomials have no exact closed
// form, and their generated modules run the rule with tangents instead. Checked here against
// the oracle at every n the issue names, at equal rates, past the lag window, and by validate.
import { describe, expect, it } from 'vitest';
import { parseRule } from '../../src/parse/rule-file.js';
import { derive } from '../../src/derive/index.js';
import { loadOptimizer } from '../../src/numeric/compile.js';
import { verifyModule } from '../../src/numeric/verify-module.js';
import { oracleDirection } from '../../src/numeric/oracle.js';
import { samplePoint } from '../../src/verify/sample.js';
import { ruleFacts, runValidation, validationParams } from '../../src/numeric/validate.js';
import { agreement, maxRel } from './agreement.js';
import { PROBLEMS } from '../../src/numeric/problems/index.js';

// PyTorch's RMSprop(momentum=mu): the momentum buffer accumulates the normalized gradient
const RMSPROP_MOMENTUM = `optimizer RMSPropMomentum
param alpha = 0.99 in (0, 1)
param mu = 0.9 in (0, 1)
param eps = 1e-8 in [0, inf)
state v = alpha*v + (1 - alpha)*g^2
state b = mu*b + g/(sqrt(v) + eps)
update b
`;

// LaProp (Ziyin et al., 2020): momentum over the normalized gradient, both bias-corrected
const LAPROP = `optimizer LaProp
param beta1 = 0.9 in (0, 1)
param beta2 = 0.999 in (0, 1)
param eps = 1e-8 in [0, inf)
state v = beta2*v + (1 - beta2)*g^2
state m = beta1*m + (1 - beta1)*g/(sqrt(v/(1 - beta2^(n+1))) + eps)
update m/(1 - beta1^(n+1))
`;

describe('the exact finite-n regime by the recursion', () => {
  for (const [name, source, equal] of [['RMSProp with momentum', RMSPROP_MOMENTUM, { alpha: 0.9, mu: 0.9 }], ['LaProp', LAPROP, { beta1: 0.999, beta2: 0.999 }]] as const) {
    it(`${name}: no closed form, and the module's F⁽ⁿ⁾ and M⁽ⁿ⁾ agree with the oracle to 1e-9 at n = 0 … 10⁴, rates equal included`, () => {
      const { rule, d, mod, worst } = agreement(source, {}, [0, 1, 2, 3, 10, 100, 10_000]);
      expect(d.exactN).toMatchObject({ unavailable: expect.stringMatching(/not an exponential polynomial in the lag/), recursion: expect.anything() });
      expect(worst).toBeLessThan(1e-9);
      expect(agreement(source, equal, [1, 3, 100]).worst).toBeLessThan(1e-9);
      // every draw of the verification stage, rates near 1 included
      expect(verifyModule(rule, d, mod).regimes).toEqual(['asymptotic', 'exact-n']);
    });
  }

  it('lags beyond the window are dropped within the stated tail (n = 3000 at μ = 0.5: a window of about 70 lags)', () => {
    expect(agreement(RMSPROP_MOMENTUM, { alpha: 0.5, mu: 0.5 }, [3000]).worst).toBeLessThan(1e-12);
  });

  it('validate runs on it: slope ≈ 2 with the exact M, ≈ 1 without', () => {
    const rule = parseRule(RMSPROP_MOMENTUM, 'rmsprop-momentum.rule');
    const d = derive(rule, { exactN: true, verify: true });
    const hs = [0.02, 0.01, 0.005];
    const hyper = Object.fromEntries(validationParams(rule, d, hs, {}).map((p) => [p.name, p.value]));
    const r = runValidation({ module: loadOptimizer(rule, d), problem: PROBLEMS['quartic']!({ seed: 1 }), hs, horizon: 2, hyper, facts: ruleFacts(rule, d, hyper) });
    expect(r.slopes.exact).toBeGreaterThan(1.8);
    expect(r.slopes.none).toBeLessThan(1.3);
  });

  it('with --limit eps the recursion runs with eps = 0', () => {
    const rule = parseRule(RMSPROP_MOMENTUM, 'rmsprop-momentum.rule');
    const d = derive(rule, { exactN: true, limits: ['eps'] });
    const mod = loadOptimizer(rule, d);
    const p = samplePoint(5);
    const input = { rule, params: { eps: 0 }, theta: p.theta, g: p.g, hessian: p.hessian, n: 7 };
    expect(maxRel(mod.direction(p.theta, p.g, { eps: 1 }, 7), oracleDirection(input))).toBeLessThan(1e-12);
  });
});
