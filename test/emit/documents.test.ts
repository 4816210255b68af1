import { readdirSync, readFileSync } from 'node:fs';
import katex from 'katex';
import { describe, expect, it } from 'vitest';
import { derive } from '../../src/derive/index.js';
import type { Derivation, Regime } from '../../src/derive/types.js';
import { evaluate } from '../../src/ir/eval.js';
import type { Expr } from '../../src/ir/expr.js';
import { parseRule } from '../../src/parse/rule-file.js';
import { mathjsWithSumOver } from '../../src/emit/mathjs-eval.js';
import { emitHtml } from '../../src/emit/html.js';
import { emitJson, JSON_SCHEMA_VERSION } from '../../src/emit/json.js';
import { emitLatex, latexDisplays } from '../../src/emit/latex.js';
import { emitMarkdown } from '../../src/emit/markdown.js';
import { emitText } from '../../src/emit/text.js';
import { ALL, adamw, heavyBall, hostile, lion } from './fixtures.js';
import { randomEnv, rng } from './random-expr.js';
import { isMatrixRuleFile } from '../derive/helpers.js';

const REGIMES: readonly Regime[] = ['asymptotic', 'exact-n'];
const EMITTERS = { emitText, emitJson, emitLatex, emitHtml, emitMarkdown } as const;

const render = (tex: string) => katex.renderToString(tex, { throwOnError: true, displayMode: true });

/** Every shipped rule, derived in both regimes (the engine is tested in test/derive). */
function shipped(): [string, Derivation][] {
  const dir = new URL('../../rules/', import.meta.url);
  return readdirSync(dir).filter((f) => f.endsWith('.rule') && !isMatrixRuleFile(`rules/${f}`)).sort().map((f) => {
    const file = `rules/${f}`;
    return [f, derive(parseRule(readFileSync(new URL(f, dir), 'utf8'), file), { exactN: true })];
  });
}

describe('LaTeX displays', () => {
  for (const [name, make] of Object.entries(ALL)) {
    for (const regime of REGIMES) {
      it(`${name} (${regime}): every display renders in KaTeX`, () => {
        const displays = latexDisplays(make(), regime);
        expect(displays.length).toBeGreaterThan(5);
        for (const tex of displays) expect(() => render(tex), tex).not.toThrow();
      });
    }
  }

  it('shipped rules: every display (and, through the HTML page, every inline formula) renders', { timeout: 120_000 }, () => {
    for (const [name, d] of shipped()) {
      for (const regime of REGIMES) {
        for (const tex of latexDisplays(d, regime)) expect(() => render(tex), `${name}: ${tex}`).not.toThrow();
        expect(() => emitHtml(d, regime), name).not.toThrow();
      }
    }
  });

  it('the document is complete and balanced', () => {
    const doc = emitLatex(hostile(), 'asymptotic');
    expect(doc.startsWith('\\documentclass{article}\n\\usepackage{amsmath}\n\\begin{document}\n')).toBe(true);
    expect(doc.endsWith('\\end{document}\n')).toBe(true);
    expect(doc.match(/\\usepackage/g)).toHaveLength(1);
    // braces balance once escaped ones are removed; every environment is closed
    const braces = doc.replace(/\\[{}]/g, '');
    expect(braces.split('{').length).toBe(braces.split('}').length);
    for (const env of ['itemize', 'aligned', 'document'])
      expect(doc.split(`\\begin{${env}}`).length, env).toBe(doc.split(`\\end{${env}}`).length);
    expect(doc.split('\\[').length).toBe(doc.split('\\]').length);
    expect(doc.split('\\(').length).toBe(doc.split('\\)').length);
  });

  it('retraces the derivation: rule, unrolled memory, expansion, sums, result, interpretation', () => {
    const doc = emitLatex(heavyBall(), 'asymptotic');
    for (const s of ['m_{n+1} &= ', '\\theta_{n+1} &= \\theta_n - h', 'm_{n+1}\\big|_{\\theta_{n-k} = \\theta}',
      '\\frac{\\partial m_{n+1}}{\\partial g_{n-k}}', '\\sum_{s=n-k}^{n-1} F^{(s)}', 'J_k^{(n)}', '^{\\infty}',
      '\\tilde\\theta_{n+1}', '\\tilde L(\\theta)', 'Verdict: regularizing'])
      expect(doc, s).toContain(s);
  });
});

describe('HTML', () => {
  it('escapes a hostile rule name, citation and note', () => {
    const html = emitHtml(hostile(), 'asymptotic');
    expect(html).not.toContain('<script');
    expect(html).not.toContain('<img');
    expect(html).not.toContain('<b>');
    expect(html).not.toMatch(/<[^>]*onerror/);
    expect(html).toContain('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;q&#39;');
    expect(html).toContain('&lt;img src=x onerror=alert(1)&gt;');
  });

  it('is self-contained: no scripts, stylesheets, fonts or fetched URLs', () => {
    const html = emitHtml(adamw(), 'asymptotic');
    expect(html).toMatch(/^<!DOCTYPE html>\n/);
    expect(html).not.toMatch(/<script|<link|@font-face|@import|url\(|\ssrc=|\shref=/i);
    // the only URL is the MathML namespace, an identifier that is never fetched
    const urls = html.match(/https?:\/\/[^\s"'<>]+/g) ?? [];
    expect(new Set(urls)).toEqual(new Set(['http://www.w3.org/1998/Math/MathML']));
    expect(html).toContain('<math');
  });
});

describe('LaTeX and Markdown escaping', () => {
  it('LaTeX escapes special characters in rule text', () => {
    const doc = emitLatex(hostile(), 'asymptotic');
    expect(doc).toContain('\\section*{Memory correction of \\textless{}script\\textgreater{}alert("x")\\textless{}/script\\textgreater{} \\& \'q\'}');
    expect(doc).toContain('\\$x\\_1\\textasciicircum{}2 \\#5 \\% \\{\\}');
  });

  it('Markdown escapes markup in rule text', () => {
    const md = emitMarkdown(hostile(), 'asymptotic');
    expect(md).not.toMatch(/<script|<img/);
    expect(md).toContain('&lt;script&gt;');
    expect(md).toContain('\\$x\\_1^2 \\#5');
  });
});

describe('determinism', () => {
  for (const [emitter, emit] of Object.entries(EMITTERS)) {
    it(`${emitter} gives identical bytes for identical input, built twice`, () => {
      for (const make of Object.values(ALL)) {
        for (const regime of REGIMES) {
          const a = emit(make(), regime);
          expect(emit(make(), regime)).toBe(a);
          expect(a.endsWith('\n')).toBe(true);
          expect(a).not.toMatch(/\d{4}-\d{2}-\d{2}T/); // no timestamps
        }
      }
    });
  }
});

describe('JSON', () => {
  const math = mathjsWithSumOver();
  type E = { mathjs: string; latex: string; text: string };

  it('has sorted keys, 2-space indentation and the documented top-level fields', () => {
    const s = emitJson(adamw(), 'asymptotic');
    const j = JSON.parse(s) as Record<string, unknown>;
    expect(s).toBe(`${JSON.stringify(j, null, 2)}\n`);
    const sorted = (v: unknown): boolean => {
      if (Array.isArray(v)) return v.every(sorted);
      if (v === null || typeof v !== 'object') return true;
      const keys = Object.keys(v);
      return keys.join('\0') === [...keys].sort().join('\0') && Object.values(v).every(sorted);
    };
    expect(sorted(j)).toBe(true);
    expect(Object.keys(j)).toEqual(['F', 'M', 'assumptions', 'interpretation', 'limits', 'notes', 'parameters', 'regime', 'regimes', 'rule', 'schemaVersion', 'verification']);
    expect(j['schemaVersion']).toBe(JSON_SCHEMA_VERSION);
    expect(j['regime']).toEqual({ requested: 'asymptotic', shown: 'asymptotic', label: 'asymptotic (n → ∞, valid after burn-in)', unavailable: expect.any(String) });
    expect((j['regimes'] as Record<string, unknown>)['exact-n']).toEqual({ unavailable: expect.any(String), evaluatedBy: null });
    expect(j['parameters']).toContainEqual({ name: 'eps', default: '1e-8', value: 1e-8, domain: { text: '[0, inf)', lo: 0, hi: null, loOpen: false, hiOpen: true } });
    const verdict = (j['interpretation'] as { verdict: { condition: { latex: string; text: string; op: string } } }).verdict;
    expect(verdict.condition.text).toBe('β₂ > β₁');
    expect(verdict.condition.latex).toBe('\\beta_2 > \\beta_1');
  });

  it('mathjs strings evaluate to the IR values (F and every M term, both regimes)', () => {
    const r = rng(31337);
    for (const make of [heavyBall, adamw, lion, ALL.unusual]) {
      const d = make();
      for (const regime of REGIMES) {
        const j = JSON.parse(emitJson(d, regime)) as { F: E; M: { weight: E; field: E }[] };
        const shown = regime === 'exact-n' && d.exactN && !('unavailable' in d.exactN) ? d.exactN : d.asymptotic;
        const pairs: [E, Expr][] = [[j.F, shown.F], ...shown.M.flatMap((t, i): [E, Expr][] => [[j.M[i]!.weight, t.weight], [j.M[i]!.field, t.field]])];
        for (let trial = 0; trial < 20; trial++) {
          const env = { ...randomEnv(r), beta: 0.5 + 0.45 * r() };
          const scope = Object.fromEntries(Object.entries(env).map(([k, v]) => [k.replace('@prev', '_prev'), v]));
          for (const [json, e] of pairs) {
            const want = evaluate(e, env);
            const got = math.evaluate(json.mathjs, scope) as number;
            expect(Math.abs(got - want), json.mathjs).toBeLessThanOrEqual(1e-12 * Math.max(1e-300, Math.abs(want)));
          }
        }
      }
    }
  });

  it('marks an exact-n regime that was not derived as null', () => {
    const { exactN: _, ...rest } = heavyBall();
    const j = JSON.parse(emitJson(rest, 'exact-n')) as { regime: { shown: string; unavailable: string }; regimes: Record<string, unknown> };
    expect(j.regimes['exact-n']).toBeNull();
    expect(j.regime.shown).toBe('asymptotic');
    expect(j.regime.unavailable).toMatch(/not derived/);
  });
});

describe('text and Markdown', () => {
  it('states F, M term by term, the iteration, the regime and the interpretation', () => {
    const t = emitText(heavyBall(), 'asymptotic');
    for (const s of ['Regime: asymptotic (n → ∞, valid after burn-in).', 'Limits taken: none.', 'F(θ) = g/(1 − β)',
      'M(θ) = β/(1 − β)² · H·(g/(1 − β))', 'θ̃ₙ₊₁ = θ̃ₙ − h·(F(θ̃ₙ) + h·M(θ̃ₙ))', 'Φ(θ) = Σⱼ gⱼ²/2',
      'L̃(θ) = L(θ) + h·', 'Verdict: regularizing.', 'F⁽ⁿ⁾(θ) = '])
      expect(t, s).toContain(s);
  });

  it('gives the verdict with its condition and the limits taken', () => {
    const t = emitText(adamw(), 'asymptotic');
    expect(t).toContain('Verdict: anti-regularizing when β₂ > β₁ (otherwise regularizing).');
    expect(t).toContain('Limits taken: ε → 0.');
    expect(t).toContain('--limit eps');
  });

  it('falls back to the asymptotic result, saying so, when exact n has no closed form', () => {
    const t = emitText(adamw(), 'exact-n');
    expect(t).toContain('Regime: asymptotic (n → ∞, valid after burn-in). The exact finite-n form is unavailable');
    expect(t).not.toContain('F⁽ⁿ⁾');
  });

  it('says M vanishes when it does', () => {
    expect(emitText(lion(), 'asymptotic')).toContain('M(θ) = 0 (almost everywhere)');
    expect(emitMarkdown(lion(), 'asymptotic')).toContain('M_j(\\theta) = 0 \\quad \\text{(almost everywhere)}');
  });

  it('Markdown carries the same content with $…$ mathematics', () => {
    const md = emitMarkdown(heavyBall(), 'exact-n');
    expect(md).toMatch(/^# Memory correction of Heavy-ball\n/);
    expect(md).toContain('Regime: exact finite n.');
    expect(md).toContain('$$\nF^{(n)}_j(\\theta) = ');
    for (const tex of md.match(/\$\$\n[\s\S]*?\n\$\$/g) ?? []) expect(() => render(tex.slice(3, -3))).not.toThrow();
  });
});
