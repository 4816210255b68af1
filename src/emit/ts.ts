/** `--target ts`: the standalone TypeScript module of a rule (see src/emit/optimizer-code.ts). */
import type { Rule } from '../ir/rule.js';
import type { Derivation } from '../derive/types.js';
import { optimizerModule } from './optimizer-code.js';

export const emitTs = (rule: Rule, d: Derivation): string => optimizerModule(rule, d, { typescript: true });
