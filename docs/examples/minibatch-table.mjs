// The heavy-ball table of docs/minibatch.md (run after `npm ci`, which builds dist/):
// the penalty weight per unit h that mini-batch noise puts on the gradient variance V,
// γ(m)/C, against the full-batch weight β/(2(1−β)²) on ‖∇L‖².
import { readFileSync } from 'node:fs';
import { parseRule, derive, deriveBatches, evaluate } from 'memloss';

const file = 'rules/heavy-ball.rule';
const b = deriveBatches(derive(parseRule(readFileSync(file, 'utf8'), file)), 10);
const m = b.batchSymbol;
const cell = (x) => x.toPrecision(3).padStart(9);
console.log('    β   full batch   m = 2    m = 10   m = 100   m → ∞');
for (const beta of [0.5, 0.9, 0.99]) {
  const C = evaluate(b.gradientCoefficient, { beta });
  const noise = [2, 10, 100].map((batches) => evaluate(b.noiseCoefficient, { beta, [m]: batches }) / C);
  const many = evaluate(b.noiseCoefficientManyBatches, { beta }) / C;
  console.log(`${String(beta).padStart(5)} ${cell(beta / (2 * (1 - beta) ** 2))}   ${noise.map(cell).join('')}${cell(many)}`);
}
