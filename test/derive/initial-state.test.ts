// Nonzero initial states (`state s = EXPR from INIT`): s₀ = INIT, a value of the parameters.
// The exact finite-n regime keeps its a^{n+1}·s₀ part, the asymptotic one loses it; the
// generated module starts its states there, and so does its recursion where the exact regime
// has no closed form. Everything is compared with the oracle, which runs the rule's text.
import { describe, expect, it } from 'vitest';
import { parseRule } from '../../src/parse/rule-file.js';
import { derive } from '../../src/derive/index.js';
import { evaluate } from '../../src/ir/eval.js';
import { hasSymbol } from '../../src/ir/expr.js';
import { RuleError, formatDiagnostic } from '../../src/ir/diagnostics.js';
import { loadOptimizer } from '../../src/numeric/compile.js';
import { loadWasmOptimizer } from '../../src/numeric/wasm-loader.js';
import { optimizerModule } from '../../src/emit/optimizer-code.js';
import { emitJson } from '../../src/emit/json.js';
import { renderText } from '../../src/emit/text.js';
import { buildDocument } from '../../src/emit/document.js';
import { deriveBatches } from '../../src/derive/batches.js';
import { emitWgsl } from '../../src/emit/wgsl.js';
import type { RegimeResult } from '../../src/derive/types.js';
import { agreement } from '../verify/agreement.js';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../../src/cli.js';
import { capture } from '../capture.js';

const RMSPROP_V0 = `optimizer RMSProp-v0
param beta = 0.9 in (0, 1)
param eps = 1e-8 in [0, inf)
param v0 = 0.1 in [0, inf)
state v = beta*v + (1-beta)*g^2 from v0
update g/(sqrt(v)+eps)
`;

// RMSProp with momentum: no exact closed form, so the module runs the recursion
const MOMENTUM_V0 = `optimizer RMSPropMomentum-v0
param alpha = 0.99 in (0, 1)
param mu = 0.9 in (0, 1)
param eps = 1e-8 in [0, inf)
param v0 = 0.1 in [0, inf)
state v = alpha*v + (1-alpha)*g^2 from v0
state b = mu*b + g/(sqrt(v)+eps)
update b
`;

const exactOf = (r: RegimeResult | { unavailable: string } | undefined): RegimeResult => {
  if (!r || 'unavailable' in r) throw new Error('no exact closed form');
  return r;
};

describe('a state with an initial value', () => {
  const rule = parseRule(RMSPROP_V0, 'x.rule');
  const d = derive(rule, { exactN: true, verify: true });

  it('is read with its source text, and derives in both regimes, verified against the oracle', () => {
    expect(rule.states[0]).toMatchObject({ source: 'beta*v + (1-beta)*g^2', initSource: 'v0' });
    expect(d.verification?.regimes).toEqual(['asymptotic', 'exact-n']);
  });

  it('the exact F⁽⁰⁾ is g/(√(β·v₀ + (1 − β)·g²) + ε); the asymptotic F does not read v₀', () => {
    const F = exactOf(d.exactN).F;
    for (const [g, beta, eps, v0] of [[0.7, 0.9, 1e-8, 0.1], [-1.3, 0.5, 1e-3, 2], [0.2, 0.99, 0, 0.05]] as const) {
      const want = g / (Math.sqrt(beta * v0 + (1 - beta) * g * g) + eps);
      expect(evaluate(F, { g, theta: 0.3, n: 0, beta, eps, v0 })).toBeCloseTo(want, 12);
    }
    expect(hasSymbol(d.asymptotic.F, 'v0')).toBe(false);
    for (const t of d.asymptotic.M) expect(hasSymbol(t.weight, 'v0') || hasSymbol(t.field, 'v0')).toBe(false);
  });

  it('the generated module steps from v₀ as a hand-written loop does, and its exact F⁽ⁿ⁾, M⁽ⁿ⁾ agree with the oracle', () => {
    const mod = loadOptimizer(rule, d);
    for (const hyper of [{}, { v0: 0.5, beta: 0.8 }]) {
      const { beta, eps, v0 } = { beta: 0.9, eps: 1e-8, v0: 0.1, ...hyper };
      const theta = Float64Array.from([0.5, -1, 2]), ref = theta.slice();
      const state = mod.init(3, hyper);
      expect([...state.arrays['v']!]).toEqual([v0, v0, v0]);
      const v = new Float64Array(3).fill(v0);
      for (let t = 0; t < 5; t++) {
        const grad = theta.map((x) => 2 * x + 0.1 * t);
        const gRef = ref.map((x) => 2 * x + 0.1 * t);
        mod.step(theta, grad, state, 0.01, hyper);
        for (let i = 0; i < 3; i++) {
          v[i] = beta * v[i]! + (1 - beta) * gRef[i]! ** 2;
          ref[i] = ref[i]! - 0.01 * (gRef[i]! / (Math.sqrt(v[i]!) + eps));
        }
      }
      for (let i = 0; i < 3; i++) expect(theta[i]).toBeCloseTo(ref[i]!, 14);
    }
    expect(agreement(RMSPROP_V0, {}, [0, 1, 5, 50]).worst).toBeLessThan(1e-9);
    expect(agreement(RMSPROP_V0, { v0: 3 }, [1, 5]).worst).toBeLessThan(1e-9);
  });

  it('the TypeScript module takes the hyperparameters in init; the WebAssembly loader starts its states there too', () => {
    const ts = optimizerModule(rule, d, { typescript: true });
    expect(ts).toContain('//   state v = beta*v + (1-beta)*g^2 from v0');
    expect(ts).toMatch(/export function init\(dim: number, hyper: Partial<Hyper> = \{\}\): State \{/);
    const wasm = loadWasmOptimizer(rule, d);
    expect([...wasm.init(2, { v0: 0.25 }).arrays['v']!]).toEqual([0.25, 0.25]);
    const a = loadOptimizer(rule, d);
    const sa = a.init(2), sb = wasm.init(2);
    const ta = Float64Array.from([0.3, -0.4]), tb = ta.slice();
    for (let t = 0; t < 3; t++) {
      a.step(ta, ta.map((x) => 3 * x), sa, 0.1);
      wasm.step(tb, tb.map((x) => 3 * x), sb, 0.1);
    }
    expect([...tb]).toEqual([...ta]);
  });

  it('the WGSL module carries the initial values for the runner, as a function of the parameters; a rule without one has none', () => {
    const m = emitWgsl(rule, d);
    const initial = new Function(`"use strict"; return (${m.initialJs});`)() as (hyper: Record<string, number>) => number[];
    expect(initial({ ...m.defaults, v0: 0.3 })).toEqual([0.3]);
    const plain = parseRule(RMSPROP_V0.replace(' from v0', ''), 'x.rule');
    expect(emitWgsl(plain, derive(plain))).not.toHaveProperty('initialJs');
  });

  it('documents and the JSON show the initial value; a rule without one says every state starts at 0', () => {
    const text = renderText(buildDocument(d, 'exact-n', { appendix: true }));
    expect(text).toContain('Initial values (before step 0): state v starts at v₀.');
    expect(text).toContain('state v = beta*v + (1-beta)*g^2 from v0');
    const json = JSON.parse(emitJson(d, 'exact-n'));
    expect(json.rule.initialValues).toEqual([{ state: 'v', value: { mathjs: 'v0', latex: 'v_0', text: 'v₀' } }]);
    const plain = parseRule(RMSPROP_V0.replace(' from v0', ''), 'x.rule');
    const dp = derive(plain);
    expect(JSON.parse(emitJson(dp, 'asymptotic')).rule).not.toHaveProperty('initialValues');
    expect(renderText(buildDocument(dp, 'asymptotic', { appendix: true }))).toContain('Every state starts at 0;');
  });
});

describe('an initial value where the exact finite-n regime has no closed form', () => {
  it('the generated recursion starts at v₀ and agrees with the oracle at n = 0, 1, 5, 50, also at other v₀', () => {
    const { d, mod, worst, point: p } = agreement(MOMENTUM_V0, {}, [0, 1, 5, 50]);
    expect(d.exactN).toMatchObject({ unavailable: expect.any(String), recursion: expect.anything() });
    expect(worst).toBeLessThan(1e-9);
    expect(agreement(MOMENTUM_V0, { v0: 4, alpha: 0.5 }, [1, 5, 50]).worst).toBeLessThan(1e-9);
    // and v₀ matters: at n = 0, b₁ = g/(√(α·v₀ + (1 − α)·g²) + ε)
    const F0 = mod.direction(p.theta, p.g, { v0: 1 }, 0);
    p.g.forEach((g, j) => expect(F0[j]).toBeCloseTo(g / (Math.sqrt(0.99 + 0.01 * g * g) + 1e-8), 12));
  });

  it('a later state reads the earlier one started at v₀: its constant-history value carries α^{n+1}·v₀', () => {
    const rule = parseRule(MOMENTUM_V0.replace('state b = mu*b + g/(sqrt(v)+eps)', 'state b = mu*b + v').replace('update b', 'update g*b'), 'x.rule');
    const d = derive(rule, { exactN: true, verify: true });
    const b = exactOf(d.exactN).states.find((s) => s.name === 'b')!.constantHistory;
    // b₁ = v₁ = α·v₀ + (1 − α)·g², b₂ = μ·b₁ + v₂
    const env = { g: 0.8, theta: 0, alpha: 0.7, mu: 0.5, eps: 0, v0: 2 };
    const v1 = 0.7 * 2 + 0.3 * 0.64, v2 = 0.7 * v1 + 0.3 * 0.64;
    expect(evaluate(b, { ...env, n: 0 })).toBeCloseTo(v1, 12);
    expect(evaluate(b, { ...env, n: 1 })).toBeCloseTo(0.5 * v1 + v2, 12);
  });

  it('on a batch history the exact-n weights are unavailable, with the reason; the asymptotic ones stand; validate --batches says so', async () => {
    const source = 'optimizer HB\nparam beta = 0.9 in (0, 1)\nparam m0 = 1 in (-inf, inf)\nstate m = beta*m + g from m0\nupdate m\n';
    const b = deriveBatches(derive(parseRule(source, 'x.rule'), { exactN: true, verify: true }), 4);
    expect(b.exactN).toEqual({ unavailable: expect.stringMatching(/state 'm' starts away from 0/) });
    expect(b.noiseCoefficientValue).toBeGreaterThan(0);
    const file = join(mkdtempSync(join(tmpdir(), 'memloss-init-')), 'hb.rule');
    writeFileSync(file, source);
    const r = await capture(() => main(['validate', file, '--batches', '4', '--problem', 'logistic']));
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^memloss: --batches: HB: the exact finite-n history weights are not available: .*state 'm' starts away from 0/m);
    expect(r.stderr).not.toMatch(/internal error/);
  });
});

describe('bad initial values are one located line each', () => {
  const head = 'optimizer X\nparam beta = 0.9 in (0, 1)\nparam v0 = 0.1 in [0, inf)\nfn f(x) = x + g\n';
  const errorsOf = (src: string): string[] => {
    try {
      parseRule(src, 'x.rule');
    } catch (err) {
      if (err instanceof RuleError) return err.diagnostics.map(formatDiagnostic);
      throw err;
    }
    return [];
  };
  it.each([
    ['the gradient', 'state v = beta*v + g^2 from g', /^x\.rule:5:29: the initial value of 'v' is its value before step 0, built from the parameters and numbers; it cannot read the gradient 'g' \[rule\/unknown-symbol\]$/],
    ['a state', 'state m = beta*m + g\nstate v = beta*v + g^2 from m', /^x\.rule:6:29: the initial value of 'v' .*; it cannot read the state 'm' \[rule\/unknown-symbol\]$/],
    ['the state itself', 'state v = beta*v + g^2 from 2*v', /^x\.rule:5:31: .*it cannot read 'v' itself \[rule\/unknown-symbol\]$/],
    ['the step index', 'state v = beta*v + g^2 from v0^n', /^x\.rule:5:32: .*it cannot read the step index 'n' \[rule\/unknown-symbol\]$/],
    ['a previous value', 'state m = beta*m + g\nstate v = beta*v + g^2 from prev(m)', /^x\.rule:6:29: .*it cannot read a previous value prev\(…\) \[rule\/unknown-symbol\]$/],
    ['g through a fn helper', 'state v = beta*v + g^2 from f(v0)', /^x\.rule:5:29: the initial value of 'v' reads 'g' through a fn call; it may read the parameters and numbers only \[rule\/unknown-symbol\]$/],
    ['a syntax error', 'state v = beta*v + g^2 from (v0', /^x\.rule:5:32: syntax error: expected '\)'.*\[rule\/syntax\]$/],
    ['nothing after from', 'state v = beta*v + g^2 from', /^x\.rule:5:24: expected an initial value after 'from'.*\[rule\/syntax\]$/],
    ['from twice', 'state v = beta*v + g^2 from v0 from 1', /^x\.rule:5:32: 'from' is given twice.*\[rule\/syntax\]$/],
    ['not finite at the defaults', 'state v = beta*v + g^2 from log(v0 - 0.1)', /^x\.rule:5:29: the initial value of 'v' is infinite at the default parameters \[rule\/bad-constant\]$/],
    ['a matrix rule (its state is still read: no second error where the update reads it)', 'state v = beta*v + g from v0\nupdate v', /^x\.rule:6:22: initial values \(from …\) are not supported in matrix rules yet.*\[rule\/unsupported\]$/, 'optimizer X\nshape matrix\nparam beta = 0.9 in (0, 1)\nparam v0 = 0.1 in [0, inf)\n\n'],
    ['a parameter named from', 'state v = beta*v + g^2', /^x\.rule:5:7: 'from' is a keyword or a built-in function name \[rule\/reserved-name\]$/, `${head}param from = 1 in (0, 2)\n`],
  ])('%s', (_, line, pattern, prefix = head) => {
    const errs = errorsOf(`${prefix}${line}${line.includes('update') ? '' : '\nupdate g'}`);
    expect(errs).toHaveLength(1);
    expect(errs[0]).toMatch(pattern);
  });
});
