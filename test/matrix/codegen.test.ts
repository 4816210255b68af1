/**
 * The generated TypeScript modules of matrix rules (derivations/<name>/<name>.ts, written by
 * `memloss build`, whose freshness test/derivations.test.ts checks) compute what the
 * in-memory module (loadMatrixOptimizer) computes: the same runtime calls in the same order,
 * so the two agree to rounding in the scalar coefficients (≤ 1e-12 relative).
 */
import { describe, expect, it } from 'vitest';
import * as LA from '../../src/matrix/linalg.js';
import { deriveMatrix, type MatrixDerivation } from '../../src/matrix/derive.js';
import { loadMatrixOptimizer } from '../../src/matrix/module.js';
import { matrixOptimizerModule } from '../../src/emit/matrix-code.js';
import { parseRuleFile } from '../../src/parse/rule-file.js';
import { isMatrixRule } from '../../src/ir/rule.js';
import { PROBLEMS } from '../../src/numeric/problems/index.js';
import { matrixRuleFacts, matrixValidationParams, runValidation } from '../../src/numeric/validate.js';
import type { Hyper, MatrixShape, OptimizerModule, Problem } from '../../src/numeric/types.js';
import * as shampoo from '../../derivations/shampoo/shampoo.js';
import * as muon from '../../derivations/muon/muon.js';
import * as oneSided from '../../derivations/one-sided-shampoo/one-sided-shampoo.js';
import { MATRIX_RULES, loadMatrixRule } from './rules.js';

const GENERATED: Record<string, OptimizerModule> = {
  shampoo: shampoo as unknown as OptimizerModule,
  muon: muon as unknown as OptimizerModule,
  'one-sided-shampoo': oneSided as unknown as OptimizerModule,
};

/** The module as plain JavaScript compiled in memory, the runtime passed in as LA. */
const compiled = (d: MatrixDerivation): OptimizerModule =>
  new Function('LA', matrixOptimizerModule(d, { typescript: false }))(LA) as OptimizerModule;

/** max |a − b| / max |a| (0 when both vanish). */
function relDiff(a: Float64Array, b: Float64Array): number {
  expect(b.length).toBe(a.length);
  let num = 0, den = 0;
  for (let i = 0; i < a.length; i++) {
    expect(Number.isFinite(a[i]!), `entry ${i}`).toBe(true);
    num = Math.max(num, Math.abs(a[i]! - b[i]!));
    den = Math.max(den, Math.abs(a[i]!));
  }
  return den === 0 ? num : num / den;
}

const TOL = 1e-12;
const worst: Record<string, number> = {};
const record = (what: string, x: number) => { worst[what] = Math.max(worst[what] ?? 0, x); return x; };

/** step ×20, direction, correction and memorylessStep, n given and not, on one problem. */
function compare(ref: OptimizerModule, gen: OptimizerModule, p: Problem, hyper: Partial<Hyper>, label: string): void {
  const blocks: readonly MatrixShape[] | undefined = p.blocks;
  const a = blocks ? ref.forShapes!(blocks) : ref;
  const b = blocks ? gen.forShapes!(blocks) : gen;
  const theta0 = p.initial(3);
  const grad = (t: Float64Array) => p.grad(t, new Float64Array(p.dim));
  // the optimizer, 20 steps
  const ta = theta0.slice(), tb = theta0.slice();
  const sa = a.init(p.dim), sb = b.init(p.dim);
  for (let k = 0; k < 20; k++) {
    a.step(ta, grad(ta), sa, 0.01, hyper);
    b.step(tb, grad(tb), sb, 0.01, hyper);
  }
  expect(sb.n).toBe(20);
  expect(record('step', relDiff(ta, tb)), `${label}: step ×20`).toBeLessThanOrEqual(TOL);
  for (const name of Object.keys(sa.arrays)) expect(record('state', relDiff(sa.arrays[name]!, sb.arrays[name]!)), `${label}: state ${name}`).toBeLessThanOrEqual(TOL);
  // F, M and the memoryless step, at the end point, in both regimes
  const g = grad(ta);
  const hvp = (v: Float64Array) => p.hvp(ta, v, new Float64Array(p.dim));
  for (const n of [undefined, 0, 1, 12]) {
    const at = `${label}, n = ${n ?? '∞'}`;
    expect(record('direction', relDiff(a.direction(ta, g, hyper, n), b.direction(ta, g, hyper, n))), `${at}: direction`).toBeLessThanOrEqual(TOL);
    const Ma = a.correction(ta, g, hvp, hyper, n);
    expect(record('correction', relDiff(Ma, b.correction(ta, g, hvp, hyper, n))), `${at}: correction`).toBeLessThanOrEqual(TOL);
    if (n !== 0) expect(Ma.some((x) => x !== 0), `${at}: M is not zero`).toBe(true);
    const ma = ta.slice(), mb = ta.slice();
    a.memorylessStep(ma, g, hvp, 0.01, hyper, n);
    b.memorylessStep(mb, g, hvp, 0.01, hyper, n);
    expect(record('memorylessStep', relDiff(ma, mb)), `${at}: memorylessStep`).toBeLessThanOrEqual(TOL);
  }
}

describe.each(MATRIX_RULES)('generated module of %s', (name) => {
  const d = deriveMatrix(loadMatrixRule(name));
  const ref = loadMatrixOptimizer(d);
  const gen = GENERATED[name]!;
  const first = d.rule.params[0]!.name;
  const other: Partial<Hyper> = { [first]: 0.5 * ref.defaults[first]!, absent: undefined };

  it('has the in-memory module\'s name, defaults and state layout', () => {
    expect(gen.name).toBe(ref.name);
    expect(gen.defaults).toEqual(ref.defaults);
    const blocks = [{ rows: 3, cols: 2 }, { rows: 2, cols: 4 }];
    const sa = ref.forShapes!(blocks).init(14), sb = gen.forShapes!(blocks).init(14);
    expect(Object.keys(sb.arrays)).toEqual(Object.keys(sa.arrays));
    for (const k of Object.keys(sa.arrays)) expect(sb.arrays[k]!.length).toBe(sa.arrays[k]!.length);
    expect(() => gen.forShapes!(blocks).init(13)).toThrow(/θ has length 13, but its matrix blocks hold 14/);
  });

  it.each(['sensing', 'linear-net'])('equals loadMatrixOptimizer on %s (step ×20, F, M, memoryless step; n given and not)', (problem) => {
    const p = PROBLEMS[problem]!({ seed: 2 });
    if (problem === 'linear-net') expect(p.blocks).toHaveLength(2);
    compare(ref, gen, p, {}, `${problem}, defaults`);
    compare(ref, gen, p, other, `${problem}, ${first} halved`);
  });

  it('without forShapes: θ is one dim×1 column', () => {
    const p = PROBLEMS.sensing!({ seed: 4 });
    compare(ref, gen, { ...p, blocks: undefined }, {}, 'sensing as a column');
  });

  it('the JavaScript form (compiled in memory) equals it too', () => {
    compare(ref, compiled(d), PROBLEMS['linear-net']!({ seed: 5 }), {}, 'linear-net, JavaScript');
  });

  it('memloss validate passes through the generated module', () => {
    const HS = [0.02, 0.01, 0.005];
    const hyper = Object.fromEntries(matrixValidationParams(d, HS, {}).map((p) => [p.name, p.value]));
    const facts = matrixRuleFacts(d, hyper);
    const run = (module: OptimizerModule) => runValidation({ module, problem: PROBLEMS['linear-net']!({ seed: 1 }), hs: HS, horizon: 1, hyper, seed: 1, facts });
    const r = run(gen);
    expect(r.verdict.ok).toBe(true);
    const rr = run(ref);
    expect(Math.abs(r.slopes.exact - rr.slopes.exact)).toBeLessThan(1e-9);
  });
});

describe('matrix code generation', () => {
  it('keeps hostile names and text out of the code', async () => {
    // names that are JavaScript keywords or special properties; free text that could end a comment or a string
    const src = [
      'optimizer Evil',
      'shape matrix',
      'param class = 0.9 in (0, 1)',
      'param __proto__ = 1e-3 in (0, inf)',
      "state constructor = class * constructor + (1 - class) * g * g'",
      'state return = class * return + g',
      'update pow(constructor + __proto__ * I, -1/2) * return',
      '',
    ].join('\n');
    const parsed = parseRuleFile(src, 'evil.rule');
    if (!isMatrixRule(parsed)) throw new Error('not a matrix rule');
    const text = 'Evil */ `${globalThis.x = 1}` "q\' \u2028\u2029\n alert(1); /*';
    const rule = { ...parsed, name: text, cite: text, file: text };
    const d = { ...deriveMatrix(parsed), rule };
    const ts = matrixOptimizerModule(d, { typescript: true });
    for (const line of ts.split('\n')) if (/alert|globalThis/.test(line)) expect(line.startsWith('//') || /^\s*\/\//.test(line) || /"[^"]*(alert|globalThis)[^"]*"/.test(line), line).toBe(true);
    expect(ts).not.toMatch(/[\u2028\u2029]/);
    // the module parses as TypeScript (esbuild strips the types)
    const { transformSync } = await import('esbuild');
    expect(() => transformSync(ts, { loader: 'ts', format: 'esm' })).not.toThrow();
    const gen = compiled(d);
    expect(gen.name).toBe(rule.name);
    expect(Object.keys(gen.defaults)).toEqual(['class', '__proto__']);
    expect(Object.keys(gen.init(4).arrays)).toEqual(['constructor', 'return']);
    const ref = loadMatrixOptimizer(d);
    compare(ref, gen, PROBLEMS['linear-net']!({ seed: 6 }), { class: 0.8 }, 'hostile');
    expect((globalThis as Record<string, unknown>)['x']).toBeUndefined();
  });

  it('reports the largest differences', () => {
    // the comparisons above ran first (vitest runs a file's tests in order)
    console.log(`generated vs in-memory matrix modules, max relative difference: ${JSON.stringify(worst)}`);
    for (const v of Object.values(worst)) expect(v).toBeLessThanOrEqual(TOL);
  });
});
