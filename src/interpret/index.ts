import type { Rule } from '../ir/rule.js';
import type { Interpretation, RegimeResult } from '../derive/types.js';
export function interpret(rule: Rule, r: RegimeResult, limits: readonly string[]): Interpretation {
  void rule; void r; void limits;
  return { verdict: { kind: 'none', reason: 'todo' }, notes: [] };
}
