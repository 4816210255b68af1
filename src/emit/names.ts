/**
 * How symbol names read in the human-facing printers: a letter name followed by digits
 * gets the digits as a subscript (beta1 → β₁), Greek letter names become Greek letters,
 * `eps` is ε, and an `_` starts a subscript (v_hat → v with subscript hat).
 */

/**
 * Greek letter names → [LaTeX, Unicode]. `eps` is the usual ε of optimizers. Maps, not
 * objects: a name like `constructor` must not find Object.prototype's member.
 */
const GREEK: ReadonlyMap<string, readonly [string, string]> = new Map(Object.entries({
  alpha: ['\\alpha', 'α'], beta: ['\\beta', 'β'], gamma: ['\\gamma', 'γ'], delta: ['\\delta', 'δ'],
  epsilon: ['\\epsilon', 'ϵ'], eps: ['\\varepsilon', 'ε'], varepsilon: ['\\varepsilon', 'ε'],
  zeta: ['\\zeta', 'ζ'], eta: ['\\eta', 'η'], theta: ['\\theta', 'θ'], vartheta: ['\\vartheta', 'ϑ'],
  iota: ['\\iota', 'ι'], kappa: ['\\kappa', 'κ'], lambda: ['\\lambda', 'λ'], mu: ['\\mu', 'μ'],
  nu: ['\\nu', 'ν'], xi: ['\\xi', 'ξ'], pi: ['\\pi', 'π'], rho: ['\\rho', 'ρ'], sigma: ['\\sigma', 'σ'],
  tau: ['\\tau', 'τ'], upsilon: ['\\upsilon', 'υ'], phi: ['\\phi', 'ϕ'], varphi: ['\\varphi', 'φ'],
  chi: ['\\chi', 'χ'], psi: ['\\psi', 'ψ'], omega: ['\\omega', 'ω'],
  Gamma: ['\\Gamma', 'Γ'], Delta: ['\\Delta', 'Δ'], Theta: ['\\Theta', 'Θ'], Lambda: ['\\Lambda', 'Λ'],
  Xi: ['\\Xi', 'Ξ'], Pi: ['\\Pi', 'Π'], Sigma: ['\\Sigma', 'Σ'], Upsilon: ['\\Upsilon', 'Υ'],
  Phi: ['\\Phi', 'Φ'], Psi: ['\\Psi', 'Ψ'], Omega: ['\\Omega', 'Ω'],
} as Record<string, readonly [string, string]>));

/** A name split for display: base letter(s) and subscript parts (beta1 → beta, [1]). */
export interface NameParts {
  readonly base: string;
  readonly sub: readonly string[];
}

/** Splits an identifier: the part before the first `_` loses trailing digits to the subscript. */
export function nameParts(name: string): NameParts {
  // a name splitting would not give back (_x, x_, x__y, __proto__) is shown whole
  if (/^_|_$|__/.test(name)) return { base: name, sub: [] };
  const cut = name.indexOf('_');
  const head = cut < 0 ? name : name.slice(0, cut);
  const tail = cut < 0 ? '' : name.slice(cut + 1);
  const m = /^(.*?[A-Za-z])(\d+)$/.exec(head);
  const base = m ? m[1]! : head;
  const sub: string[] = [];
  if (m) sub.push(m[2]!);
  if (tail) sub.push(...tail.split('_').filter((s) => s.length > 0));
  return { base, sub };
}

/** One name part in LaTeX: Greek command, a single letter, digits, or upright text. */
export function latexWord(w: string): string {
  const g = GREEK.get(w);
  if (g) return g[0];
  if (/^[A-Za-z]$/.test(w) || /^\d+$/.test(w)) return w;
  // identifiers hold letters, digits and _; only _ needs escaping in LaTeX
  return `\\mathrm{${w.replaceAll('_', '\\_')}}`;
}

/** A name in LaTeX with extra subscripts appended (the coordinate j, the step n). */
export function latexName(name: string, extra: readonly string[] = []): string {
  const { base, sub } = nameParts(name);
  const parts = [...sub.map(latexWord), ...extra];
  const b = latexWord(base);
  if (parts.length === 0) return b;
  const s = parts.join(',');
  return s.length === 1 ? `${b}_${s}` : `${b}_{${s}}`;
}

const SUBSCRIPT: ReadonlyMap<string, string> = new Map(Object.entries({
  0: '₀', 1: '₁', 2: '₂', 3: '₃', 4: '₄', 5: '₅', 6: '₆', 7: '₇', 8: '₈', 9: '₉',
  a: 'ₐ', e: 'ₑ', h: 'ₕ', i: 'ᵢ', j: 'ⱼ', k: 'ₖ', l: 'ₗ', m: 'ₘ', n: 'ₙ', o: 'ₒ', p: 'ₚ',
  r: 'ᵣ', s: 'ₛ', t: 'ₜ', u: 'ᵤ', v: 'ᵥ', x: 'ₓ', '+': '₊', '-': '₋', '−': '₋',
}));
const SUPERSCRIPT: ReadonlyMap<string, string> = new Map(Object.entries({
  0: '⁰', 1: '¹', 2: '²', 3: '³', 4: '⁴', 5: '⁵', 6: '⁶', 7: '⁷', 8: '⁸', 9: '⁹', '-': '⁻',
}));

/** Unicode subscript of s, or undefined when some character has none. */
export function subscript(s: string): string | undefined {
  let out = '';
  for (const c of s) {
    const t = SUBSCRIPT.get(c);
    if (t === undefined) return undefined;
    out += t;
  }
  return out;
}

/** Unicode superscript of an integer, e.g. 3 → ³. */
export function superscriptInt(n: bigint): string {
  return [...n.toString()].map((c) => SUPERSCRIPT.get(c)!).join('');
}

/** One name part in Unicode: Greek letter or as written. */
export const textWord = (w: string) => GREEK.get(w)?.[1] ?? w;

/** A name in Unicode: β₁, ε, θⱼ; parts without Unicode subscripts fall back to _part. */
export function textName(name: string, extra: readonly string[] = []): string {
  const { base, sub } = nameParts(name);
  let out = textWord(base);
  for (const part of [...sub, ...extra]) {
    const s = subscript(part);
    out += s ?? `_${textWord(part)}`;
  }
  return out;
}
