// The pathwise memoryless iteration of docs/minibatch.md (run after `npm ci`, which builds dist/).
import { readFileSync } from 'node:fs';
import { parseRule, derive } from 'memloss';
import { loadOptimizer, createLogistic, PathwiseMemoryless, reshuffledOrder } from 'memloss/numeric';

const file = 'rules/heavy-ball.rule';
const rule = parseRule(readFileSync(file, 'utf8'), file);
const module = loadOptimizer(rule, derive(rule, { exactN: true }));
const problem = createLogistic({ batches: 8 }); // batchGrad(i, θ, out), batchHvp(i, θ, v, out)
const hyper = { beta: 0.5 };
const pathwise = new PathwiseMemoryless(module, problem, { hyper });
const order = reshuffledOrder(8, 1); // random reshuffling, seed 1
const h = 0.01;
const theta = problem.initial(1), tilde = theta.slice(), grad = new Float64Array(problem.dim);
const state = module.init(problem.dim);
let gap = 0;
for (let n = 0; n < 200; n++) {
  module.step(theta, problem.batchGrad(order(n), theta, grad), state, h, hyper); // the optimizer
  pathwise.step(tilde, order, n, h); // θ̃ −= h·(F⁽ⁿ⁾ + h·M⁽ⁿ⁾) on the same batch order
  for (let j = 0; j < theta.length; j++) gap = Math.max(gap, Math.abs(theta[j] - tilde[j]));
}
console.log(`lags kept: ${pathwise.truncation.lags}; max gap over 200 steps at h = ${h}: ${gap.toExponential(2)}`);
