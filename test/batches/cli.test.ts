/**
 * `memloss derive --batches` and `memloss validate --batches` through main(): the printed and
 * JSON noise coefficient against a literal double sum over lags written here from the
 * heavy-ball recursion (c_j = β^j), the LaTeX through KaTeX, and the errors users see.
 */
import katex from 'katex';
import { describe, expect, it } from 'vitest';
import { main } from '../../src/cli.js';
import { mathjsWithSumOver } from '../../src/emit/mathjs-eval.js';
import { capture, hasStackFrame, lines } from '../capture.js';

/** γ(m) for heavy-ball, literally: ½[Σ_k W(k,k) − (1/(m−1)) Σ_{k≠l} (1 − |k−l|/m)₊ W(k,l)]. */
function literalGamma(beta: number, m: number, sameEpochToo = true): number {
  const K = Math.ceil(Math.log(1e-18) / Math.log(beta));
  const cum = [0];
  for (let j = 0; j <= 2 * K; j++) cum.push(cum[j]! + beta ** j);
  const W = (k: number, l: number) => beta ** k * (cum[l]! - cum[Math.max(0, l - k)]!);
  let diagonal = 0, sameEpoch = 0;
  for (let k = 1; k <= K; k++) {
    diagonal += W(k, k);
    for (let l = 1; l <= K; l++) if (l !== k && Math.abs(k - l) < m) sameEpoch += (1 - Math.abs(k - l) / m) * W(k, l);
  }
  return 0.5 * (diagonal - (sameEpochToo ? sameEpoch / (m - 1) : 0));
}

describe('memloss derive --batches', () => {
  it('text: the noise term, with γ at m and the default β matching the literal sum', async () => {
    const r = await capture(() => main(['derive', 'rules/heavy-ball.rule', '--batches', '4']));
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('E_π[M] = M_full + γ(m)·∇V');
    expect(r.stdout).toContain('V(θ) = (1/m) Σᵢ ‖∇Lᵢ(θ) − ∇L(θ)‖²');
    const printed = Number(/At m = 4 and the default parameters, γ = (\d+(?:\.\d+)?(?:e[+-]?\d+)?)/.exec(r.stdout)![1]);
    expect(printed).toBeCloseTo(literalGamma(0.9, 4), 2);
    expect(r.stdout).toMatch(/noise regularizes/);
  });

  it('json: every coefficient evaluates (mathjs) to the literal sums; the full-batch weight is β/(1−β)³', async () => {
    const r = await capture(() => main(['derive', 'rules/heavy-ball.rule', '--batches', '6', '--format', 'json']));
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout);
    const math = mathjsWithSumOver();
    const noise = doc.expectation.noise[0];
    expect(noise.name).toBe('gradient variance');
    for (const [beta, m] of [[0.3, 2], [0.7, 3], [0.9, 6], [0.95, 17]] as const) {
      const scope = { beta, [doc.symbols.batches]: m };
      expect(math.evaluate(noise.coefficient.mathjs, scope)).toBeCloseTo(literalGamma(beta, m), 8);
      expect(math.evaluate(doc.expectation.fullBatchWeight.mathjs, scope)).toBeCloseTo(beta / (1 - beta) ** 3, 8);
    }
    expect(noise.value).toBeCloseTo(literalGamma(0.9, 6), 8);
    expect(math.evaluate(noise.coefficientManyBatches.mathjs, { beta: 0.9 })).toBeCloseTo(literalGamma(0.9, 2, false), 8);
  });

  it('latex and html: every display renders in KaTeX', async () => {
    const r = await capture(() => main(['derive', 'docs/examples/qhm.rule', '--batches', '10', '--format', 'latex']));
    expect(r.code).toBe(0);
    const displays = [...r.stdout.matchAll(/\\\[\n([\s\S]*?)\n\\\]/g)].map((x) => x[1]!);
    expect(displays.length).toBeGreaterThanOrEqual(5);
    for (const tex of displays) expect(() => katex.renderToString(tex, { throwOnError: true, displayMode: true })).not.toThrow();
    const html = await capture(() => main(['derive', 'rules/nesterov.rule', '--batches', '3', '--format', 'html']));
    expect(html.code).toBe(0);
    expect(html.stdout).toContain('<math');
  });

  it('one batch: no noise', async () => {
    const r = await capture(() => main(['derive', 'rules/heavy-ball.rule', '--batches', '1', '--format', 'json']));
    expect(JSON.parse(r.stdout).expectation.noise[0].value).toBe(0);
  });

  it('an adaptive rule: one located line saying where the algebra stops, exit 1', async () => {
    const r = await capture(() => main(['derive', 'rules/adamw.rule', '--batches', '4']));
    expect(r.code).toBe(1);
    expect(lines(r.stderr)).toHaveLength(1);
    expect(r.stderr).toMatch(/^rules\/adamw\.rule:\d+:\d+: cannot derive the mini-batch correction in closed form: .*not linear/);
    expect(hasStackFrame(r.stderr)).toBe(false);
  });

  it('a matrix rule: one line saying the mini-batch correction is for coordinate-wise rules', async () => {
    for (const command of [['derive', 'rules/muon.rule', '--batches', '4'], ['validate', 'rules/muon.rule', '--problem', 'logistic', '--batches', '4']]) {
      const r = await capture(() => main(command));
      expect(r.code).toBe(1);
      expect(r.stderr).toContain('is a matrix rule; mini-batch corrections are derived for coordinate-wise rules only');
      expect(hasStackFrame(r.stderr)).toBe(false);
    }
  });

  it.each([['0'], ['2.5'], ['x']])('--batches %s is a usage error', async (m) => {
    const r = await capture(() => main(['derive', 'rules/heavy-ball.rule', '--batches', m]));
    expect(r.code).toBe(2);
    expect(lines(r.stderr)[0]).toMatch(/--batches takes a positive integer|Invalid values|must be a number|batches/);
  });
});

describe('memloss validate --batches', () => {
  it('text and JSON: second order on a reshuffled path', async () => {
    const r = await capture(() => main(['validate', 'rules/heavy-ball.rule', '--problem', 'logistic', '--batches', '8', '--order-seed', '3']));
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('logistic (dim 10, 8 batches, order seed 3');
    expect(r.stdout).toMatch(/lags kept: \d+ \(dropped relative weight [\d.]+e-1[3-9]\)/);
    expect(r.stdout).toContain('ok: second order on this batch path');
    const j = await capture(() => main(['validate', 'rules/heavy-ball.rule', '--problem', 'logistic', '--batches', '8', '--json']));
    const doc = JSON.parse(j.stdout);
    expect(doc.ok).toBe(true);
    expect(doc.results[0].slopes.pathwise).toBeGreaterThan(1.8);
    expect(doc.results[0].slopes.none).toBeLessThan(1.3);
  });

  it('errors: a problem that is not a sum, a count that does not divide, an adaptive rule', async () => {
    const quartic = await capture(() => main(['validate', 'rules/heavy-ball.rule', '--batches', '4']));
    expect(quartic.code).toBe(2);
    expect(quartic.stderr).toContain("problem 'quartic' is not a sum over samples");
    const seven = await capture(() => main(['validate', 'rules/heavy-ball.rule', '--problem', 'logistic', '--batches', '7']));
    expect(seven.code).toBe(1);
    expect(lines(seven.stderr)).toEqual(['memloss: --batches: logistic: cannot split 200 samples into 7 equal batches (give a divisor of 200)']);
    const adaptive = await capture(() => main(['validate', 'rules/rmsprop.rule', '--problem', 'logistic', '--batches', '4']));
    expect(adaptive.code).toBe(1);
    expect(adaptive.stderr).toMatch(/^rules\/rmsprop\.rule:\d+:\d+: cannot derive the mini-batch correction/m);
  });
});
