/** A compact plain-text rendering for messages and assumptions (the emitters print documents). */
import type { Expr } from './expr.js';
import { splitCoefficient } from './expr.js';
import { ratToString, cmp, ZERO, neg } from './rational.js';

const atomic = (s: string) => (/^[A-Za-z0-9_.@]+(\^[A-Za-z0-9_.@]+)?$/.test(s) || /^\w+\([^()]*\)$/.test(s) ? s : `(${s})`);

/** x^(−k) as the k-th power of a denominator: the factor's base and positive exponent, or undefined. */
function denominator(f: Expr): Expr | undefined {
  if (f.kind !== 'pow' || f.exp.kind !== 'num' || cmp(f.exp.value, ZERO) >= 0) return undefined;
  const k = neg(f.exp.value);
  return k.p === 1n && k.q === 1n ? f.base : { kind: 'pow', base: f.base, exp: { kind: 'num', value: k } } as Expr;
}

export function show(e: Expr): string {
  switch (e.kind) {
    case 'num': return ratToString(e.value);
    // prev(m), as the rule is written: m_prev could be a user's own state
    case 'sym': return e.name.endsWith('@prev') ? `prev(${e.name.slice(0, -5)})` : e.name.replace(/^@/, '');
    case 'add':
      return e.terms.map((t, i) => {
        const [c, rest] = splitCoefficient(t);
        if (i > 0 && cmp(c, ZERO) < 0) return ` - ${show(rest.kind === 'num' ? rest : (c.p === -1n && c.q === 1n ? rest : { kind: 'mul', factors: [{ kind: 'num', value: neg(c) }, rest] } as Expr))}`;
        return i > 0 ? ` + ${show(t)}` : show(t);
      }).join('');
    case 'mul': {
      // a·b/(c·d), and −a·b for a coefficient of −1
      const dens = e.factors.map(denominator);
      const nums = e.factors.filter((_, i) => !dens[i]);
      const minus = nums[0]?.kind === 'num' && nums[0].value.p === -1n && nums[0].value.q === 1n && nums.length > 1;
      const top = (minus ? nums.slice(1) : nums).map((f) => atomic(show(f))).join('*') || '1';
      const bottom = dens.filter((d): d is Expr => d !== undefined);
      const body = bottom.length ? `${top}/${bottom.length === 1 ? atomic(show(bottom[0]!)) : `(${bottom.map((d) => atomic(show(d))).join('*')})`}` : top;
      return minus ? `-${body}` : body;
    }
    case 'pow': {
      const d = denominator(e);
      if (d) return `1/${atomic(show(d))}`;
      return `${atomic(show(e.base))}^${atomic(show(e.exp))}`;
    }
    case 'call': return `${e.fn}(${show(e.arg)})`;
    case 'sum': return `sum(${e.index}=${show(e.lo)}..${show(e.hi)}, ${show(e.body)})`;
  }
}
