// The catalogue (docs/optimizers.md) and the validations it records: every shipped rule has
// one, recorded for its current text (build --check, test/derivations.test.ts), showing
// second order on the quartic and the logistic problem or failing for the documented
// reason (exact sign on the memory path); a sample is re-run here to show the records are
// what validate measures now.
import { describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { capture } from '../capture.js';
import { main } from '../../src/cli.js';

interface Recorded { rule: string; results: { problem: string; exact: number | null; none: number | null; ok: boolean; reason: string }[] }

const rules = readdirSync('rules').filter((f) => f.endsWith('.rule')).map((f) => f.slice(0, -5)).sort();
const recorded = (name: string) => JSON.parse(readFileSync(join('derivations', name, 'validation.json'), 'utf8')) as Recorded;

describe('the catalogue of optimizers', () => {
  it('has at least 30 rule files, each listed in docs/optimizers.md, refused ones with their reason', () => {
    const rejected = readdirSync('rules/rejected').filter((f) => f.endsWith('.rule'));
    expect(rules.length + rejected.length).toBeGreaterThanOrEqual(30);
    const doc = readFileSync('docs/optimizers.md', 'utf8');
    for (const r of rules) expect(doc).toContain(`\`rules/${r}.rule\``);
    for (const r of rejected) expect(doc).toMatch(new RegExp(`\`rules/rejected/${r.replace('.', '\\.')}\` \\| line \\d+:\\d+: .+\\[rule/`));
  });

  it.each(rules)('%s: the recorded validation shows second order on quartic and logistic, or the documented reason', (name) => {
    const r = recorded(name);
    expect(r.results.map((x) => x.problem)).toEqual(['quartic', 'logistic']);
    for (const x of r.results) {
      if (x.exact === null) { expect(x.ok, `${name} ${x.problem}: gap at rounding`).toBe(true); continue; }
      if (x.ok) {
        expect(x.exact, `${name} ${x.problem}`).toBeGreaterThanOrEqual(1.8);
        expect(x.none!, `${name} ${x.problem}`).toBeLessThanOrEqual(1.3);
      } else expect(x.reason, `${name} ${x.problem}`).toMatch(/exact sign lies on the memory path/);
    }
  });

  // re-measured: a rule of each kind of exact form (closed, recursion, decay 0, matrix)
  it.each(['heavy-ball', 'rmsprop-momentum', 'adan', 'shampoo'])('%s: validate measures what was recorded', async (name) => {
    const r = await capture(() => main(['validate', `rules/${name}.rule`, '--problem', 'quartic,logistic', '--json', '--no-compare-defaults']));
    expect(r.code).toBe(0);
    const now = JSON.parse(r.stdout) as { results: { problem: string; slopes: { exact: number; none: number } }[] };
    const then = recorded(name).results;
    now.results.forEach((x, i) => {
      expect(x.problem).toBe(then[i]!.problem);
      expect(x.slopes.exact).toBeCloseTo(then[i]!.exact!, 3);
      expect(x.slopes.none).toBeCloseTo(then[i]!.none!, 3);
    });
  }, 120_000);

  it('build --validate records the slopes; a changed rule makes the record stale for build --check; a rejected rule that derives is named', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'memloss-catalogue-'));
    mkdirSync(join(dir, 'rules', 'rejected'), { recursive: true });
    const hb = 'optimizer HB\nparam beta = 0.5 in (0, 1)\nstate m = beta*m + g\nupdate m\n';
    writeFileSync(join(dir, 'rules', 'hb.rule'), hb);
    writeFileSync(join(dir, 'rules', 'rejected', 'sum.rule'), 'optimizer Sum\nstate v = v + g^2\nupdate g/sqrt(v + 1)\n');
    const args = ['build', '--rules', join(dir, 'rules'), '--out', join(dir, 'out'), '--catalogue', join(dir, 'optimizers.md')];
    const first = await capture(() => main([...args, '--validate']));
    expect(first.code).toBe(0);
    const doc = readFileSync(join(dir, 'optimizers.md'), 'utf8');
    expect(doc).toMatch(/\| \[HB\]\(.*\) \| `.*hb\.rule` \| coordinate \| closed form \| modified loss, Φ = Σⱼ g²\/2 \| regularizing \| quartic 1\.\d\d \/ 1\.\d\d; logistic 1\.\d\d \/ \d\.\d\d \|/);
    expect(doc).toMatch(/\| Sum \| `.*sum\.rule` \| line 2:7: memory does not decay exponentially/);
    expect((await capture(() => main([...args, '--check']))).code).toBe(0);
    writeFileSync(join(dir, 'rules', 'hb.rule'), hb.replace('0.5', '0.6'));
    await capture(() => main(args));
    const check = await capture(() => main([...args, '--check']));
    expect(check.code).toBe(1);
    expect(check.stderr).toMatch(/validation\.json was recorded for another version of the rule; run 'memloss build --validate'/);
    expect(readFileSync(join(dir, 'optimizers.md'), 'utf8')).toContain('stale (the rule changed; run memloss build --validate)');
    writeFileSync(join(dir, 'rules', 'rejected', 'fine.rule'), hb);
    expect((await capture(() => main(args))).stderr).toMatch(/fine\.rule derives; move it out of/);
  }, 120_000);
});
