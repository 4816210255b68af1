/** Shared by the mini-batch tests: rules linear in the gradients, dense batch Hessians. */
import { parseRule } from '../../src/parse/rule-file.js';
import type { Rule } from '../../src/ir/rule.js';
import type { FiniteSumProblem } from '../../src/numeric/types.js';
import { loadRule } from '../derive/helpers.js';

/** Rules linear in the gradients that no code special-cases: θ-lags, bias correction, two states. */
const EXTRA_RULES = {
  'momentum-l2-inside': `optimizer Momentum with L2 inside the buffer
param beta = 0.7 in (0, 1)
param lam = 0.3 in (0, inf)
state b = beta * b + g + lam * theta
update b + 0.5 * lam * theta
`,
  'debiased-ema': `optimizer Debiased EMA
param beta = 0.6 in (0, 1)
state m = beta * m + (1 - beta) * g
update m / (1 - beta^(n+1))
`,
  'two-timescale': `optimizer Two-timescale momentum
param a = 0.5 in (0, 1)
param b = 0.8 in (0, 1)
state u = a * u + g
state w = b * w + u
update (1 - b) * w + 0.25 * g
`,
};

/** The rules with the hyperparameters used here (QHM's β = 0.999 would need ~30000 lags). */
export const linearRules = (): [Rule, Record<string, number>][] => [
  [loadRule('rules/heavy-ball.rule'), {}],
  [loadRule('rules/nesterov.rule'), {}],
  [loadRule('docs/examples/qhm.rule'), { beta: 0.8 }],
  ...Object.entries(EXTRA_RULES).map(([name, text]) => [parseRule(text, `${name}.rule`), {}] as [Rule, Record<string, number>]),
];

/** Dense per-batch Hessians, row-major, from the problem's exact batch H·v. */
export function batchHessians(p: FiniteSumProblem, theta: Float64Array): Float64Array[] {
  const d = p.dim;
  return Array.from({ length: p.batches }, (_, b) => {
    const H = new Float64Array(d * d), e = new Float64Array(d), out = new Float64Array(d);
    for (let j = 0; j < d; j++) {
      e.fill(0);
      e[j] = 1;
      p.batchHvp(b, theta, e, out);
      for (let i = 0; i < d; i++) H[i * d + j] = out[i]!;
    }
    return H;
  });
}

