// `memloss validate` through main(): the wiring rule file → derive → compiled optimizer →
// library problems → table, JSON, plot, exit codes. These need loadOptimizer
// (src/numeric/compile.ts) and PROBLEMS (src/numeric/problems/index.ts).
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli.js';
import { capture, hasStackFrame } from '../capture.js';

const tmp = mkdtempSync(join(tmpdir(), 'memloss-validate-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

interface Json {
  ok: boolean;
  parameters: { name: string; value: number; default: number; source: string }[];
  results: { problem: string; slopes: { exact: number; asymptotic: number; none: number }; verdict: { ok: boolean; diagnosis: string }; runs: unknown[] }[];
}

describe('memloss validate', () => {
  it('heavy-ball on the quartic: a table, order 2 with M and 1 without, exit 0', async () => {
    const t0 = performance.now();
    const r = await capture(() => main(['validate', 'rules/heavy-ball.rule']));
    expect(performance.now() - t0).toBeLessThan(10_000);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('parameters: beta = 0.5 (from 0.9: memory shortened)');
    expect(r.stdout).toMatch(/^quartic \(dim \d+, seed 1, horizon 2, /m);
    expect(r.stdout).toMatch(/^ +h +steps +gap exact M +gap asympt\. M +gap no M +order exact/m);
    expect(r.stdout).toMatch(/^0\.0025 +800 /m);
    expect(r.stdout).toMatch(/^ok: slope with exact M \d\.\d\d ≥ 1\.8$/m);
    expect(r.stderr).toBe(''); // not a terminal: no progress bar
  });

  it('--json: the slopes on the quartic and the logistic regression', async () => {
    const r = await capture(() => main(['validate', 'rules/adamw.rule', '--problem', 'quartic,logistic', '--json']));
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout) as Json;
    expect(j.ok).toBe(true);
    expect(j.results.map((x) => x.problem)).toEqual(['quartic', 'logistic']);
    for (const x of j.results) {
      expect(x.slopes.exact).toBeGreaterThanOrEqual(1.8);
      expect(x.slopes.exact).toBeLessThanOrEqual(2.3);
      expect(x.slopes.none).toBeGreaterThanOrEqual(0.8);
      expect(x.slopes.none).toBeLessThanOrEqual(1.3);
      expect(x.runs).toHaveLength(4);
    }
    const eps = j.parameters.find((p) => p.name === 'eps')!;
    expect(eps).toEqual({ name: 'eps', value: 0.2, default: 1e-8, source: 'raised' });
    expect(j.parameters.find((p) => p.name === 'lambda')).toMatchObject({ value: 0.01, source: 'default' });
  });

  it("where it moved parameters, the slopes at the rule's own values follow, for comparison; the exit code stays the validation's", async () => {
    const r = await capture(() => main(['validate', 'rules/heavy-ball.rule']));
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/at the rule's own values \(beta = 0\.9\), for comparison[^\n]*\n  quartic: slopes exact M 0\.76, asymptotic M 0\.92, no M 0\.54; slope with exact M 0\.76 < 1\.8: likely h too large/);
    const j = JSON.parse((await capture(() => main(['validate', 'rules/heavy-ball.rule', '--json']))).stdout) as { atOwnValues: { problem: string; slopes: { exact: number } }[] };
    expect(j.atOwnValues.map((x) => [x.problem, Number(x.slopes.exact.toFixed(2))])).toEqual([['quartic', 0.76]]);
    const skipped = await capture(() => main(['validate', 'rules/heavy-ball.rule', '--no-compare-defaults']));
    expect(skipped.stdout).not.toContain("rule's own values");
    // nothing moved, nothing to compare
    expect((await capture(() => main(['validate', 'rules/heavy-ball.rule', '--set', 'beta=0.5']))).stdout).not.toContain("rule's own values");
  });

  it('--plot writes an SVG with the gaps', async () => {
    const file = join(tmp, 'gaps.svg');
    const r = await capture(() => main(['validate', 'rules/nesterov.rule', '--h', '0.02,0.01,0.005', '--plot', file]));
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`plot written to ${file}`);
    const svg = readFileSync(file, 'utf8');
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg.match(/aria-roledescription="point"/g)).toHaveLength(9);
    expect(svg).toContain('slope 1 (reference)');
  }, 60_000);

  it('--set overrides the validation defaults; β = 0.9 at these step sizes fails with a reason, exit 1', async () => {
    const r = await capture(() => main(['validate', 'rules/heavy-ball.rule', '--set', 'beta=0.9']));
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('parameters: beta = 0.9 (--set)');
    expect(r.stdout).toMatch(/^FAILED: slope with exact M/m);
    expect(r.stderr).toMatch(/^memloss: validation failed on quartic: slope with exact M \d\.\d\d < 1\.8: likely h too large/);
    expect(hasStackFrame(r.stderr)).toBe(false);
  });

  it('exact sign on the memory path: said plainly, exit 1', async () => {
    const r = await capture(() => main(['validate', 'rules/lion.rule']));
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^note: exact sign lies on the memory path/m);
    expect(r.stderr).toContain('not a bug');
  });

  it('gradient descent: the memoryless iteration is the optimizer, exit 0', async () => {
    const r = await capture(() => main(['validate', 'rules/gd.rule', '--json']));
    expect(r.code).toBe(0);
    expect((JSON.parse(r.stdout) as Json).results[0]!.verdict.diagnosis).toBe('exact');
  });

  it.each([
    ['one step size', ['--h', '0.01'], /two different step sizes/],
    ['a step size that is not a number', ['--h', '0.01,abc'], /positive numbers/],
    ['a negative horizon', ['--horizon', '-1'], /--horizon/],
    ['an unknown problem', ['--problem', 'rosenbrock'], /unknown problem 'rosenbrock'; choose from linear-net, logistic, mlp, quartic, sensing or all/],
    ['a --set without a value', ['--set', 'beta'], /name=value/],
    ['a step longer than the horizon', ['--h', '0.5,3', '--horizon', '1'], /longer than the horizon/],
  ])('usage error, exit 2: %s', async (_name, extra, message) => {
    const r = await capture(() => main(['validate', 'rules/heavy-ball.rule', ...extra]));
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stderr).toContain("Run 'memloss validate --help' for usage.");
  });

  it.each([
    ['an unknown parameter', 'betta=0.5', /has no parameter 'betta'; its parameters are beta/],
    ['a value outside the domain', 'beta=1.5', /beta = 1\.5 lies outside its domain \(0, 1\)/],
  ])('--set with %s: exit 2', async (_name, set, message) => {
    const r = await capture(() => main(['validate', 'rules/heavy-ball.rule', '--set', set]));
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
  });

  it('a missing rule file: exit 1', async () => {
    const r = await capture(() => main(['validate', join(tmp, 'missing.rule')]));
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/cannot read .*missing\.rule: no such file or directory/);
  });

  it('a rule error: exit 1 with the located diagnostic', async () => {
    const file = join(tmp, 'bad.rule');
    writeFileSync(file, 'optimizer Bad\nparam beta = 0.9 in (0, 1)\nstate m = beta * m + (1 - betta) * g\nupdate m\n');
    const r = await capture(() => main(['validate', file]));
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('betta');
    expect(existsSync(file)).toBe(true);
  });

  it('--help lists the options; -h still means help, --h means step sizes', async () => {
    const r = await capture(() => main(['validate', '-h']));
    expect(r.code).toBe(0);
    for (const option of ['--problem', '--step-sizes', '--h LIST', '--horizon', '--set', '--seed', '--plot', '--json']) expect(r.stdout).toContain(option);
    const top = await capture(() => main(['--help']));
    expect(top.stdout).toContain('validate <rule>');
  });
});

describe('docs/validate.md', () => {
  const doc = readFileSync('docs/validate.md', 'utf8');
  /** Timings differ from run to run. */
  const untimed = (text: string) => text.replace(/, \d+\.\d\d s\)/g, ', … s)');

  it('the worked example is what the command prints', async () => {
    const block = /```\n\$ memloss (validate [^\n]*)\n([\s\S]*?)```/.exec(doc)!;
    const args = block[1]!.split(' ');
    const plot = join(tmp, 'heavy-ball-gaps.svg');
    const r = await capture(() => main(args.map((a) => (a === 'heavy-ball-gaps.svg' ? plot : a))));
    expect(r.code).toBe(0);
    expect(untimed(r.stdout.replace(plot, 'heavy-ball-gaps.svg'))).toBe(untimed(block[2]!));
  });

  it('the slopes it quotes for heavy-ball at β = 0.9', async () => {
    expect(doc).toContain('passes with slope 1.89');
    const small = await capture(() => main(['validate', 'rules/heavy-ball.rule', '--set', 'beta=0.9', '--h', '0.0005,0.00025,0.000125,0.0000625']));
    expect(small.code).toBe(0);
    expect(small.stdout).toContain('ok: slope with exact M 1.89 ≥ 1.8');
    expect(doc).toContain('(slope 0.76, "h too large")');
    const large = await capture(() => main(['validate', 'rules/heavy-ball.rule', '--set', 'beta=0.9']));
    expect(large.stderr).toContain('slope with exact M 0.76 < 1.8: likely h too large');
  });
});
