/**
 * Hostile identifiers through every output. Rules name their parameters and states like
 * Object.prototype's members (constructor, toString, __proto__, …), like underscores only,
 * and like every name the code generators make up or prefix (m beside m_prev and prev_m,
 * s_m, p_m, a_m, state_m, c0, t0, th, g_1, i_s, v0_c0, w0_t0, hv0, p, u): each rule's
 * documents print the names as themselves, its TypeScript module loads (esbuild parses it:
 * a name declared twice is an error) and agrees with the independent oracle
 * (src/numeric/oracle.ts) also when a hyperparameter is overridden, the WebAssembly module
 * steps as the TypeScript one does, and the WGSL kernels compile and match on WebGPU.
 * The words mathjs reads as constants are refused with a located error.
 */
import { describe, expect, it } from 'vitest';
import { transform } from 'esbuild';
import { loadModuleText } from './load.js';
import { parseRule } from '../../src/parse/rule-file.js';
import { derive } from '../../src/derive/index.js';
import { RuleError, formatDiagnostic } from '../../src/ir/diagnostics.js';
import { emitText } from '../../src/emit/text.js';
import { emitJson } from '../../src/emit/json.js';
import { emitLatex } from '../../src/emit/latex.js';
import { emitHtml } from '../../src/emit/html.js';
import { emitMarkdown } from '../../src/emit/markdown.js';
import { emitTs } from '../../src/emit/ts.js';
import { textName } from '../../src/emit/names.js';
import { emitWgsl } from '../../src/emit/wgsl.js';
import { loadWasmOptimizer } from '../../src/numeric/wasm-loader.js';
import { oracleCorrection, oracleDirection } from '../../src/numeric/oracle.js';
import { validationParams } from '../../src/numeric/validate.js';
import type { OptimizerModule } from '../../src/numeric/types.js';
import { CI } from './browser.js';
import { gpu, gpuMissing } from './gpu.js';
import { parseRuleFile } from '../../src/parse/rule-file.js';
import { deriveMatrix } from '../../src/matrix/derive.js';
import { loadMatrixOptimizer } from '../../src/matrix/module.js';
import { matrixOptimizerModule } from '../../src/emit/matrix-code.js';
import { buildMatrixDocument, emitMatrixJson } from '../../src/emit/matrix-document.js';
import { renderHtml } from '../../src/emit/html.js';
import { renderLatex } from '../../src/emit/latex.js';
import * as LA from '../../src/matrix/linalg.js';
import type { MatrixRule } from '../../src/ir/rule.js';
import { CASE, runOnGpu } from '../numeric/webgpu-harness.js';
import { compare, describeChecks, runReference } from '../numeric/webgpu-reference.js';
import { maxRelDiff, mulberry32, randomInstance } from '../derive/helpers.js';

const RULES: Record<string, string> = {
  'prototype names as parameters': `optimizer Proto params
param constructor = 0.9 in (0, 1)
param toString = 0.5 in (0, 1)
param valueOf = 0.01 in [0, inf)
param hasOwnProperty = 1e-3 in [0, inf)
param __proto__ = 0.3 in (0, 1)
param _ = 0.2 in (0, 1)
param __ = 0.1 in [0, inf)
state m = constructor * m + (1 - constructor) * g
state v = toString * v + (1 - toString) * g^2
update m / (sqrt(v) + hasOwnProperty + __proto__) + valueOf * theta + _ * __ * g
`,
  'prototype names as states': `optimizer Proto states
param isPrototypeOf = 0.9 in (0, 1)
state constructor = isPrototypeOf * constructor + g
state __proto__ = 0.5 * __proto__ + constructor
state toString = 0.3 * toString + prev(__proto__)
state _ = 0.2 * _ + g
state __ = 0.6 * __ + prev(_)
update constructor + __proto__ + toString + prev(toString) + _ + __
`,
  'states named like the previous value of another': `optimizer Collide states
param c0 = 0.9 in (0, 1)
param t0 = 0.5 in (0, 1)
param th = 0.1 in [0, inf)
param g_1 = 0.25 in (0, 1)
param i_s = 0.01 in [0, inf)
state m = c0 * m + (1 - c0) * g
state m_prev = t0 * m_prev + (1 - t0) * g^2
state prev_m = g_1 * prev_m + g
update m / (i_s + sqrt(m_prev)) + prev(m) + prev_m + th * theta
`,
  'names like the generated prefixes and locals': `optimizer Collide prefixes
param p_m = 0.3 in (0, 1)
param v0_c0 = 1 in (0, inf)
param hv0 = 0.2 in (0, 1)
param p = 2 in (0, inf)
param u = 0.7 in (0, 1)
param w0_t0 = 0.05 in [0, inf)
param a = 0.6 in (0, 1)
state s_m = p_m * s_m + (1 - p_m) * g
state a_m = hv0 * a_m + g^2
state state_m = u * state_m + w0_t0 * theta
update s_m / (v0_c0 + p + sqrt(a_m)) + prev(s_m) * a + state_m
`,
};

/** The TypeScript module as written, its types stripped by esbuild (which refuses a name declared twice). */
const loadTs = async (source: string) => (await loadModuleText(source, 'ts')) as unknown as OptimizerModule;

describe.each(Object.entries(RULES))('%s', (_, source) => {
  const rule = parseRule(source, 'names.rule');
  const d = derive(rule, { exactN: true });
  const params = rule.params.map((p) => p.name);
  const states = rule.states.map((s) => s.name);

  it('every document prints the names as themselves', () => {
    const json = JSON.parse(emitJson(d, 'asymptotic')) as { parameters: { name: string; value: number }[]; regimes: { asymptotic: { states: { name: string }[] } } };
    expect(json.parameters.map((p) => [p.name, p.value])).toEqual(rule.params.map((p) => [p.name, Number(p.valueText)]));
    expect(json.regimes.asymptotic.states.map((s) => s.name)).toEqual(states);
    for (const regime of ['asymptotic', 'exact-n'] as const) {
      const docs = { text: emitText(d, regime), latex: emitLatex(d, regime), md: emitMarkdown(d, regime), html: emitHtml(d, regime) };
      for (const [format, doc] of Object.entries(docs)) expect(doc, `${format}, ${regime}`).not.toMatch(/undefined|\[native code\]|function /);
    }
    const text = emitText(d, 'asymptotic');
    for (const p of params) expect(text).toContain(`${textName(p)} = `);
  });

  it('the TypeScript module loads and agrees with the oracle, also with a hyperparameter overridden', async () => {
    const ts = await loadTs(emitTs(rule, d));
    expect(Object.keys(ts.defaults)).toEqual(params);
    expect(Object.values(ts.defaults)).toEqual(rule.params.map((p) => Number(p.valueText)));
    const inst = randomInstance(mulberry32(7), 3);
    const hvp = (v: Float64Array) => Float64Array.from({ length: 3 }, (_, i) => [0, 1, 2].reduce((s, j) => s + inst.hessian[i * 3 + j]! * v[j]!, 0));
    // tolerances of test/derive/oracle.test.ts; the first parameter moved inside its domain, passed as an own property (a JSON-like object)
    const first = rule.params[0]!;
    const moved = Object.fromEntries([[first.name, Number(first.valueText) * 0.8]]);
    for (const hyper of [{}, moved]) {
      for (const n of [2, 9]) {
        const input = { rule, theta: inst.theta, g: inst.g, hessian: inst.hessian, n, params: hyper };
        expect(maxRelDiff(ts.direction(inst.theta, inst.g, hyper, n), oracleDirection(input)), `F, n = ${n}`).toBeLessThan(1e-9);
        expect(maxRelDiff(ts.correction(inst.theta, inst.g, hvp, hyper, n), oracleCorrection(input)), `M, n = ${n}`).toBeLessThan(1e-7);
      }
    }
    expect(ts.direction(inst.theta, inst.g, moved, 5)).not.toEqual(ts.direction(inst.theta, inst.g, {}, 5));
  });

  it('the WebAssembly module steps as the TypeScript module does', async () => {
    const ts = await loadTs(emitTs(rule, d));
    const wasm = loadWasmOptimizer(rule, d);
    const rand = mulberry32(3);
    const dim = 5;
    const a = Float64Array.from({ length: dim }, () => rand() - 0.5), b = a.slice();
    const sa = ts.init(dim), sb = wasm.init(dim);
    expect(Object.keys(sb.arrays)).toEqual(states);
    for (let t = 0; t < 20; t++) {
      const grad = Float64Array.from(a, (x) => x + 0.3 * (rand() - 0.5));
      ts.step(a, grad, sa, 0.05);
      wasm.step(b, grad, sb, 0.05);
    }
    expect(maxRelDiff(b, a)).toBeLessThan(1e-13);
    expect(maxRelDiff(wasm.direction(a, a, {}, 4), ts.direction(a, a, {}, 4))).toBeLessThan(1e-13);
  });

  it('validate reads the parameters as themselves', () => {
    const chosen = validationParams(rule, d, [0.02, 0.01], Object.fromEntries([[params.at(-1)!, 0.15]]));
    expect(chosen.every((c) => typeof c.value === 'number' && Number.isFinite(c.value))).toBe(true);
    expect(chosen.at(-1)).toMatchObject({ name: params.at(-1), value: 0.15, source: 'set' });
  });

  it.skipIf(!gpu && !CI)('the WGSL kernels compile and match the float64 module on WebGPU (Node)', async () => {
    if (!gpu) expect.fail(`CI=true but ${gpuMissing}`);
    const checks = compare(d, await runOnGpu(gpu.device, emitWgsl(rule, d), CASE), runReference(rule, d, CASE));
    expect(checks.filter((k) => !(k.err <= k.tol)), `${rule.name}:\n${describeChecks(checks)}`).toEqual([]);
  });
});

describe('a matrix rule named like Object.prototype and the matrix module\'s locals (m0, e0, sh0, hp, vb)', () => {
  const rule = parseRuleFile(`optimizer Matrix names
shape matrix
param __proto__ = 0.9 in (0, 1)
param m0 = 1e-3 in (0, inf)
param e0 = 0.5 in (0, 1)
param sh0 = 1 in (0, inf)
param hp = 0.1 in [0, inf)
state constructor = __proto__ * constructor + (1 - __proto__) * g * g'
state vb = e0 * vb + g
update sh0 * pow(constructor + m0 * I, -1/2) * vb + hp * theta
`, 'matrix.rule') as MatrixRule;
  const d = deriveMatrix(rule);

  it('its documents print the names, and its generated module computes what the in-memory one does', async () => {
    const json = JSON.parse(emitMatrixJson(d, 'asymptotic')) as { parameters: { name: string }[] };
    expect(json.parameters.map((p) => p.name)).toEqual(['__proto__', 'm0', 'e0', 'sh0', 'hp']);
    for (const doc of [renderLatex(buildMatrixDocument(d, 'asymptotic')), renderHtml(buildMatrixDocument(d, 'asymptotic'), rule.name)])
      expect(doc).not.toMatch(/undefined|\[native code\]|function /);
    // the TypeScript text parses (esbuild refuses a name declared twice); the same code as JavaScript runs
    await transform(matrixOptimizerModule(d, { typescript: true }), { loader: 'ts', logLevel: 'silent' });
    const gen = new Function('LA', matrixOptimizerModule(d, { typescript: false }))(LA) as OptimizerModule;
    const ref = loadMatrixOptimizer(d);
    expect(Object.keys(gen.defaults)).toEqual(Object.keys(ref.defaults));
    const blocks = [{ rows: 3, cols: 2 }];
    const a = ref.forShapes!(blocks), b = gen.forShapes!(blocks);
    const rand = mulberry32(11);
    const ta = Float64Array.from({ length: 6 }, () => rand() - 0.5), tb = ta.slice();
    const sa = a.init(6), sb = b.init(6);
    for (let t = 0; t < 5; t++) {
      const grad = Float64Array.from(ta, (x) => x + 0.2 * (rand() - 0.5));
      a.step(ta, grad, sa, 0.05, Object.fromEntries([['__proto__', 0.8]]));
      b.step(tb, grad, sb, 0.05, Object.fromEntries([['__proto__', 0.8]]));
    }
    expect(Array.from(ta).every(Number.isFinite)).toBe(true);
    expect(maxRelDiff(tb, ta)).toBeLessThan(1e-12);
    const hvp = (v: Float64Array) => Float64Array.from(v, (x) => 2 * x);
    expect(maxRelDiff(b.correction(ta, ta, hvp, {}, 4), a.correction(ta, ta, hvp, {}, 4))).toBeLessThan(1e-12);
  });
});

describe('names mathjs reads as constants', () => {
  it.each(['undefined', 'NaN', 'Infinity'])('%s is refused where it is declared, as a parameter, a state or an fn argument', (word) => {
    const cases: [string, string][] = [
      [`optimizer X\nparam ${word} = 0.5 in (0, 1)\nupdate g`, 'names.rule:2:7'],
      [`optimizer X\nstate ${word} = 0.5 * ${word} + g\nupdate ${word}`, 'names.rule:2:7'],
      [`optimizer X\nfn f(x, ${word}) = x\nupdate f(g, g)`, 'names.rule:2:9'],
    ];
    for (const [src, at] of cases) {
      let err: unknown;
      try { parseRule(src, 'names.rule'); } catch (e) { err = e; }
      expect(err).toBeInstanceOf(RuleError);
      // the first diagnostic: later uses of the refused name are unknown symbols
      expect(formatDiagnostic((err as RuleError).diagnostics[0]!)).toBe(`${at}: '${word}' is reserved: the JSON output writes expressions in mathjs, which reads '${word}' as a constant or an operator [rule/reserved-name]`);
    }
  });
});
