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

describe('docs/minibatch.md', () => {
  const doc = readFileSync('docs/minibatch.md', 'utf8');
  beforeAll(() => {
    execFileSync('npx', ['tsc', '-p', 'tsconfig.build.json']);
  }, 120_000);

  it('the heavy-ball lines it quotes are what `memloss derive --batches 10` prints', async () => {
    const r = await capture(() => main(['derive', 'rules/heavy-ball.rule', '--batches', '10']));
    expect(r.code).toBe(0);
    for (const line of blockAfter(doc, 'prints, among the rest').trim().split('\n')) expect(r.stdout).toContain(line.trim());
  });

  it('the adaptive-rule error it quotes is the one printed', async () => {
    const r = await capture(() => main(['derive', 'rules/adamw.rule', '--batches', '4']));
    expect(r.stderr.trim()).toBe(blockAfter(doc, '## Which rules').trim().split('\n').slice(1).join('\n'));
  });

  it('the validate run it shows is what validate prints (timings aside)', async () => {
    const r = await capture(() => main(['validate', 'rules/heavy-ball.rule', '--problem', 'logistic,mlp', '--batches', '10']));
    expect(r.code).toBe(0);
    const untimed = (s: string) => s.trim().split('\n').map((l) => l.replace(/, [\d.]+ s\)$/, ')'));
    expect(untimed(r.stdout)).toEqual(untimed(blockAfter(doc, '## Checking it by training runs').split('\n').slice(1).join('\n')));
  });

  it('the table and the code example run and print what the page shows', () => {
    const table = execFileSync(process.execPath, ['docs/examples/minibatch-table.mjs'], { encoding: 'utf8' });
    expect(table.trim()).toBe(blockAfter(doc, 'node docs/examples/minibatch-table.mjs').trim());
    const pathwise = execFileSync(process.execPath, ['docs/examples/minibatch-pathwise.mjs'], { encoding: 'utf8' });
    expect(doc).toContain(`it prints \`${pathwise.trim()}\``);
    expect(doc).toContain(readFileSync('docs/examples/minibatch-pathwise.mjs', 'utf8').split('\n').slice(1).join('\n').trim());
  });
});
