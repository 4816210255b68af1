/**
 * Prints an Expr as a WGSL expression over f32, the GPU counterpart of `expr-js.ts`. Where
 * WGSL differs from JavaScript, the printer says so at the place it differs:
 * - WGSL has no f64: every value is f32, and numbers print as f32 literals (`0.9f`).
 * - WGSL has no `**` and its `pow(x, y)` is exp2(y·log2 x), undefined for x < 0: integer
 *   powers go through the `ipow` helper (repeated squaring, exact sign), half-integer
 *   powers through `ipow(sqrt(x), k)`; only other exponents reach the `pow` builtin.
 * - A Σ with no closed form (some exact-n forms) has no WGSL form here: the printer refuses
 *   it (`WgslUnsupportedError`) instead of printing something wrong; the caller leaves that
 *   function to the CPU.
 * Symbols are renamed by the caller, as in every code printer.
 */
import type { Expr } from '../ir/expr.js';
import * as E from '../ir/expr.js';
import { splitCoefficient } from '../ir/expr.js';
import { RuleError, type Diagnostic, type Span } from '../ir/diagnostics.js';
import type { Rule } from '../ir/rule.js';
import * as Q from '../ir/rational.js';
import { toText } from './expr-text.js';

export type NameOf = (symbol: string) => string;

/** What the WGSL printer cannot print; a generator catches it and keeps that function on the CPU. */
export class WgslUnsupportedError extends Error {}

/**
 * Helper functions the printed expressions may call; every WGSL module that holds a printed
 * expression starts with them. `ipow(x, k)` = xᵏ for k ≥ 0 by repeated squaring: exact sign
 * for negative x, which the `pow` builtin does not give.
 */
export const WGSL_PRELUDE = [
  '// xᵏ for an integer k ≥ 0 by repeated squaring (WGSL pow(x, y) is undefined for x < 0).',
  'fn ipow(x: f32, k: u32) -> f32 {',
  '  var r = 1.0f;',
  '  var b = x;',
  '  var e = k;',
  '  loop {',
  '    if ((e & 1u) == 1u) { r = r * b; }',
  '    e = e >> 1u;',
  '    if (e == 0u) { break; }',
  '    b = b * b;',
  '  }',
  '  return r;',
  '}',
].join('\n');

/** Binding levels: 1 sum, 2 product, 3 unary minus, 4 atom (the same table as expr-js). */
interface Out { s: string; level: number }
const atom = (s: string): Out => ({ s, level: 4 });
const wrap = (o: Out, level: number) => (o.level < level ? `(${o.s})` : o.s);

const F32_MAX = 3.4028234663852886e38;

/**
 * An f32 literal: the shortest decimal that round-trips the float64 value, with the `f`
 * suffix (WGSL rounds it to the nearest f32). WGSL differs: a literal beyond the f32 range is
 * a shader-creation error, so it is refused here.
 */
export function f32Literal(x: number): string {
  if (!Number.isFinite(x) || Math.abs(x) > F32_MAX) throw new WgslUnsupportedError(`the number ${x} has no f32 value`);
  const s = String(Math.abs(x));
  const body = /[.e]/.test(s) ? `${s}f` : `${s}.0f`;
  return x < 0 || Object.is(x, -0) ? `-${body}` : body;
}

/**
 * The rule's own constants (in its states and update, fn calls expanded) each need an f32
 * value: the step kernel prints them. One that has none is the user's to change, so it is a
 * located error (rule/f32-range); a derived function with such a constant stays on the CPU.
 */
export function refuseNonF32Constants(rule: Rule): void {
  const diagnostics: Diagnostic[] = [];
  const parts: [Expr, Span][] = [...rule.states.map((s): [Expr, Span] => [s.rhs, s.span]), [rule.update, rule.updateSpan]];
  for (const [e, span] of parts) {
    const seen = new Set<Expr>();
    const find = (x: Expr): number | undefined => {
      if (seen.has(x)) return undefined;
      seen.add(x);
      if (x.kind === 'num') {
        const v = Q.toNumber(x.value);
        return Math.abs(v) > F32_MAX ? v : undefined;
      }
      for (const c of E.children(x)) {
        const v = find(c);
        if (v !== undefined) return v;
      }
      return undefined;
    };
    const v = find(e);
    if (v !== undefined) diagnostics.push({ code: 'rule/f32-range', span, message: `the constant ${v} has no f32 value (WGSL computes in f32, up to about 3.4e38)` });
  }
  if (diagnostics.length) throw new RuleError(diagnostics);
}

function num(v: Q.Rational): Out {
  const x = Q.toNumber(v);
  const s = f32Literal(x);
  return x < 0 ? { s, level: 3 } : atom(s);
}

/** Prints e; subexpressions in `bound` print as the name that holds them (a local or a uniform). */
export function toWgsl(e: Expr, name: NameOf, bound?: ReadonlyMap<Expr, string>): string {
  return print(e, name, bound).s;
}

function print(e: Expr, name: NameOf, bound?: ReadonlyMap<Expr, string>): Out {
  const local = bound?.get(e);
  if (local) return atom(local);
  const p = (x: Expr) => print(x, name, bound);
  switch (e.kind) {
    case 'num': return num(e.value);
    case 'sym': return atom(name(e.name));
    case 'add': {
      // WGSL differs: `a - -b` would read `--` as the decrement token, so a negative term
      // always prints as `- magnitude`, never as `+ -x` or `- -x`.
      let s = '';
      e.terms.forEach((t, i) => {
        const [c, rest] = splitCoefficient(t);
        const negative = Q.cmp(c, Q.ZERO) < 0;
        if (i > 0 && negative) {
          const magnitude = Q.neg(c);
          const body = rest.kind === 'num' ? num(magnitude).s : Q.isOne(magnitude) ? wrap(p(rest), 2) : `${num(magnitude).s} * ${wrap(p(rest), 3)}`;
          s += ` - ${body}`;
        } else s += i > 0 ? ` + ${wrap(p(t), 2)}` : wrap(p(t), 2);
      });
      return { s, level: 1 };
    }
    case 'mul': {
      const top: string[] = [];
      const bottom: string[] = [];
      for (const f of e.factors) {
        if (!bound?.get(f) && f.kind === 'pow' && f.exp.kind === 'num' && Q.cmp(f.exp.value, Q.ZERO) < 0) {
          bottom.push(wrap(powOut(f.base, Q.neg(f.exp.value), p), 4));
        } else top.push(wrap(p(f), 3));
      }
      let s = top.length ? top.join(' * ') : '1.0f';
      if (bottom.length) s += ` / ${bottom.length === 1 ? bottom[0] : `(${bottom.join(' * ')})`}`;
      return { s, level: 2 };
    }
    case 'pow': {
      if (e.exp.kind === 'num') {
        if (Q.cmp(e.exp.value, Q.ZERO) < 0) return { s: `1.0f / ${wrap(powOut(e.base, Q.neg(e.exp.value), p), 4)}`, level: 2 };
        return powOut(e.base, e.exp.value, p);
      }
      // WGSL differs: pow(x, y) = exp2(y·log2 x), undefined for x < 0 (JavaScript gives NaN
      // there for a non-integer y, so both are meaningless where the other is).
      return atom(`pow(${p(e.base).s}, ${p(e.exp).s})`);
    }
    case 'call': {
      // abs, sign, exp, log, tanh are WGSL builtins with JavaScript's meaning (sign(0) = 0).
      // WGSL differs: tanh may be computed as sinh/cosh, NaN once exp overflows (|x| ≳ 89 in
      // f32); tanh is ±1 in f32 from |x| ≈ 9.1 on, so its argument is clamped to ±15.
      if (e.fn === 'tanh') return atom(`tanh(clamp(${p(e.arg).s}, -15.0f, 15.0f))`);
      return atom(`${e.fn}(${p(e.arg).s})`);
    }
    case 'sum':
      // WGSL differs: no closure to hold an inline loop, and no f64 accumulator; refused.
      throw new WgslUnsupportedError(`a sum with no closed form (${toText(e)}) has no WGSL form here; this function stays on the CPU (the TypeScript module)`);
  }
}

/** b^p for a positive rational p. */
function powOut(b: Expr, p: Q.Rational, printChild: (x: Expr) => Out): Out {
  const base = printChild(b);
  if (Q.eq(p, Q.ONE)) return base;
  if (p.p === 1n && p.q === 2n) return atom(`sqrt(${base.s})`);
  if (p.q === 1n && p.p === 2n && base.level === 4) return { s: `${base.s} * ${base.s}`, level: 2 };
  // WGSL differs: integer and half-integer powers avoid pow(), which is undefined for x < 0.
  if (p.q === 1n) return atom(`ipow(${base.s}, ${p.p}u)`);
  if (p.q === 2n) return atom(`ipow(sqrt(${base.s}), ${p.p}u)`);
  return atom(`pow(${base.s}, ${num(p).s})`);
}
