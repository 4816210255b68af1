/**
 * The generated optimizer modules: F and M against the oracle, the step against plain
 * implementations of PyTorch's formulas, and names from a rule file never becoming code.
 */
import { describe, expect, it } from 'vitest';
import { readdirSync } from 'node:fs';
import { transformSync } from 'esbuild';
import { derive } from '../../src/derive/index.js';
import { parseRule } from '../../src/parse/rule-file.js';
import { loadOptimizer } from '../../src/numeric/compile.js';
import { optimizerModule } from '../../src/emit/optimizer-code.js';
import { oracleCorrection, oracleDirection } from '../../src/numeric/oracle.js';
import { loadRule, maxRelDiff, mulberry32, paramEnv, randomInstance, randomParams, isMatrixRuleFile } from '../derive/helpers.js';

const RULES = readdirSync('rules').filter((f) => f.endsWith('.rule') && !isMatrixRuleFile(`rules/${f}`)).sort();
const matVec = (H: Float64Array, d: number) => (v: Float64Array) => Float64Array.from({ length: d }, (_, i) => v.reduce((acc, x, j) => acc + H[i * d + j]! * x, 0));

describe.each(RULES)('generated module for %s', (file) => {
  const rule = loadRule(`rules/${file}`);
  const mod = loadOptimizer(rule, derive(rule, { exactN: true }));

  it('direction and correction agree with the oracle (exact n = 3, asymptotic at n = 400)', () => {
    const rand = mulberry32(file.length * 17);
    const env = randomParams(rule, rand);
    const inst = randomInstance(rand);
    const hvp = matVec(inst.hessian, inst.d);
    for (const n of [3, 400]) {
      const oracleF = oracleDirection({ rule, params: env, ...inst, n });
      const oracleM = oracleCorrection({ rule, params: env, ...inst, n });
      const exact = n === 3;
      expect(maxRelDiff(oracleF, mod.direction(inst.theta, inst.g, env, exact ? n : undefined))).toBeLessThan(1e-9);
      expect(maxRelDiff(oracleM, mod.correction(inst.theta, inst.g, hvp, env, exact ? n : undefined))).toBeLessThan(1e-7);
    }
  });
});

/** Plain implementations of torch.optim's update formulas (docs of SGD, Adam, AdamW, RMSprop), t = n + 1. */
const torch = {
  'heavy-ball': (p: Float64Array, g: Float64Array, s: Record<string, Float64Array>, _t: number, lr: number, hp: Record<string, number>) => {
    for (let i = 0; i < p.length; i++) { s.buf![i] = hp.beta! * s.buf![i]! + g[i]!; p[i] -= lr * s.buf![i]!; }
  },
  nesterov: (p: Float64Array, g: Float64Array, s: Record<string, Float64Array>, _t: number, lr: number, hp: Record<string, number>) => {
    for (let i = 0; i < p.length; i++) { s.buf![i] = hp.mu! * s.buf![i]! + g[i]!; p[i] -= lr * (g[i]! + hp.mu! * s.buf![i]!); }
  },
  rmsprop: (p: Float64Array, g: Float64Array, s: Record<string, Float64Array>, _t: number, lr: number, hp: Record<string, number>) => {
    for (let i = 0; i < p.length; i++) { s.sq![i] = hp.alpha! * s.sq![i]! + (1 - hp.alpha!) * g[i]! * g[i]!; p[i] -= (lr * g[i]!) / (Math.sqrt(s.sq![i]!) + hp.eps!); }
  },
  adam: (p: Float64Array, g: Float64Array, s: Record<string, Float64Array>, t: number, lr: number, hp: Record<string, number>) => {
    const bc1 = 1 - hp.beta1! ** t;
    const bc2 = 1 - hp.beta2! ** t;
    for (let i = 0; i < p.length; i++) {
      s.m![i] = hp.beta1! * s.m![i]! + (1 - hp.beta1!) * g[i]!;
      s.v![i] = hp.beta2! * s.v![i]! + (1 - hp.beta2!) * g[i]! * g[i]!;
      p[i] -= ((lr / bc1) * s.m![i]!) / (Math.sqrt(s.v![i]!) / Math.sqrt(bc2) + hp.eps!);
    }
  },
  adamw: (p: Float64Array, g: Float64Array, s: Record<string, Float64Array>, t: number, lr: number, hp: Record<string, number>) => {
    for (let i = 0; i < p.length; i++) p[i] *= 1 - lr * hp.lambda!; // decoupled decay first, on the old iterate
    torch.adam(p, g, s, t, lr, hp);
  },
} as const;

describe('the generated step matches PyTorch formulas over 100 steps', () => {
  it.each(Object.keys(torch))('%s', (name) => {
    const rule = loadRule(`rules/${name}.rule`);
    const mod = loadOptimizer(rule, derive(rule));
    const hp = { ...paramEnv(rule), eps: 1e-3 };
    const rand = mulberry32(name.length);
    const dim = 7;
    const a = Float64Array.from({ length: dim }, () => 2 * rand() - 1);
    const b = Float64Array.from(a);
    const state = mod.init(dim);
    const ref: Record<string, Float64Array> = { buf: new Float64Array(dim), sq: new Float64Array(dim), m: new Float64Array(dim), v: new Float64Array(dim) };
    const lr = 0.01;
    for (let t = 1; t <= 100; t++) {
      // a quadratic-plus-quartic gradient, evaluated at each trajectory's own iterate
      const grad = (x: Float64Array) => x.map((xi, i) => (1 + i) * xi + xi ** 3);
      mod.step(a, grad(a), state, lr, hp);
      torch[name as keyof typeof torch](b, grad(b), ref, t, lr, hp);
    }
    expect(maxRelDiff(a, b)).toBeLessThan(1e-12);
    expect(state.n).toBe(100);
  });
});

describe('names and strings from a rule file never become code', () => {
  const hostile = `optimizer Evil(x) - "q" 'a' \`b\` */ \u2028 ${"$"}{x}
cite "*/ \\" \`\${process.exit(1)}\` '; process.exit(2); // \\u2028 end"
param lambda = 0.5 in (0, 1)
param new = 0.1 in (0, 1)
param __proto__ = 0.25 in (0, 1)
state constructor = new * constructor + g
update constructor + lambda * theta + __proto__ * g
`;
  const rule = parseRule(hostile, 'evil.rule');
  const d = derive(rule, { exactN: true });

  it('the JavaScript loads and behaves; the strings come through as data', () => {
    const mod = loadOptimizer(rule, d);
    expect(mod.name).toBe(rule.name);
    // a computed key: "__proto__" as a property, not the object's prototype
    expect(Object.entries(mod.defaults)).toEqual([['lambda', 0.5], ['new', 0.1], ['__proto__', 0.25]]);
    const th = Float64Array.from([1]);
    mod.step(th, Float64Array.from([2]), mod.init(1), 0.1);
    expect(th[0]).toBeCloseTo(1 - 0.1 * (2 + 0.5 + 0.25 * 2), 14);
    // an override by that name reaches the parameter: θ = 0.7 → 0.7 − 0.1·(2 + 0.5·0.7 + 0.5·2)
    mod.step(th, Float64Array.from([2]), mod.init(1), 0.1, { ['__proto__']: 0.5 });
    expect(th[0]).toBeCloseTo(0.7 - 0.1 * (2 + 0.5 * 0.7 + 0.5 * 2), 14);
  });

  it('the TypeScript module has no syntax errors and the citation stays in a comment', () => {
    const src = optimizerModule(rule, d, { typescript: true });
    // esbuild's TypeScript parser throws on any syntax error an injected quote or comment end would cause
    const js = transformSync(src, { loader: 'ts', format: 'esm' }).code;
    expect(js).toContain('function step');
    const citeLine = src.split('\n').find((l) => l.includes('Reference:'))!;
    expect(citeLine.startsWith('//')).toBe(true);
    expect(src.split('\n').filter((l) => l.includes('process.exit')).every((l) => l.trimStart().startsWith('//'))).toBe(true);
  });
});

describe('the committed module file is the code the loader compiles', () => {
  it.each(['adamw', 'heavy-ball', 'rmsprop'])('derivations/%s/%s.ts', async (name) => {
    const file = await import(`../../derivations/${name}/${name}.ts`);
    const rule = loadRule(`rules/${name}.rule`);
    const mem = loadOptimizer(rule, derive(rule, { exactN: true }));
    const rand = mulberry32(name.length * 3);
    const inst = randomInstance(rand);
    const hvp = matVec(inst.hessian, inst.d);
    expect([...file.correction(inst.theta, inst.g, hvp, {}, 7)]).toEqual([...mem.correction(inst.theta, inst.g, hvp, {}, 7)]);
    expect([...file.direction(inst.theta, inst.g)]).toEqual([...mem.direction(inst.theta, inst.g)]);
    const a = Float64Array.from(inst.theta);
    const b = Float64Array.from(inst.theta);
    const sa = file.init(inst.d);
    const sb = mem.init(inst.d);
    for (let i = 0; i < 10; i++) { file.step(a, inst.g, sa, 0.01); mem.step(b, inst.g, sb, 0.01); }
    expect([...a]).toEqual([...b]);
  });
});

describe('memloss codegen', () => {
  it('writes a TypeScript module for a rule outside rules/', async () => {
    const { main } = await import('../../src/cli.js');
    const { capture } = await import('../capture.js');
    const r = await capture(() => main(['codegen', 'docs/examples/qhm.rule', '--target', 'ts']));
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^\/\/ Generated by memloss from docs\/examples\/qhm\.rule/);
    expect(() => transformSync(r.stdout, { loader: 'ts', format: 'esm' })).not.toThrow();
    expect(r.stdout).toContain('export function memorylessStep');
    expect(r.stdout).toContain('export function penaltyWeight');
  });
});

describe('memloss codegen --target wasm', () => {
  it('writes an ES module that runs the WebAssembly step', async () => {
    const { main } = await import('../../src/cli.js');
    const { capture } = await import('../capture.js');
    const r = await capture(() => main(['codegen', 'rules/heavy-ball.rule', '--target', 'wasm']));
    expect(r.code).toBe(0);
    const mod = await import(`data:text/javascript;base64,${Buffer.from(r.stdout).toString('base64')}`);
    const theta = Float64Array.from([1, -2, 0.5]);
    const state = mod.init(3);
    mod.step(theta, Float64Array.from([1, 1, 1]), state, 0.1, { beta: 0.5 });
    expect([...theta]).toEqual([0.9, -2.1, 0.4]);
  });
});

describe('memloss codegen --target wgsl and wat', () => {
  it.each([['wgsl', /@compute @workgroup_size\(\d+\)/], ['wat', /\(module/]] as const)('--target %s', async (target, pattern) => {
    const { main } = await import('../../src/cli.js');
    const { capture } = await import('../capture.js');
    const r = await capture(() => main(['codegen', 'rules/adamw.rule', '--target', target]));
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(pattern);
  });
});
