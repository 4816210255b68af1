/**
 * Test 4: random mutations of the shipped rules never crash or hang: each gives located
 * diagnostics (RuleError) or a valid derivation. Any other exception, an InternalError
 * included, fails the test.
 */
import { describe, expect, it } from 'vitest';
import { readdirSync, readFileSync } from 'node:fs';
import { parseRule, parseRuleFile } from '../../src/parse/rule-file.js';
import { isMatrixRule } from '../../src/ir/rule.js';
import { deriveMatrix } from '../../src/matrix/derive.js';
import { derive } from '../../src/derive/index.js';
import { RuleError } from '../../src/ir/diagnostics.js';
import { mulberry32, isMatrixRuleFile } from '../derive/helpers.js';

const sources = readdirSync('rules').filter((f) => f.endsWith('.rule') && !isMatrixRuleFile(`rules/${f}`)).sort().map((f) => readFileSync(`rules/${f}`, 'utf8'));
const matrixSources = readdirSync('rules').filter((f) => f.endsWith('.rule') && isMatrixRuleFile(`rules/${f}`)).sort().map((f) => readFileSync(`rules/${f}`, 'utf8'));
const POOL = '()+-*/^,.#=0123456789 abgmnvqrtpelhs_\'"[]\n';

function mutate(src: string, rand: () => number): string {
  let s = src;
  const edits = 1 + Math.floor(rand() * 3);
  for (let e = 0; e < edits; e++) {
    const i = Math.floor(rand() * (s.length + 1));
    const lines = s.split('\n');
    switch (Math.floor(rand() * 7)) {
      case 0: s = s.slice(0, i) + s.slice(i + 1); break;
      case 1: s = s.slice(0, i) + POOL[Math.floor(rand() * POOL.length)] + s.slice(i); break;
      case 2: s = s.slice(0, i) + s.slice(i + 1, i + 2) + s.slice(i, i + 1) + s.slice(i + 2); break;
      case 3: lines.splice(Math.floor(rand() * lines.length), 1); s = lines.join('\n'); break;
      case 4: { const k = Math.floor(rand() * lines.length); lines.splice(k, 0, lines[k] ?? ''); s = lines.join('\n'); break; }
      case 5: s = s.replace(/\b(g|m|v|beta1|beta2|eps|theta|n)\b/, () => ['g', 'm', 'v', 'beta1', 'theta', 'n', '2', 'g^2'][Math.floor(rand() * 8)]!); break;
      // matrix rules: swap in other matrix operands and operators
      default: s = s.replace(/\b(g|L|R|b|I)\b|'|\*/, () => ["g'", 'L', 'R', 'I', 'theta', '.*', '*', 'msign(g)', 'pow(L, 2)', '2'][Math.floor(rand() * 10)]!);
    }
  }
  return s;
}

describe('parser fuzzing', () => {
  it('300 mutations: a located error or a derivation, never a crash', () => {
    const rand = mulberry32(2024);
    let derived = 0;
    let rejected = 0;
    for (let i = 0; i < 300; i++) {
      const src = mutate(sources[i % sources.length]!, rand);
      const t0 = performance.now();
      try {
        derive(parseRule(src, 'fuzz.rule'));
        derived++;
      } catch (err) {
        if (!(err instanceof RuleError)) throw new Error(`mutation ${i} crashed with ${String(err)}:\n${src}`);
        for (const d of err.diagnostics) {
          expect(d.span.line, src).toBeGreaterThanOrEqual(1);
          expect(d.span.col, src).toBeGreaterThanOrEqual(1);
          expect(d.message, src).not.toMatch(/\n/);
        }
        rejected++;
      }
      expect(performance.now() - t0, src).toBeLessThan(10_000);
    }
    // both outcomes occur, so the test exercises the engine as well as the parser
    expect(derived).toBeGreaterThan(20);
    expect(rejected).toBeGreaterThan(20);
  });
});

describe('matrix rule fuzzing', () => {
  it('200 mutations of the matrix rules: a located error or a derivation, never a crash', () => {
    const rand = mulberry32(77);
    let derived = 0;
    let rejected = 0;
    for (let i = 0; i < 200; i++) {
      const src = mutate(matrixSources[i % matrixSources.length]!, rand);
      try {
        const r = parseRuleFile(src, 'fuzz.rule');
        if (isMatrixRule(r)) deriveMatrix(r);
        derived++;
      } catch (err) {
        if (!(err instanceof RuleError)) throw new Error(`mutation ${i} crashed with ${String(err)}:\n${src}`);
        for (const d of err.diagnostics) {
          expect(d.span.line, src).toBeGreaterThanOrEqual(1);
          expect(d.span.col, src).toBeGreaterThanOrEqual(1);
          expect(d.message, src).not.toMatch(/\n/);
        }
        rejected++;
      }
    }
    expect(derived).toBeGreaterThan(20);
    expect(rejected).toBeGreaterThan(20);
  });
});
