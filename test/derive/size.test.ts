/** A rule whose exact finite-n expressions outgrow the expander: a clear answer, never a hang or a crash. */
import { expect, it } from 'vitest';
import { parseRule } from '../../src/parse/rule-file.js';
import { derive } from '../../src/derive/index.js';

const big = parseRule(`optimizer Big
param b1 = 0.5 in (0, 1)
param b2 = 0.6 in (0, 1)
param b3 = 0.7 in (0, 1)
state m = b1 * m + (1 - b1) * g
state v = b2 * v + (1 - b2) * (g - m)^2
state w = b3 * w + (1 - b3) * (v - m^2)^2
state z = b1 * z + (1 - b1) * (w - v)^2 * m
update m / sqrt(v + w + z^2 + 1) + z * w
`, 'big.rule');

it('derives the asymptotic form and says why the exact one is unavailable', () => {
  const t0 = performance.now();
  const d = derive(big, { exactN: true });
  expect(d.asymptotic.M.length).toBeGreaterThan(0);
  expect(d.exactN).toEqual({ unavailable: expect.stringMatching(/grow too large/), recursion: expect.anything() });
  expect(performance.now() - t0).toBeLessThan(60_000);
});

it('a nested update whose expressions grow exponentially as trees stops within seconds', () => {
  // twelve levels of m / (v + …): the DAG stays small, but a random-point check walks the
  // tree, whose size is exponential in the nesting (this took about a minute before the bound)
  const nested = parseRule(`optimizer Nested
param b1 = 0.9 in (0, 1)
param b2 = 0.999 in (0, 1)
state m = b1 * m + (1 - b1) * g
state v = b2 * v + (1 - b2) * g^2
update ${'(m / (v + '.repeat(12)}m${'))'.repeat(12)}
`, 'nested.rule');
  const t0 = performance.now();
  const d = derive(nested, { exactN: true });
  expect(d.asymptotic.M.length).toBeGreaterThan(0);
  expect(d.exactN).toEqual({ unavailable: expect.stringMatching(/grow too large \(checking a rewrite would evaluate \d+ nodes, more than 200000\)/), recursion: expect.anything() });
  expect(performance.now() - t0).toBeLessThan(15_000);
});
