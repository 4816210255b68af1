/** A compact plain-text rendering for messages and assumptions (the emitters print documents). */
import type { Expr } from './expr.js';
import { splitCoefficient } from './expr.js';
import { ratToString, cmp, ZERO, neg } from './rational.js';

const atomic = (s: string) => (/^[A-Za-z0-9_.@]+$/.test(s) || /^\w+\(.*\)$/.test(s) ? s : `(${s})`);

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
    case 'mul': return e.factors.map((f) => atomic(show(f))).join('*');
    case 'pow': return `${atomic(show(e.base))}^${atomic(show(e.exp))}`;
    case 'call': return `${e.fn}(${show(e.arg)})`;
    case 'sum': return `sum(${e.index}=${show(e.lo)}..${show(e.hi)}, ${show(e.body)})`;
  }
}
