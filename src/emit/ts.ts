/** `--target ts`: the standalone TypeScript module of a rule (see src/emit/optimizer-code.ts and src/emit/matrix-code.ts). */
import type { Rule } from '../ir/rule.js';
import type { Derivation } from '../derive/types.js';
import type { MatrixDerivation } from '../matrix/derive.js';
import { optimizerModule } from './optimizer-code.js';
import { matrixOptimizerModule } from './matrix-code.js';

export const emitTs = (rule: Rule, d: Derivation): string => optimizerModule(rule, d, { typescript: true });

/** A matrix rule's module: straight-line calls into the runtime memloss/linalg. */
export const emitMatrixTs = (d: MatrixDerivation): string => matrixOptimizerModule(d, { typescript: true });
