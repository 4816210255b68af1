/**
 * The generated optimizer module, compiled in memory: the same code that
 * `derivations/<name>/<name>.ts` holds, emitted as JavaScript and loaded with `new Function`
 * (it references nothing but Math and its own locals; no rule text is evaluated as code).
 */
import type { Rule } from '../ir/rule.js';
import type { Derivation } from '../derive/types.js';
import { optimizerModule } from '../emit/optimizer-code.js';
import type { OptimizerModule } from './types.js';

export function loadOptimizer(rule: Rule, d: Derivation): OptimizerModule {
  const source = optimizerModule(rule, d, { typescript: false });
  return new Function(`"use strict";\n${source}`)() as OptimizerModule;
}
