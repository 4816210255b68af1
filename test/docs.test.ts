/** The documentation's examples are runnable and say what the tool says. */
import { beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { main } from '../src/cli.js';
import { capture } from './capture.js';

const tutorial = readFileSync('docs/tutorial.md', 'utf8');

/** The i-th fenced code block after the first occurrence of `marker`. */
function blockAfter(doc: string, marker: string, i = 0): string {
  const from = doc.indexOf(marker);
  expect(from, marker).toBeGreaterThanOrEqual(0);
  const blocks = [...doc.slice(from).matchAll(/```[a-z]*\n([\s\S]*?)```/g)];
  return blocks[i]![1]!;
}

describe('docs/tutorial.md', () => {
  it('the QHM lines it quotes are what `memloss derive` prints', async () => {
    const r = await capture(() => main(['derive', 'docs/examples/qhm.rule']));
    expect(r.code).toBe(0);
    for (const line of blockAfter(tutorial, 'prints, among the rest').trim().split('\n')) expect(r.stdout).toContain(line.trim());
  });

  it('the Adagrad error it quotes is the one printed, here and in the rule-language page', async () => {
    const r = await capture(() => main(['derive', 'rules/rejected/adagrad.rule']));
    expect(r.code).toBe(1);
    const quoted = blockAfter(tutorial, '## 4. See an error', 1).trim();
    expect(r.stderr.trim()).toBe(quoted);
    expect(readFileSync('docs/rule-language.md', 'utf8')).toContain(quoted);
  });

  describe('the library example', () => {
    beforeAll(() => {
      execFileSync('npx', ['tsc', '-p', 'tsconfig.build.json']);
    }, 120_000);
    it('runs and prints the weight it promises', () => {
      const out = execFileSync(process.execPath, ['docs/examples/library.mjs'], { encoding: 'utf8' });
      expect(out).toMatch(/weight of H·g at β = 0\.9, ν = 0\.5: 4\.5/);
      expect(out).toMatch(/verdict: regularizing/);
      expect(tutorial).toContain(readFileSync('docs/examples/library.mjs', 'utf8').split('\n').slice(1).join('\n').trim());
    });
  });
});
