// npm run bench:problems — cost of the test problems' exact gradient and Hessian-vector
// product: median ns per call over rounds, and the ratio hvp/grad (goal: ≤ 4, a Hessian-vector
// product at most four gradients, as forward-over-reverse promises).
import { PROBLEMS, problemNames } from '../dist/numeric/problems/index.js';

const ROUNDS = 21;
const ROUND_MS = 20; // each round times enough calls to last about this long
const GOAL = 4;
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** How many calls of f last about ROUND_MS (warming f up on the way). */
function callsPerRound(f) {
  let calls = 1;
  for (;;) {
    const t0 = performance.now();
    for (let i = 0; i < calls; i++) f();
    if (performance.now() - t0 >= ROUND_MS) return calls;
    calls *= 2;
  }
}

/** ns per call of f, timed over one batch of `calls` calls. */
function timeBatch(f, calls) {
  const t0 = performance.now();
  for (let i = 0; i < calls; i++) f();
  return ((performance.now() - t0) * 1e6) / calls;
}

/**
 * Median ns per call for each function, timed in interleaved rounds (one batch of each per
 * round), and the median of the per-round ratios fs[i]/fs[0]: load on the machine then
 * weighs on a ratio's numerator and denominator alike.
 */
function measure(fs) {
  const calls = fs.map(callsPerRound);
  const times = fs.map(() => []);
  for (let r = 0; r < ROUNDS; r++) fs.forEach((f, i) => times[i].push(timeBatch(f, calls[i])));
  return {
    ns: times.map(median),
    min: times.map((t) => Math.min(...t)),
    ratio: times.map((t) => median(t.map((x, r) => x / times[0][r]))),
  };
}

const rows = [];
let sink = 0; // keeps the results observable so no call is optimised away
for (const name of problemNames()) {
  const P = PROBLEMS[name]({ seed: 0 });
  const theta = P.initial(0);
  const v = P.grad(theta, new Float64Array(P.dim)).map((x, i) => x + Math.sin(i));
  const g = new Float64Array(P.dim), hv = new Float64Array(P.dim);
  const { ns, min, ratio } = measure([
    () => { sink += P.grad(theta, g)[0]; },
    () => { sink += P.hvp(theta, v, hv)[0]; },
    () => { sink += P.loss(theta); },
  ]);
  rows.push({ name, dim: P.dim, grad: ns[0], hvp: ns[1], loss: ns[2], ratio: ratio[1], minRatio: min[1] / min[0] });
}

const fmt = (x) => x.toFixed(0).padStart(10);
console.log(`problem    ${'dim'.padStart(5)} ${'ns/loss'.padStart(10)} ${'ns/grad'.padStart(10)} ${'ns/hvp'.padStart(10)}  hvp/grad  (of minima)`);
for (const r of rows) {
  const ok = r.ratio <= GOAL ? 'ok' : `OVER ${GOAL}×`;
  console.log(`${r.name.padEnd(10)} ${String(r.dim).padStart(5)} ${fmt(r.loss)} ${fmt(r.grad)} ${fmt(r.hvp)}  ${r.ratio.toFixed(2).padStart(8)}  ${r.minRatio.toFixed(2).padStart(11)}  ${ok}`);
}
console.log(`medians over ${ROUNDS} interleaved rounds of ~${ROUND_MS} ms per function; hvp/grad is the median per-round ratio (goal ≤ ${GOAL}), then the ratio of the fastest rounds${Number.isFinite(sink) ? '' : ' (non-finite results!)'}`);
if (rows.some((r) => r.ratio > GOAL)) process.exitCode = 1;
