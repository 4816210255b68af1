/** Generated ES module text run as CommonJS (esbuild strips the types and rewrites imports and exports). */
import { transform } from 'esbuild';
import * as precise from '../../src/runtime/precise.js';

export async function loadModuleText(source: string, loader: 'ts' | 'js'): Promise<Record<string, unknown>> {
  const { code } = await transform(source, { loader, format: 'cjs', logLevel: 'silent' });
  const module = { exports: {} as Record<string, unknown> };
  // the one import a coordinate-wise module may have: the extended-precision runtime
  const require = (id: string) => {
    if (id !== 'memloss/precise') throw new Error(`unexpected import ${id}`);
    return precise;
  };
  new Function('module', 'exports', 'require', code)(module, module.exports, require);
  return module.exports;
}
