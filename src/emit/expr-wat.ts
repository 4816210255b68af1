/**
 * Compiles an Expr to WebAssembly instructions that leave its value on the stack, in f64
 * (one coordinate) or f64x2 (two coordinates at once). It mirrors `toJs` (expr-js.ts) node
 * for node — the same association order, `x * x` exactly where JS prints it, division by
 * the collected denominators, bound locals where JS uses a local — so that every operation
 * is the same IEEE operation as in the generated TypeScript module and the results agree
 * to the last bit (except where a JS builtin is imported; see below).
 *
 * Where WebAssembly differs from JS:
 * - `Math.sign` has no instruction: sign(x) = copysign(1, x) when x ≠ 0 and x = x, else x
 *   (so ±0 and NaN pass through, as in JS).
 * - `Math.pow` with any exponent other than ½ and 2, `Math.exp`, `Math.log`, `Math.tanh` are
 *   the JS functions themselves, imported (`m.pow`, `m.exp`, `m.log`, `m.tanh`); in f64x2
 *   code each lane is extracted, passed to the import, and put back (a scalar path inside
 *   the vector loop).
 * - Σ nodes are not compiled: the caller falls back to the TypeScript module for that
 *   function (`hasSum`).
 */
import type { Expr } from '../ir/expr.js';
import { splitCoefficient } from '../ir/expr.js';
import * as Q from '../ir/rational.js';
import { InternalError } from '../ir/diagnostics.js';
import { I, type Ins } from './wasm-binary.js';

export type Lanes = 'f64' | 'f64x2';

/** Imported functions, in import order (their function indices). */
export const IMPORTS = [
  { module: 'm', name: 'pow', arity: 2 },
  { module: 'm', name: 'exp', arity: 1 },
  { module: 'm', name: 'log', arity: 1 },
  { module: 'm', name: 'tanh', arity: 1 },
] as const;
const POW = 0, EXP = 1, LOG = 2, TANH = 3;

/** The import object that supplies IMPORTS, as JavaScript source: each is the Math function of its name. */
export const IMPORT_OBJECT_JS = `{ m: { ${IMPORTS.map((im) => `${im.name}: Math.${im.name}`).join(', ')} } }`;

export interface WatContext {
  readonly lanes: Lanes;
  /** The local that holds a symbol's value (already splatted in f64x2 code). */
  symbol(name: string): number;
  /** Subexpressions held in locals (hoisted invariants, per-coordinate shared values). */
  readonly bound: ReadonlyMap<Expr, number>;
  /** A fresh scratch local of this lane type. */
  temp(): number;
}

/** Binding levels as in expr-js.ts (they decide `x * x` against `Math.pow(x, 2)`): 1 sum, 2 product, 3 unary minus, 4 atom. */
type Level = 1 | 2 | 3 | 4;

export function hasSum(e: Expr): boolean {
  if (e.kind === 'sum') return true;
  switch (e.kind) {
    case 'num': case 'sym': return false;
    case 'add': return e.terms.some(hasSum);
    case 'mul': return e.factors.some(hasSum);
    case 'pow': return hasSum(e.base) || hasSum(e.exp);
    case 'call': return hasSum(e.arg);
  }
}

/** Appends to `out` the instructions that compute e. */
export function toWat(e: Expr, cx: WatContext, out: Ins[]): void {
  new Printer(cx, out).expr(e);
}

class Printer {
  private readonly v: boolean;
  constructor(private readonly cx: WatContext, private readonly out: Ins[]) { this.v = cx.lanes === 'f64x2'; }

  private const(x: number) { this.out.push(this.v ? I.f64x2Const(x) : I.f64Const(x)); }
  private add() { this.out.push(this.v ? I.f64x2Add() : I.f64Add()); }
  private sub() { this.out.push(this.v ? I.f64x2Sub() : I.f64Sub()); }
  private mul() { this.out.push(this.v ? I.f64x2Mul() : I.f64Mul()); }
  private div() { this.out.push(this.v ? I.f64x2Div() : I.f64Div()); }

  private num(v: Q.Rational): Level {
    // expr-js prints integers exactly and other rationals as their nearest double
    const x = v.q === 1n ? Number(v.p.toString()) : Q.toNumber(v);
    this.const(x);
    return x < 0 ? 3 : 4;
  }

  expr(e: Expr): Level {
    const local = this.cx.bound.get(e);
    if (local !== undefined) { this.out.push(I.localGet(local)); return 4; }
    switch (e.kind) {
      case 'num': return this.num(e.value);
      case 'sym': this.out.push(I.localGet(this.cx.symbol(e.name))); return 4;
      case 'add': {
        e.terms.forEach((t, i) => {
          const [c, rest] = splitCoefficient(t);
          if (i > 0 && Q.cmp(c, Q.ZERO) < 0) {
            // a − |c|·rest, as `a - c * (rest)` (or `a - rest`, `a - c`)
            const magnitude = Q.neg(c);
            if (rest.kind === 'num') this.num(magnitude);
            else if (Q.isOne(magnitude)) this.expr(rest);
            else { this.num(magnitude); this.expr(rest); this.mul(); }
            this.sub();
          } else {
            this.expr(t);
            if (i > 0) this.add();
          }
        });
        return 1;
      }
      case 'mul': {
        // top factors left to right, then one division by the product of the denominators
        const bottom: Expr[] = [];
        let tops = 0;
        for (const f of e.factors) {
          if (!this.cx.bound.has(f) && f.kind === 'pow' && f.exp.kind === 'num' && Q.cmp(f.exp.value, Q.ZERO) < 0) { bottom.push(f); continue; }
          this.expr(f);
          if (tops++ > 0) this.mul();
        }
        if (tops === 0) this.const(1);
        if (bottom.length) {
          bottom.forEach((f, i) => {
            if (f.kind !== 'pow' || f.exp.kind !== 'num') throw new InternalError('expr-wat: denominator is not a power');
            this.powOut(f.base, Q.neg(f.exp.value));
            if (i > 0) this.mul();
          });
          this.div();
        }
        return 2;
      }
      case 'pow': {
        if (e.exp.kind === 'num') {
          if (Q.cmp(e.exp.value, Q.ZERO) < 0) {
            this.const(1);
            this.powOut(e.base, Q.neg(e.exp.value));
            this.div();
            return 2;
          }
          return this.powOut(e.base, e.exp.value);
        }
        this.importCall(POW, [e.base, e.exp]);
        return 4;
      }
      case 'call': {
        switch (e.fn) {
          case 'abs': this.expr(e.arg); this.out.push(this.v ? I.f64x2Abs() : I.f64Abs()); break;
          case 'sign': this.sign(e.arg); break;
          case 'exp': this.importCall(EXP, [e.arg]); break;
          case 'log': this.importCall(LOG, [e.arg]); break;
          case 'tanh': this.importCall(TANH, [e.arg]); break;
        }
        return 4;
      }
      case 'sum':
        throw new InternalError('expr-wat: Σ has no WebAssembly form; the caller falls back to the TypeScript module');
    }
  }

  /** b^p for a positive rational p, as powOut in expr-js.ts. */
  private powOut(b: Expr, p: Q.Rational): Level {
    if (Q.eq(p, Q.ONE)) return this.expr(b);
    if (p.p === 1n && p.q === 2n) {
      this.expr(b);
      this.out.push(this.v ? I.f64x2Sqrt() : I.f64Sqrt());
      return 4;
    }
    if (p.q === 1n && p.p === 2n) {
      // JS prints `x * x` for an atom and `Math.pow(x, 2)` otherwise; V8's Math.pow(x, 2) is
      // x·x exactly (checked on 10⁶ random doubles), so both are one multiplication here
      const t = this.cx.temp();
      this.expr(b);
      this.out.push(I.localTee(t), I.localGet(t));
      this.mul();
      return 2;
    }
    this.importCall(POW, [b, p]);
    return 4;
  }

  private sign(arg: Expr) {
    const t = this.cx.temp();
    this.expr(arg);
    this.out.push(I.localSet(t));
    if (!this.v) {
      this.out.push(I.f64Const(1), I.localGet(t), I.f64Copysign(), I.localGet(t));
      this.out.push(I.localGet(t), I.f64Const(0), I.f64Ne(), I.localGet(t), I.localGet(t), I.f64Eq(), I.i32And(), I.select());
    } else {
      // 1.0 has a clear sign bit: or-ing in x's sign bit gives copysign(1, x)
      this.out.push(I.f64x2Const(1), I.localGet(t), I.f64x2Const(-0), I.v128And(), I.v128Or(), I.localGet(t));
      this.out.push(I.localGet(t), I.f64x2Const(0), I.f64x2Ne(), I.localGet(t), I.localGet(t), I.f64x2Eq(), I.v128And(), I.v128Bitselect());
    }
  }

  /** A call to an imported JS function; in f64x2 code, lane by lane. */
  private importCall(fn: number, args: (Expr | Q.Rational)[]) {
    const pushArg = (a: Expr | Q.Rational) => ('kind' in a ? this.expr(a) : this.num(a));
    if (!this.v) {
      for (const a of args) pushArg(a);
      this.out.push(I.call(fn));
      return;
    }
    const ts = args.map((a) => {
      const t = this.cx.temp();
      pushArg(a);
      this.out.push(I.localSet(t));
      return t;
    });
    for (const lane of [0, 1]) {
      for (const t of ts) this.out.push(I.localGet(t), I.f64x2ExtractLane(lane));
      this.out.push(I.call(fn));
      this.out.push(lane === 0 ? I.f64x2Splat() : I.f64x2ReplaceLane(1));
    }
  }
}
