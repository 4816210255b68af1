/** The names generated code gives the symbols of a rule (every code target shares them). */
import { isPrevName, stateOfPrev } from '../ir/rule.js';

/**
 * The names of a rule's parameters and states in generated code (TypeScript, WebAssembly's
 * loader, WGSL). Injective by construction: each is a prefix followed by the rule's name, no
 * prefix starts another (p_, s_, prev_, a_, state_ differ by their second character), and no
 * name the generators make up starts with one (g, th, n, k, t, i_s, c0, t0, v0_c0, hv0, dim, the
 * tangents ds_…, dprev_…, dg, dth, …). So
 * a state m_prev beside m gives s_m_prev and prev_m, never one name twice.
 */
export const codeName = {
  param: (p: string) => `p_${p}`,
  /** A state's new value sₙ₊₁. */
  state: (s: string) => `s_${s}`,
  /** A state's previous value sₙ. */
  prev: (s: string) => `prev_${s}`,
  /** A state's array (TypeScript, the WebAssembly kernels). */
  array: (s: string) => `a_${s}`,
  /** A state's storage buffer (WGSL; the runner finds it by this prefix). */
  buffer: (s: string) => `state_${s}`,
} as const;

export function nameOf(symbol: string): string {
  if (symbol === 'g') return 'g';
  if (symbol === 'theta') return 'th';
  if (symbol === 'n') return 'n';
  if (symbol === 'k') return 'k';
  if (symbol === 's') return 'i_s';
  if (isPrevName(symbol)) return codeName.prev(stateOfPrev(symbol));
  return codeName.param(symbol);
}
