/**
 * Fréchet (directional) derivatives of matrix expressions as an expression transformation:
 * D m [leaf ↦ direction] by the product rule, D(Xᵀ) = (DX)ᵀ, D(A^p) = dpow(A, p, DA) and
 * D msign(A) = dmsign(A, DA). Leaves without a direction are constant.
 */
import { InternalError } from '../ir/diagnostics.js';
import * as M from './expr.js';
import type { MExpr } from './expr.js';

export function frechet(m: MExpr, dirs: ReadonlyMap<string, MExpr>): MExpr {
  const d = (x: MExpr) => frechet(x, dirs);
  switch (m.kind) {
    case 'leaf': return dirs.get(m.name) ?? M.ZERO;
    case 'I': case 'zero': return M.ZERO;
    case 'scale': return M.scale(m.coef, d(m.arg));
    case 'add': return M.add(...m.terms.map(d));
    case 'mul': return M.add(...m.factors.map((_, i) => {
      const di = d(m.factors[i]!);
      return M.isZero(di) ? M.ZERO : M.mul(...m.factors.map((f, j) => (j === i ? di : f)));
    }));
    case 'had': {
      const da = d(m.a), db = d(m.b);
      return M.add(M.isZero(da) ? M.ZERO : M.had(da, m.b), M.isZero(db) ? M.ZERO : M.had(m.a, db));
    }
    case 'tr': return M.tr(d(m.arg));
    case 'pow': return M.dpow(m.arg, m.p, d(m.arg));
    case 'msign': return M.dmsign(m.arg, d(m.arg));
    case 'dpow': case 'dmsign':
      throw new InternalError('second Fréchet derivatives of matrix functions are not implemented');
  }
}
