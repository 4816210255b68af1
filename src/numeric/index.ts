/** `memloss/numeric`: generated optimizers compiled in memory and the test problems. */
export { loadOptimizer } from './compile.js';
export { loadWasmOptimizer, type WasmOptimizerModule } from './wasm-loader.js';
export { PROBLEMS, problemNames } from './problems/index.js';
export type { Hvp, Hyper, OptimizerModule, OptimizerState, Problem } from './types.js';
export { createLogistic, createMlp, createQuartic, FINITE_SUM_PROBLEMS } from './problems/index.js';
export { PathwiseMemoryless, reshuffledOrder, truncationFor, type BatchOrder, type BatchRegime, type PathwiseOptions, type Truncation } from './batches.js';
export { runBatchValidation, formatBatchValidation, type BatchValidationOptions, type BatchValidationResult } from './validate-batches.js';
export type { FiniteSumProblem, HistoryWeights } from './types.js';
export { loadMatrixOptimizer } from '../matrix/module.js';
export type { MatrixShape } from './types.js';
