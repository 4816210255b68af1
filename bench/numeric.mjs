// npm run bench:numeric — ns per parameter of the generated AdamW `step` and
// `memorylessStep` against a hand-written fused loop in the same process (goal: the
// generated step within 1.2× of the hand-written one), at dim 1e6 and 1e7.
import { readFileSync } from 'node:fs';
import { parseRule, derive } from '../dist/index.js';
import { loadOptimizer } from '../dist/numeric/compile.js';
import { HAND } from './hand-written.mjs';

const ROUNDS = Number(process.env.ROUNDS ?? 7);
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const file = 'rules/adamw.rule';
const rule = parseRule(readFileSync(file, 'utf8'), file);
const mod = loadOptimizer(rule, derive(rule, { exactN: true }));
const hyper = { beta1: 0.9, beta2: 0.999, eps: 1e-8, lambda: 0.01 };


for (const dim of [1e6, 1e7]) {
  const theta = new Float64Array(dim).map((_, i) => Math.sin(i));
  const grad = new Float64Array(dim).map((_, i) => Math.cos(i) * 0.1);
  const state = mod.init(dim);
  const m = new Float64Array(dim);
  const v = new Float64Array(dim);
  const identity = (x) => x; // H = I: measures the module's own work, not a problem's HVP
  // interleaved rounds, so drift and memory effects hit both loops alike; medians per loop
  let n = 0;
  const once = (f) => { const t0 = performance.now(); f(); return ((performance.now() - t0) * 1e6) / dim; };
  const runHand = () => HAND.adamw(theta, grad, { m, v }, n++, 1e-3, hyper);
  const runGen = () => mod.step(theta, grad, state, 1e-3, hyper);
  const runMless = () => mod.memorylessStep(theta, grad, identity, 1e-3, hyper, 100);
  for (let i = 0; i < 3; i++) { runHand(); runGen(); runMless(); } // warm-up: JIT and first touch
  const hands = [], gens = [], mlesses = [];
  for (let r = 0; r < ROUNDS; r++) {
    hands.push(once(runHand));
    gens.push(once(runGen));
    mlesses.push(once(runMless));
  }
  const baseline = median(hands);
  const gen = median(gens);
  const mless = median(mlesses);
  console.log(`dim ${dim.toExponential(0)}: hand-written ${baseline.toFixed(2)} ns/param, generated step ${gen.toFixed(2)} ns/param (ratio ${(gen / baseline).toFixed(2)}, goal ≤ 1.20), memorylessStep ${mless.toFixed(2)} ns/param`);
}
