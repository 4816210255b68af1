/** `memloss/numeric`: generated optimizers compiled in memory and the test problems. */
export { loadOptimizer } from './compile.js';
export { loadWasmOptimizer, type WasmOptimizerModule } from './wasm-loader.js';
export { PROBLEMS, problemNames } from './problems/index.js';
export type { Hvp, Hyper, OptimizerModule, OptimizerState, Problem } from './types.js';
export { loadMatrixOptimizer } from '../matrix/module.js';
export type { MatrixShape } from './types.js';
