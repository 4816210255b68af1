// The validation runner (docs/theory.md §2, §8.2) on a hand-written heavy-ball module and a
// quadratic written here, so these tests share no code with the generated modules or the
// library's problems; then the slope helpers, the diagnosis, the validation parameters and
// the plot.
import { describe, expect, it } from 'vitest';
import { parseRule } from '../../src/parse/rule-file.js';
import { derive } from '../../src/derive/index.js';
import { fitSlope, observedOrders } from '../../src/numeric/slopes.js';
import {
  judge, ruleFacts, runValidation, validationParams, formatValidation, validationJson,
  type RuleFacts, type StepSizeRun, type ValidationResult,
} from '../../src/numeric/validate.js';
import { plotRows, plotSpec, renderPlot } from '../../src/numeric/plot.js';
import { progressBar } from '../../src/numeric/progress.js';
import type { Hvp, Hyper, OptimizerModule, Problem } from '../../src/numeric/types.js';

/**
 * Heavy-ball, m ← βm + g, θ −= h·m, with the memoryless forms worked out by hand (docs/theory.md §5):
 * F⁽ⁿ⁾ = (1−βⁿ⁺¹)/(1−β)·g; exact M⁽ⁿ⁾ = Σ_{k=1}^{n} βᵏ H Dₖ with Dₖ = Σ_{s=n−k}^{n−1} F⁽ˢ⁾, summed
 * literally; asymptotic M = β/(1−β)³·H g.
 */
function heavyBall(defaultBeta = 0.5): OptimizerModule {
  const betaOf = (hyper?: Partial<Hyper>) => hyper?.['beta'] ?? defaultBeta;
  const scaled = (c: number, x: Float64Array) => x.map((v) => c * v);
  const module: OptimizerModule = {
    name: 'Heavy-ball (hand-written)',
    defaults: { beta: defaultBeta },
    init: (dim) => ({ n: 0, arrays: { m: new Float64Array(dim) } }),
    step(theta, grad, state, h, hyper) {
      const b = betaOf(hyper);
      const m = state.arrays['m']!;
      for (let j = 0; j < theta.length; j++) {
        m[j] = b * m[j]! + grad[j]!;
        theta[j] = theta[j]! - h * m[j]!;
      }
      state.n++;
    },
    direction(_theta, grad, hyper, n) {
      const b = betaOf(hyper);
      return scaled(n === undefined ? 1 / (1 - b) : (1 - b ** (n + 1)) / (1 - b), grad);
    },
    correction(_theta, grad, hvp: Hvp, hyper, n) {
      const b = betaOf(hyper);
      let c = 0;
      if (n === undefined) c = b / (1 - b) ** 3;
      else
        for (let k = 1, d = 0; k <= n; k++) {
          d += (1 - b ** (n - k + 1)) / (1 - b); // Dₖ/g = Dₖ₋₁/g + F⁽ⁿ⁻ᵏ⁾/g: the term s = n − k joins the sum
          c += b ** k * d;
        }
      return scaled(c, hvp(grad));
    },
    memorylessStep(theta, grad, hvp, h, hyper, n) {
      const F = module.direction(theta, grad, hyper, n);
      const M = module.correction(theta, grad, hvp, hyper, n);
      for (let j = 0; j < theta.length; j++) theta[j] = theta[j]! - h * (F[j]! + h * M[j]!);
    },
  };
  return module;
}

/** L(θ) = ½ θᵀAθ with a fixed symmetric positive definite A. */
function quadratic(): Problem {
  const A = [[2, 0.5, 0], [0.5, 1, -0.3], [0, -0.3, 0.5]];
  const mul = (v: Float64Array, out: Float64Array) => {
    for (let i = 0; i < 3; i++) out[i] = A[i]![0]! * v[0]! + A[i]![1]! * v[1]! + A[i]![2]! * v[2]!;
    return out;
  };
  return {
    name: 'test-quadratic',
    dim: 3,
    initial: (seed = 0) => Float64Array.from([1, -0.5, 0.75 + 0.01 * seed]),
    loss: (theta) => 0.5 * theta.reduce((s, t, i) => s + t * mul(theta, new Float64Array(3))[i]!, 0),
    grad: (theta, out) => mul(theta, out),
    hvp: (_theta, v, out) => mul(v, out),
  };
}

const HS = [0.02, 0.01, 0.005, 0.0025];
const hbFacts = (beta: number): RuleFacts => ({ decays: [{ state: 'm', value: beta }], readsAbsOrSign: false, smoothingParams: [], mVanishes: false });

describe('runValidation', () => {
  const progress: [number, number][] = [];
  const r = runValidation({
    module: heavyBall(), problem: quadratic(), hs: HS, horizon: 2, seed: 1, facts: hbFacts(0.5),
    onProgress: (done, total) => progress.push([done, total]),
  });

  it('shows order 2 with the exact M and order 1 without M', () => {
    expect(r.slopes.exact).toBeGreaterThanOrEqual(1.8);
    expect(r.slopes.exact).toBeLessThanOrEqual(2.3);
    expect(r.slopes.none).toBeGreaterThanOrEqual(0.8);
    expect(r.slopes.none).toBeLessThanOrEqual(1.3);
    expect(r.slopes.asymptotic).toBeGreaterThan(1.5); // the burn-in error of the asymptotic M sums to O(h²)
    expect(r.verdict).toMatchObject({ ok: true, diagnosis: 'second-order' });
  });

  it('runs round(T/h) steps per step size, largest first, and records every gap', () => {
    expect(r.runs.map((run) => [run.h, run.steps])).toEqual([[0.02, 100], [0.01, 200], [0.005, 400], [0.0025, 800]]);
    for (const run of r.runs) {
      expect(run.gap.exact).toBeGreaterThan(0);
      expect(run.gap.exact).toBeLessThan(run.gap.none);
      expect(run.nonFinite).toEqual({ exact: null, asymptotic: null, none: null });
    }
    expect(r.orders.exact).toHaveLength(3);
    expect(r.hyper).toEqual({ beta: 0.5 });
    expect(r.memoryLeft[0]!.value).toBeCloseTo(0.5 ** 800, 300);
  });

  it('reports progress up to the total, never backwards', () => {
    expect(progress[0]).toEqual([0, 1500]);
    expect(progress[progress.length - 1]).toEqual([1500, 1500]);
    for (let i = 1; i < progress.length; i++) expect(progress[i]![0]).toBeGreaterThanOrEqual(progress[i - 1]![0]);
    expect(progress.length).toBeLessThan(300); // not on every step
  });

  it('starts from problem.initial(seed)', () => {
    const other = runValidation({ module: heavyBall(), problem: quadratic(), hs: [0.02, 0.01], horizon: 0.5, seed: 7 });
    const same = runValidation({ module: heavyBall(), problem: quadratic(), hs: [0.02, 0.01], horizon: 0.5, seed: 7 });
    expect(other.runs[0]!.gap).toEqual(same.runs[0]!.gap);
    expect(other.seed).toBe(7);
  });

  it('uses the given hyperparameters over the module defaults', () => {
    const r9 = runValidation({ module: heavyBall(), problem: quadratic(), hs: [0.01, 0.005], horizon: 0.5, hyper: { beta: 0.9 } });
    expect(r9.hyper).toEqual({ beta: 0.9 });
    expect(r9.runs[0]!.gap.exact).not.toEqual(r.runs[1]!.gap.exact);
  });

  it('says when the iteration leaves the finite numbers (h too large)', () => {
    const blown = runValidation({ module: heavyBall(0.9), problem: quadratic(), hs: [2, 1], horizon: 200 });
    expect(blown.verdict).toMatchObject({ ok: false, diagnosis: 'diverged' });
    expect(blown.runs[0]!.gap.exact).toBe(Infinity);
  });

  it('names a non-finite F⁽ⁿ⁾ from the module as a bug, not as divergence', () => {
    const broken: OptimizerModule = { ...heavyBall(), direction: (t, g, hyper, n) => (n !== undefined && n >= 50 ? g.map(() => NaN) : heavyBall().direction(t, g, hyper, n)) };
    const b = runValidation({ module: broken, problem: quadratic(), hs: [0.02, 0.01], horizon: 2 });
    expect(b.verdict).toMatchObject({ ok: false, diagnosis: 'non-finite-form' });
    expect(b.verdict.reason).toContain('n = 50');
    expect(b.runs[0]!.nonFinite.exact).toEqual({ step: 50, cause: 'direction' });
  });

  it('rejects bad step sizes and horizons', () => {
    const base = { module: heavyBall(), problem: quadratic() };
    expect(() => runValidation({ ...base, hs: [0.01], horizon: 1 })).toThrow(/two distinct/);
    expect(() => runValidation({ ...base, hs: [0.01, -1], horizon: 1 })).toThrow(/positive/);
    expect(() => runValidation({ ...base, hs: [0.01, 0.02], horizon: 0 })).toThrow(/horizon/);
    expect(() => runValidation({ ...base, hs: [0.01, 5], horizon: 1 })).toThrow(/longer than the horizon/);
  });

  it('prints a table with the gaps, the orders and the slopes, and JSON without NaN', () => {
    const text = formatValidation(r);
    expect(text).toMatch(/^test-quadratic \(dim 3, seed 1, horizon 2, /);
    expect(text).toContain('gap exact M');
    expect(text).toContain(r.runs[3]!.gap.exact.toExponential(2));
    expect(text).toContain(`slope with exact M ${r.slopes.exact.toFixed(2)}`);
    const json = JSON.parse(validationJson({ ...r, slopes: { ...r.slopes, none: NaN } })) as ValidationResult;
    expect(json.slopes.none).toBeNull();
    expect(json.runs).toHaveLength(4);
  });
});

describe('slopes and observed orders', () => {
  it('recover p exactly from gap = C·hᵖ', () => {
    const hs = [0.1, 0.05, 0.025, 0.0125];
    for (const p of [1, 2, 2.5]) {
      const gaps = hs.map((h) => 3 * h ** p);
      expect(fitSlope(hs, gaps)).toBeCloseTo(p, 12);
      for (const o of observedOrders(hs, gaps)) expect(o).toBeCloseTo(p, 12);
    }
  });

  it('use log(gᵢ/gᵢ₊₁)/log(hᵢ/hᵢ₊₁) for any ratio of step sizes', () => {
    expect(observedOrders([0.3, 0.1], [0.09, 0.01])).toEqual([Math.log(9) / Math.log(3)]);
    expect(observedOrders([0.02, 0.01], [4e-4, 1e-4])[0]).toBeCloseTo(2, 12); // log₂ of the ratio when h halves
  });

  it('fit the least-squares line through noisy points', () => {
    // log g = 1 + 2 log h + (+ε, −ε, −ε, +ε): the symmetric noise leaves the slope at 2
    const hs = [1, Math.E, Math.E ** 2, Math.E ** 3];
    const gaps = hs.map((h, i) => Math.exp(1 + 2 * Math.log(h) + (i === 0 || i === 3 ? 0.1 : -0.1)));
    expect(fitSlope(hs, gaps)).toBeCloseTo(2, 12);
  });

  it('skip gaps that have no logarithm', () => {
    expect(fitSlope([0.1, 0.05, 0.025], [0, 0.01, 0.0025])).toBeCloseTo(2, 12);
    expect(fitSlope([0.1, 0.05], [0, 0.01])).toBeNaN();
    expect(observedOrders([0.1, 0.05, 0.025], [0.04, 0, 0.0025])).toEqual([NaN, NaN]);
    expect(observedOrders([0.1, 0.1], [0.04, 0.01])).toEqual([NaN]);
    expect(() => fitSlope([0.1], [1, 2])).toThrow();
  });
});

describe('diagnosis of a failing run', () => {
  /** A measured result with the given exact and no-M gaps at h = 0.02 … 0.0025 (N = 100 … 800). */
  function measured(exact: number[], none: number[], extra: Partial<Pick<ValidationResult, 'crossings' | 'memoryLeft'>> = {}, firstGapStep = 2) {
    const runs: StepSizeRun[] = HS.map((h, i) => ({
      h, steps: Math.round(2 / h),
      gap: { exact: exact[i]!, asymptotic: exact[i]!, none: none[i]! },
      firstGapStep: { exact: firstGapStep, asymptotic: firstGapStep, none: 1 },
      nonFinite: { exact: null, asymptotic: null, none: null },
    }));
    const e = runs.map((r) => r.gap.exact);
    const n = runs.map((r) => r.gap.none);
    return {
      problem: 'p', dim: 2, seed: 1, horizon: 2, hyper: {}, runs,
      orders: { exact: observedOrders(HS, e), asymptotic: observedOrders(HS, e), none: observedOrders(HS, n) },
      slopes: { exact: fitSlope(HS, e), asymptotic: fitSlope(HS, e), none: fitSlope(HS, n) },
      crossings: [], memoryLeft: [], ...extra,
    };
  }
  const facts = (over: Partial<RuleFacts> = {}): RuleFacts => ({ decays: [], readsAbsOrSign: false, smoothingParams: [], mVanishes: false, ...over });
  const first = [1e-2, 5e-3, 2.5e-3, 1.25e-3];

  it('passes at slope ≥ 1.8, and when the iterations agree to rounding', () => {
    expect(judge(measured([4e-4, 1e-4, 2.5e-5, 6.25e-6], first), facts(), 1)).toMatchObject({ ok: true, diagnosis: 'second-order' });
    expect(judge(measured([0, 1e-17, 0, 0], [0, 0, 0, 0]), facts(), 1)).toMatchObject({ ok: true, diagnosis: 'exact' });
  });

  it('names exact sign on the memory path plainly', () => {
    const v = judge(measured(first, first), facts({ signOnMemoryPath: 'sign(m) lies on the memory path', mVanishes: true }), 1);
    expect(v).toMatchObject({ ok: false, diagnosis: 'sign-on-memory-path' });
    expect(v.reason).toMatch(/not a bug/);
  });

  it('names a non-smooth update: the gap with M equals the gap without M', () => {
    expect(judge(measured(first, first), facts(), 1)).toMatchObject({ ok: false, diagnosis: 'non-smooth' });
  });

  it('names a non-smooth update: the gap is 0 for a while, then jumps', () => {
    const v = judge(measured(first, first.map((g) => 2 * g), {}, 400), facts(), 1); // step 400 of 800 at the smallest h
    expect(v).toMatchObject({ ok: false, diagnosis: 'non-smooth' });
    expect(v.reason).toContain('stays at 0 until t = 1.000');
  });

  it('names a non-smooth update: a sign argument crosses zero in a rule that reads abs or sign', () => {
    const m = measured([1e-2, 4e-3, 1e-3, 5e-4], first.map((g) => 3 * g), { crossings: [{ array: 'g', coordinates: 2, firstTime: 0.5 }] });
    const v = judge(m, facts({ readsAbsOrSign: true, smoothingParams: [{ name: 'eps', value: 0.2 }] }), 1);
    expect(v).toMatchObject({ ok: false, diagnosis: 'non-smooth' });
    expect(v.reason).toContain('2 coordinates of g changed sign');
    expect(v.reason).toContain('eps = 0.2');
    // the same crossing in a smooth rule is no evidence
    expect(judge(m, facts(), 1).diagnosis).not.toBe('non-smooth');
  });

  it('names memory that has not decayed within the horizon', () => {
    const m = measured([1e-2, 6e-3, 3e-3, 1.2e-3], first.map((g) => 3 * g), { memoryLeft: [{ state: 'v', value: 0.45 }] });
    const v = judge(m, facts({ decays: [{ state: 'v', value: 0.999 }] }), 1);
    expect(v).toMatchObject({ ok: false, diagnosis: 'memory-not-decayed' });
    expect(v.reason).toContain('state v');
  });

  it('names step sizes that are too large: the order rises toward 2', () => {
    const v = judge(measured([1e-2, 7e-3, 3e-3, 9e-4], first.map((g) => 3 * g)), facts(), 1);
    expect(v).toMatchObject({ ok: false, diagnosis: 'h-too-large' });
  });

  it('says so when it recognises no cause', () => {
    expect(judge(measured(first, first.map((g) => 3 * g)), facts(), 1)).toMatchObject({ ok: false, diagnosis: 'unclear' });
  });
});

describe('validation parameters and facts about the rule', () => {
  const rule = (text: string) => parseRule(text, 'test.rule');
  const ADAMW = rule([
    'optimizer AdamW-like',
    'param beta1 = 0.9 in (0, 1)',
    'param beta2 = 0.999 in (0, 1)',
    'param eps = 1e-8 in [0, inf)',
    'param lambda = 0.01 in [0, inf)',
    'state m = beta1 * m + (1 - beta1) * g',
    'state v = beta2 * v + (1 - beta2) * g^2',
    'update m / (1 - beta1^(n+1)) / (sqrt(v / (1 - beta2^(n+1))) + eps) + lambda * theta',
  ].join('\n'));
  const dAdamw = derive(ADAMW);

  it('raises a small perturbation parameter that keeps a power regular, and not a weight decay', () => {
    const p = Object.fromEntries(validationParams(ADAMW, dAdamw, HS, {}).map((c) => [c.name, c]));
    expect(p['eps']).toEqual({ name: 'eps', value: 0.2, default: 1e-8, source: 'raised' }); // 10·max h
    expect(p['lambda']).toEqual({ name: 'lambda', value: 0.01, default: 0.01, source: 'default' });
  });

  it('shortens long memories and keeps them distinct and in order', () => {
    const p = Object.fromEntries(validationParams(ADAMW, dAdamw, HS, {}).map((c) => [c.name, c]));
    // u = β/(1−β): 9 and 999 steps → 1·ln 10/ln 1000 = 1/3 and 1 → β = 1/4 and 1/2
    expect(p['beta1']!.value).toBeCloseTo(0.25, 12);
    expect(p['beta2']!.value).toBeCloseTo(0.5, 12);
    expect(p['beta1']!.source).toBe('shortened');
  });

  it('leaves short memories alone and lets --set win', () => {
    const short = rule('optimizer Short\nparam beta = 0.3 in (0, 1)\nstate m = beta * m + g\nupdate m');
    expect(validationParams(short, derive(short), HS, {})).toEqual([{ name: 'beta', value: 0.3, default: 0.3, source: 'default' }]);
    const set = validationParams(ADAMW, dAdamw, HS, { eps: 1e-3, beta2: 0.99 });
    expect(set.find((c) => c.name === 'eps')).toMatchObject({ value: 1e-3, source: 'set' });
    expect(set.find((c) => c.name === 'beta2')).toMatchObject({ value: 0.99, source: 'set' });
  });

  it('reads the state decays at the parameters used, and the smoothing parameters', () => {
    const f = ruleFacts(ADAMW, dAdamw, { beta1: 0.25, beta2: 0.5, eps: 0.2, lambda: 0.01 });
    expect(f.decays).toEqual([{ state: 'm', value: 0.25 }, { state: 'v', value: 0.5 }]);
    expect(f.smoothingParams).toEqual([{ name: 'eps', value: 0.2 }]);
    expect(f.signOnMemoryPath).toBeUndefined();
    expect(f.mVanishes).toBe(false);
  });

  it('knows exact sign on the memory path from sign applied to a state, not to g alone', () => {
    const lion = rule('optimizer L\nparam beta1 = 0.9 in (0, 1)\nparam beta2 = 0.99 in (0, 1)\nstate m = beta2 * m + (1 - beta2) * g\nupdate sign(beta1 * prev(m) + (1 - beta1) * g)');
    const fl = ruleFacts(lion, derive(lion), { beta1: 0.9, beta2: 0.99 });
    expect(fl.signOnMemoryPath).toMatch(/memory path/);
    expect(fl.mVanishes).toBe(true);
    expect(fl.readsAbsOrSign).toBe(true);
    const signGd = rule('optimizer S\nupdate sign(g)');
    expect(ruleFacts(signGd, derive(signGd), {}).signOnMemoryPath).toBeUndefined();
  });
});

describe('the plot', () => {
  const r = runValidation({ module: heavyBall(), problem: quadratic(), hs: [0.02, 0.01, 0.005], horizon: 1 });

  it('plots every positive gap and reference lines of slope 1 and 2', () => {
    const rows = plotRows([r]);
    const series = (s: string) => rows.filter((row) => row.series === s);
    expect(series('with exact-n M').map((row) => row.gap)).toEqual(r.runs.map((run) => run.gap.exact));
    const ref2 = series('slope 2 (reference)');
    const ref1 = series('slope 1 (reference)');
    expect(ref2).toHaveLength(3);
    expect(Math.log(ref2[0]!.gap / ref2[2]!.gap) / Math.log(4)).toBeCloseTo(2, 12);
    expect(Math.log(ref1[0]!.gap / ref1[2]!.gap) / Math.log(4)).toBeCloseTo(1, 12);
    // a zero or infinite gap has no place on a log axis
    const zero = { ...r, runs: r.runs.map((run, i) => (i === 0 ? { ...run, gap: { ...run.gap, none: 0 } } : run)) };
    expect(plotRows([zero]).filter((row) => row.series === 'without M')).toHaveLength(2);
  });

  it('is a Vega-Lite spec with log axes, one panel per problem', () => {
    const one = plotSpec([r], 'title') as unknown as Record<string, unknown>;
    expect(JSON.stringify(one)).toContain('"type":"log"');
    expect(one['facet']).toBeUndefined();
    const two = plotSpec([r, { ...r, problem: 'other' }], 'title') as unknown as Record<string, unknown>;
    expect(two['facet']).toBeDefined();
  });

  it('renders to SVG without a browser', async () => {
    const svg = await renderPlot([r], 'Heavy-ball test');
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg).toContain('</svg>');
    for (const text of ['Heavy-ball test', 'with exact-n M', 'without M', 'slope 2 (reference)', 'step size h', '0.005'])
      expect(svg).toContain(text);
    // one point per measured gap (3 variants × 3 step sizes), each labelled with its value
    expect(svg.match(/aria-roledescription="point"/g)).toHaveLength(9);
    for (const run of r.runs) expect(svg).toContain(`gap: ${run.gap.exact.toExponential(3)}`);
  }, 30_000);
});

describe('the progress bar', () => {
  const stream = (isTTY: boolean) => {
    const written: string[] = [];
    return { written, s: { isTTY, write: (t: string) => written.push(t) > 0 } as unknown as NodeJS.WriteStream };
  };

  it('draws in place on a terminal and clears its line at the end', () => {
    const { written, s } = stream(true);
    const bar = progressBar(s);
    bar.update(0, 10, 'quartic');
    bar.update(5, 10, 'quartic');
    bar.update(5, 10, 'quartic'); // unchanged: not redrawn
    bar.done();
    expect(written).toHaveLength(3);
    expect(written[1]).toMatch(/^\rquartic \[#{15}-{15}\] 50%/);
    expect(written[2]).toBe('\r\u001b[K');
  });

  it('writes nothing when not on a terminal', () => {
    const { written, s } = stream(false);
    const bar = progressBar(s);
    bar.update(5, 10);
    bar.done();
    expect(written).toEqual([]);
  });
});
