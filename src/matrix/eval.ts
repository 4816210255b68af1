/**
 * Float64 evaluation of matrix expressions. One evaluator holds the leaf values (g, θ,
 * states, directions), the scalar environment and the parameter's shape, and memoizes
 * every subexpression and every eigendecomposition by structural key, so F and the
 * derivative terms of M that share a matrix function decompose it once.
 */
import { evaluate, type Env } from '../ir/eval.js';
import type { MExpr } from './expr.js';
import { mkey, pValue } from './expr.js';
import * as LA from './linalg.js';
import type { Eig, Mat } from './linalg.js';

export class MatrixEvaluator {
  private readonly memo = new Map<string, Mat>();
  private readonly eigs = new Map<string, Eig>();
  constructor(
    private readonly leaves: ReadonlyMap<string, Mat>,
    private readonly scalars: Env,
    private readonly shape: { readonly rows: number; readonly cols: number },
  ) {}

  /** An evaluator with more leaves that shares this one's memo (the new leaves must be new names). */
  extend(extra: ReadonlyMap<string, Mat>): MatrixEvaluator {
    const ev = new MatrixEvaluator(new Map([...this.leaves, ...extra]), this.scalars, this.shape);
    for (const [k, v] of this.memo) ev.memo.set(k, v);
    for (const [k, v] of this.eigs) ev.eigs.set(k, v);
    return ev;
  }

  scalar(e: Parameters<typeof evaluate>[0]): number {
    return evaluate(e, this.scalars);
  }

  /** The eigendecomposition of a symmetric argument (cached). */
  eig(m: MExpr): Eig {
    const k = mkey(m);
    let e = this.eigs.get(k);
    if (!e) this.eigs.set(k, (e = LA.symEig(this.eval(m))));
    return e;
  }

  private gramEig(m: MExpr): Eig {
    const k = `gram:${mkey(m)}`;
    let e = this.eigs.get(k);
    if (!e) this.eigs.set(k, (e = LA.symEig(LA.polarGram(this.eval(m)))));
    return e;
  }

  eval(m: MExpr): Mat {
    const k = mkey(m);
    let v = this.memo.get(k);
    if (!v) this.memo.set(k, (v = this.compute(m)));
    return v;
  }

  private compute(m: MExpr): Mat {
    switch (m.kind) {
      case 'leaf': {
        const v = this.leaves.get(m.name);
        if (!v) throw new Error(`internal: no value for matrix '${m.name}'`);
        return v;
      }
      case 'I': return LA.identity(m.dim === 'r' ? this.shape.rows : this.shape.cols);
      case 'zero': throw new Error('internal: a zero matrix has no shape to evaluate at');
      case 'scale': return LA.scale(this.scalar(m.coef), this.eval(m.arg));
      case 'add': return m.terms.map((t) => this.eval(t)).reduce((a, b) => LA.add(a, b));
      case 'mul': return m.factors.map((t) => this.eval(t)).reduce((a, b) => LA.matmul(a, b));
      case 'had': return LA.hadamard(this.eval(m.a), this.eval(m.b));
      case 'tr': return LA.transpose(this.eval(m.arg));
      case 'pow': return LA.symPow(this.eig(m.arg), pValue(m.p));
      case 'dpow': return LA.symPowDerivative(this.eig(m.arg), pValue(m.p), this.eval(m.dir));
      case 'msign': return LA.polar(this.eval(m.arg), this.gramEig(m.arg));
      case 'dmsign': return LA.polarDerivative(this.eval(m.arg), this.gramEig(m.arg), this.eval(m.dir));
    }
  }
}
