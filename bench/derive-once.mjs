// Loads memloss, derives one rule once and prints the times (ms) as JSON: the first
// derivation in a fresh process, JIT warm-up included, which is what a user waits for.
import { readFileSync } from 'node:fs';
const t0 = performance.now();
const { parseRule, derive } = await import('../dist/index.js');
const t1 = performance.now();
derive(parseRule(readFileSync(process.argv[2], 'utf8'), process.argv[2]));
const t2 = performance.now();
console.log(JSON.stringify({ load: t1 - t0, derive: t2 - t1 }));
