/** derive(): rule → Derivation (in progress). */
import type { Rule } from '../ir/rule.js';
import type { Derivation, DeriveOptions } from './types.js';

export function derive(rule: Rule, options: DeriveOptions = {}): Derivation {
  void rule; void options;
  throw new Error('not implemented yet');
}
