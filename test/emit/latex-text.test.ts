import katex from 'katex';
import { describe, expect, it } from 'vitest';
import { latexText } from '../../src/emit/latex-text.js';

/** The math segments \(…\) of a converted text. */
const mathOf = (s: string) => [...s.matchAll(/\\\((.*?)\\\)/g)].map((m) => m[1]!);

describe('latexText', () => {
  it('escapes the characters LaTeX treats specially', () => {
    expect(latexText('50% & $x_1 #2 {a} ~ ^ \\ < > |')).toBe(
      '50\\% \\& \\$x\\_1 \\#2 \\{a\\} \\textasciitilde{} \\textasciicircum{} \\textbackslash{} \\textless{} \\textgreater{} \\textbar{}');
  });

  it('turns the Unicode mathematics of notes into inline math that KaTeX reads', () => {
    const s = latexText('θ̃ₙ₊₁ = θ̃ₙ − h·F⁽ˢ⁾(θ̃ₙ), ‖∇L‖₁, β₂ > β₁, gⱼ²/(|gⱼ|+ε)², ε → 0, λ(θᵀ∇L − L)');
    expect(s).toContain('\\(\\tilde{\\theta}_{n+1}\\)');
    expect(s).toContain('F^{(s)}');
    expect(s).toContain('\\(g_{j}^{2}\\)');
    expect(s).not.toMatch(/[^\x00-\x7f]/); // nothing left that pdflatex's default fonts lack
    for (const m of mathOf(s)) expect(() => katex.renderToString(m, { throwOnError: true })).not.toThrow();
  });

  it('leaves plain text and other UTF-8 alone', () => {
    expect(latexText('Zhuang et al., “AdaBelief”, 2020')).toBe('Zhuang et al., “AdaBelief”, 2020');
  });
  it('a number takes its superscript whole: 10⁻⁴ is 10^{-4}', () => {
    expect(latexText('within 10⁻⁴ of 1, and 2.5·10⁻⁴')).toBe('within \\(10^{-4}\\) of 1, and 2.5\\(\\cdot10^{-4}\\)');
  });
  it('keeps a command-line flag two hyphens, not an en dash', () => {
    expect(latexText('(--limit eps)')).toBe('(-{}-limit eps)');
  });
});
