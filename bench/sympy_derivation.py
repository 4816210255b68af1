"""The same derivation done by hand in SymPy, as a peer for `npm run bench:derive`.

Asymptotic memory correction weight A = sum_k k * dF/dg_{n-k} for a rule, by the chain rule,
sympy.summation and sympy.simplify (docs/theory.md section 4). Prints the seconds it took,
import included, as JSON.
"""
import json
import sys
import time

t0 = time.perf_counter()
import sympy as sp  # noqa: E402

t_import = time.perf_counter() - t0
rule = sys.argv[1]
k = sp.Symbol('k', integer=True, positive=True)
g = sp.Symbol('g', positive=True)  # the g > 0 branch; |g| = g there

if rule == 'heavy-ball':
    beta, m = sp.symbols('beta m', positive=True)
    U = m
    history = {m: g / (1 - beta)}
    alpha = sp.diff(U, m).subs(history) * beta**k
    F = U.subs(history)
elif rule == 'adam':
    b1, b2, eps, m, v = sp.symbols('beta1 beta2 eps m v', positive=True)
    U = m / (sp.sqrt(v) + eps)
    history = {m: g, v: g**2}
    alpha = sp.diff(U, m).subs(history) * (1 - b1) * b1**k + sp.diff(U, v).subs(history) * (1 - b2) * b2**k * 2 * g
    F = U.subs(history)
else:
    raise SystemExit(f'no SymPy peer for {rule}')

A = sp.piecewise_fold(sp.summation(k * alpha, (k, 1, sp.oo)))
if isinstance(A, sp.Piecewise):  # the first branch is the |beta| < 1 case
    A = A.args[0][0]
M_weight = sp.simplify(A)
total = time.perf_counter() - t0
print(json.dumps({'rule': rule, 'seconds': total, 'import_seconds': t_import, 'weight': str(M_weight), 'F': str(F)}))
