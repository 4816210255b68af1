/** memloss derive / validate / codegen on matrix rules: formats, errors as one line, exit codes. */
import { describe, expect, it } from 'vitest';
import { main } from '../../src/cli.js';
import { capture } from '../capture.js';
import katex from 'katex';
import { readFileSync } from 'node:fs';
import { deriveMatrix } from '../../src/matrix/derive.js';
import { buildMatrixDocument } from '../../src/emit/matrix-document.js';
import { MATRIX_RULES, loadMatrixRule } from './rules.js';

describe('memloss on matrix rules', () => {
  it.each(['text', 'json', 'latex', 'html', 'md'])('derive --format %s', async (format) => {
    const r = await capture(() => main(['derive', 'rules/shampoo.rule', '--format', format]));
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(format === 'text' ? /M = \(β\/\(1 − β\)²\)/ : format === 'json' ? /"shape": "matrix"/ : /Daleckii/);
  });

  it('derive --exact-n of a rule without bias correction: each term on its own sum over past updates', async () => {
    const r = await capture(() => main(['derive', 'rules/one-sided-shampoo.rule', '--exact-n']));
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/with its own field V = Σ_\{s=0\}\^\{n−1\} \(.*\) · F⁽ˢ⁾, F⁽ˢ⁾ = pow\(\(1 − β\^\(s \+ 1\)\) G Gᵀ \+ ε I, -1\/2\) G/);
  });

  it('a shape error is one located line, exit 1', async () => {
    const { mkdtempSync, writeFileSync } = await import('node:fs');
    const { join } = await import('node:path');
    const { tmpdir } = await import('node:os');
    const file = join(mkdtempSync(join(tmpdir(), 'memloss-')), 'bad.rule');
    writeFileSync(file, 'optimizer Bad\nshape matrix\nupdate g * g\n');
    const r = await capture(() => main(['derive', file]));
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/bad\.rule:3:10: matrix product of a r×c and a r×c matrix: sizes cannot agree .* \[rule\/syntax\]/);
  });

  it('codegen --target ts prints the module build writes', async () => {
    const r = await capture(() => main(['codegen', 'rules/muon.rule', '--target', 'ts']));
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(readFileSync('derivations/muon/muon.ts', 'utf8'));
    expect(r.stdout).toContain('import * as LA from "memloss/linalg";');
  });

  it.each(['wasm', 'wat', 'wgsl'])('codegen --target %s on a matrix rule: one line, exit 1', async (target) => {
    const r = await capture(() => main(['codegen', 'rules/muon.rule', '--target', target]));
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain(`--target ${target} is not available for matrix rules (Muon); use --target ts`);
  });

  it('validate runs a matrix rule on a matrix problem', async () => {
    const r = await capture(() => main(['validate', 'rules/muon.rule', '--problem', 'linear-net', '--h', '0.02,0.01', '--horizon', '0.5']));
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/linear-net \(dim 21/);
    expect(r.stdout).toMatch(/ok: slope with exact M/);
  });
});

describe('matrix documents', () => {
  it.each(MATRIX_RULES.flatMap((r) => [[r, 'asymptotic'], [r, 'exact-n']] as const))('%s (%s): every display renders in KaTeX', (name, regime) => {
    const blocks = buildMatrixDocument(deriveMatrix(loadMatrixRule(name)), regime);
    const displays = blocks.flatMap((b) => (b.kind === 'display' ? [b.tex] : []));
    expect(displays.length).toBeGreaterThan(4);
    for (const tex of displays) expect(() => katex.renderToString(tex, { throwOnError: true, displayMode: true }), tex).not.toThrow();
  });
});
