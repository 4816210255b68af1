// The library example of docs/tutorial.md (run after `npm ci`, which builds dist/).
import { readFileSync } from 'node:fs';
import { parseRule, derive, evaluate } from 'memloss';

const file = 'docs/examples/qhm.rule';
const d = derive(parseRule(readFileSync(file, 'utf8'), file), { exactN: true });
const [term] = d.asymptotic.M; // M = weight ∘ H·field
const env = { beta: 0.9, nu: 0.5, g: 0.2, theta: 1 };
console.log('weight of H·g at β = 0.9, ν = 0.5:', evaluate(term.weight, env)); // 0.9·0.5/0.1 = 4.5
console.log('verdict:', d.interpretation.verdict.kind);
