/** Verdicts that are proved: the cases that were printed as "mixed" or with an always-true condition. */
import { describe, expect, it } from 'vitest';
import { derive } from '../../src/derive/index.js';
import { parseRule } from '../../src/parse/rule-file.js';
import { toText } from '../../src/emit/expr-text.js';

const verdictOf = (source: string) => derive(parseRule(source, 'x.rule')).interpretation.verdict;

describe('verdicts', () => {
  it('m + m³: a weight 3βg²/(1−β) + β/(1−β) whose parts are both positive is regularizing, not mixed', () => {
    const v = verdictOf('optimizer Cubic\nparam beta = 0.9 in (0, 1)\nstate m = beta*m + (1-beta)*g\nupdate m + m^3\n');
    expect(v.kind).toBe('regularizing');
    expect(v.condition).toBeUndefined();
  });

  it('m/(δ + m²)^(1/3): regularizing', () => {
    const v = verdictOf('optimizer Cbrt\nparam beta = 0.9 in (0, 1)\nparam delta = 0.1 in (0, inf)\nstate m = beta*m + (1-beta)*g\nupdate m / (delta + m^2)^(1/3)\n');
    expect(v.kind).toBe('regularizing');
  });

  it("SGD with dampening: the factor μ + μτ² − 2μτ = μ(1 − τ)² is positive on the domain, so there is no condition", () => {
    const v = verdictOf('optimizer SGD\nparam mu = 0.9 in (0, 1)\nparam tau = 0.1 in [0, 1)\nparam lambda = 0.01 in [0, inf)\nstate b = mu*b + (1-tau)*(g + lambda*theta)\nupdate b\n');
    expect(v.kind).toBe('regularizing');
    expect(v.condition).toBeUndefined();
  });

  it('coefficients are printed factored where that is shorter: μ(1 − τ)²/(1 − μ)³, not μ − 2μτ + μτ² over it', () => {
    const d = derive(parseRule('optimizer SGD\nparam mu = 0.9 in (0, 1)\nparam tau = 0.1 in [0, 1)\nparam lambda = 0.01 in [0, inf)\nstate b = mu*b + (1-tau)*(g + lambda*theta)\nupdate b\n', 'x.rule'));
    expect(d.asymptotic.M.map((t) => toText(t.weight))).toEqual(['μ·(1 − τ)²/(1 − μ)³', 'λ·μ·(1 − τ)²/(1 − μ)³']);
    expect(toText(d.asymptotic.F)).toBe('g·(1 − τ)/(1 − μ) + λ·θ·(1 − τ)/(1 − μ)');
  });

  it('SGD with dampening and coupled weight decay is descent on L_λ + h·μ(1 − τ)/(1 − μ)²·½‖∇L_λ‖², L_λ = L + (λ/2)‖θ‖²', () => {
    const d = derive(parseRule('optimizer SGD\nparam mu = 0.9 in (0, 1)\nparam tau = 0.1 in [0, 1)\nparam lambda = 0.01 in [0, inf)\nstate b = mu*b + (1-tau)*(g + lambda*theta)\nupdate b\n', 'x.rule'));
    const ml = d.interpretation.modifiedLoss!;
    expect(toText(ml.weightDecay!)).toBe('λ');
    expect(toText(ml.preconditioner)).toBe('(1 − τ)/(1 − μ)');
    expect(toText(ml.coefficient)).toBe('μ·(1 − τ)/(1 − μ)²');
    expect(toText(ml.potential.perCoordinate)).toBe('(g + λ·θ)²/2');
    // AdamW's decoupled decay is not of that form: no modified loss there
    const adamw = derive(parseRule('optimizer W\nparam beta1 = 0.9 in (0, 1)\nparam beta2 = 0.999 in (0, 1)\nparam eps = 1e-8 in [0, inf)\nparam lambda = 0.01 in [0, inf)\nstate m = beta1*m + (1-beta1)*g\nstate v = beta2*v + (1-beta2)*g^2\nupdate m/(sqrt(v) + eps) + lambda*theta\n', 'w.rule'));
    expect(adamw.interpretation.modifiedLoss).toBeUndefined();
  });

  it('a field g·exp(−g²) has the potential −exp(−g²)/2, and its weight β·exp(−g²)(1 − 2g²)/(1 − β) is not determined', () => {
    const d = derive(parseRule('optimizer E\nparam beta = 0.9 in (0, 1)\nstate m = beta*m + (1-beta)*g\nupdate m*exp(-m^2)\n', 'x.rule'));
    expect(d.interpretation.potentials!.map((p) => toText(p.potential.perCoordinate))).toEqual(['−exp(−g²)/2']);
    expect(d.interpretation.verdict.kind).toBe('mixed');
  });

  it('a sign that really varies is not determined, with sampled evidence of both signs', () => {
    const v = verdictOf('optimizer Mixed\nparam beta = 0.9 in (0, 1)\nstate m = beta*m + (1-beta)*g\nupdate m - m^3\n');
    expect(v.kind).toBe('mixed');
    expect(v.reason).toMatch(/not determined/);
    const [, pos, neg] = /positive at (\d+) and negative at (\d+)/.exec(v.reason)!;
    expect(Number(pos)).toBeGreaterThan(0);
    expect(Number(neg)).toBeGreaterThan(0);
  });

  it('AdamW keeps its parameter condition (β₂ > β₁ anti-regularizes)', () => {
    const v = verdictOf('optimizer AdamW\nparam beta1 = 0.9 in (0, 1)\nparam beta2 = 0.999 in (0, 1)\nstate m = beta1*m + (1-beta1)*g\nstate v = beta2*v + (1-beta2)*g^2\nupdate m / sqrt(v)\n');
    expect(v.kind).toBe('anti-regularizing');
    expect(v.condition).toBeDefined();
  });
});

describe('memloss derive --set', () => {
  it('gives the verdict at other parameter values (AdamW with β₁ > β₂ regularizes)', async () => {
    const { main } = await import('../../src/cli.js');
    const { capture } = await import('../capture.js');
    const at = await capture(() => main(['derive', 'rules/adamw.rule', '--limit', 'eps', '--format', 'json', '--set', 'beta1=0.99,beta2=0.9']));
    expect(at.code).toBe(0);
    const j = JSON.parse(at.stdout) as { interpretation: { verdict: { kind: string } }; parameters: { name: string; default: string }[] };
    expect(j.interpretation.verdict.kind).toBe('regularizing');
    const plain = await capture(() => main(['derive', 'rules/adamw.rule', '--limit', 'eps', '--format', 'json']));
    expect((JSON.parse(plain.stdout) as typeof j).interpretation.verdict.kind).toBe('anti-regularizing');
  });

  it('refuses an unknown name or a value outside the domain in one line', async () => {
    const { main } = await import('../../src/cli.js');
    const { capture, lines } = await import('../capture.js');
    const unknown = await capture(() => main(['derive', 'rules/adamw.rule', '--set', 'beta3=0.5']));
    expect(unknown.code).toBe(1);
    expect(lines(unknown.stderr)).toEqual([expect.stringMatching(/no parameter 'beta3'; did you mean 'beta1'\?/)]);
    const outside = await capture(() => main(['derive', 'rules/adamw.rule', '--set', 'beta1=1.5']));
    expect(outside.code).toBe(1);
    expect(lines(outside.stderr)).toEqual([expect.stringMatching(/beta1 = 1\.5 is outside its declared domain \(0, 1\)/)]);
  });
});
