/**
 * Free text (rule names, citations, notes, reasons) inside a LaTeX document. LaTeX's
 * special characters are escaped, and the Unicode mathematics the derivation's notes use
 * (β₁, θ̃ₙ₊₁, ‖∇L‖², ε → 0) becomes inline math, because pdflatex's default fonts have no
 * Greek letters or subscript digits. Other non-ASCII characters pass through as UTF-8.
 */

/** Unicode symbols → math-mode LaTeX. */
const MATH: Readonly<Record<string, string>> = {
  α: '\\alpha', β: '\\beta', γ: '\\gamma', δ: '\\delta', ε: '\\varepsilon', ϵ: '\\epsilon', ζ: '\\zeta',
  η: '\\eta', θ: '\\theta', ϑ: '\\vartheta', ι: '\\iota', κ: '\\kappa', λ: '\\lambda', μ: '\\mu', ν: '\\nu',
  ξ: '\\xi', π: '\\pi', ρ: '\\rho', σ: '\\sigma', τ: '\\tau', υ: '\\upsilon', ϕ: '\\phi', φ: '\\varphi',
  χ: '\\chi', ψ: '\\psi', ω: '\\omega', Γ: '\\Gamma', Δ: '\\Delta', Θ: '\\Theta', Λ: '\\Lambda', Ξ: '\\Xi',
  Π: '\\Pi', Σ: '\\Sigma', Φ: '\\Phi', Ψ: '\\Psi', Ω: '\\Omega',
  '∇': '\\nabla', '∂': '\\partial', '‖': '\\|', '·': '\\cdot', '∘': '\\circ', '×': '\\times', '−': '-',
  '→': '\\to', '←': '\\leftarrow', '⇒': '\\Rightarrow', '∞': '\\infty', '≤': '\\le', '≥': '\\ge',
  '≠': '\\ne', '≈': '\\approx', '≡': '\\equiv', '∈': '\\in', '∉': '\\notin', '±': '\\pm', '√': '\\surd',
  '∑': '\\sum', 'ᵀ': '^{\\mathsf{T}}', '⊙': '\\odot', '…': '\\dots', '⋯': '\\cdots', 'ℓ': '\\ell',
};
const SUB: Readonly<Record<string, string>> = {
  '₀': '0', '₁': '1', '₂': '2', '₃': '3', '₄': '4', '₅': '5', '₆': '6', '₇': '7', '₈': '8', '₉': '9',
  '₊': '+', '₋': '-', 'ₐ': 'a', 'ₑ': 'e', 'ₕ': 'h', 'ᵢ': 'i', 'ⱼ': 'j', 'ₖ': 'k', 'ₗ': 'l', 'ₘ': 'm',
  'ₙ': 'n', 'ₒ': 'o', 'ₚ': 'p', 'ᵣ': 'r', 'ₛ': 's', 'ₜ': 't', 'ᵤ': 'u', 'ᵥ': 'v', 'ₓ': 'x', '₍': '(', '₎': ')',
  '₌': '=',
};
const SUP: Readonly<Record<string, string>> = {
  '⁰': '0', '¹': '1', '²': '2', '³': '3', '⁴': '4', '⁵': '5', '⁶': '6', '⁷': '7', '⁸': '8', '⁹': '9',
  '⁺': '+', '⁻': '-', '⁼': '=', '⁽': '(', '⁾': ')', 'ⁿ': 'n', 'ⁱ': 'i', 'ʲ': 'j', 'ᵏ': 'k', 'ˢ': 's', 'ᵗ': 't',
  'ᵐ': 'm', 'ᵈ': 'd',
};
/** Combining accents → the LaTeX accent over the preceding symbol. */
const ACCENT: Readonly<Record<string, string>> = { '\u0303': '\\tilde', '\u0302': '\\hat', '\u0304': '\\bar' };
/** Text-mode escapes; < > | print as other glyphs in the default OT1 encoding. */
const ESCAPE: Readonly<Record<string, string>> = {
  '\\': '\\textbackslash{}', '{': '\\{', '}': '\\}', $: '\\$', '&': '\\&', '#': '\\#', '%': '\\%',
  _: '\\_', '^': '\\textasciicircum{}', '~': '\\textasciitilde{}', '<': '\\textless{}', '>': '\\textgreater{}',
  '|': '\\textbar{}',
};

type Atom = { math: boolean; s: string };

export function latexText(text: string): string {
  const atoms: Atom[] = [];
  const chars = [...text];
  // the previous atom becomes math when a script or accent attaches to it (g + ⱼ → g_j)
  const lastAsMath = (): string => {
    const a = atoms.pop();
    if (!a) return '{}';
    if (a.math) return a.s;
    // a number takes the script whole: 10⁻⁴ is 10^{-4}, not 1 and 0^{-4}
    if (/^[0-9]$/.test(a.s)) {
      let digits = a.s;
      while (atoms.length && !atoms[atoms.length - 1]!.math && /^[0-9.]$/.test(atoms[atoms.length - 1]!.s)) digits = atoms.pop()!.s + digits;
      return digits;
    }
    if (/^[A-Za-z]$/.test(a.s)) return a.s;
    atoms.push(a);
    return '{}';
  };
  for (let i = 0; i < chars.length; i++) {
    const c = chars[i]!;
    const script = SUB[c] !== undefined ? SUB : SUP[c] !== undefined ? SUP : undefined;
    if (script) {
      let group = '';
      while (i < chars.length && script[chars[i]!] !== undefined) group += script[chars[i++]!];
      i--;
      const base = lastAsMath();
      atoms.push({ math: true, s: `${base}${script === SUB ? '_' : '^'}{${group}}` });
    } else if (ACCENT[c]) {
      atoms.push({ math: true, s: `${ACCENT[c]}{${lastAsMath()}}` });
    } else if (MATH[c] !== undefined) {
      atoms.push({ math: true, s: MATH[c]! });
    } else if (c === '-' && chars[i + 1] === '-') {
      atoms.push({ math: false, s: '-{}' }); // -- would be an en dash: --limit stays two hyphens
    } else {
      atoms.push({ math: false, s: ESCAPE[c] ?? c });
    }
  }
  let out = '';
  let math = '';
  const flush = () => { if (math) out += `\\(${math}\\)`; math = ''; };
  for (const a of atoms) {
    if (!a.math) { flush(); out += a.s; continue; }
    // a control word must not run into the letter after it: \beta x, not \betax
    math += math && /\\[A-Za-z]+$/.test(math) && /^[A-Za-z]/.test(a.s) ? ` ${a.s}` : a.s;
  }
  flush();
  return out;
}
