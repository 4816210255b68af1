import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  // the generated matrix modules (derivations/*/*.ts) import their runtime as the package
  // export memloss/linalg: here, its source (tsconfig.json maps it the same way)
  resolve: {
    alias: {
      'memloss/linalg': fileURLToPath(new URL('./src/matrix/linalg.ts', import.meta.url)),
      'memloss/precise': fileURLToPath(new URL('./src/runtime/precise.ts', import.meta.url)),
    },
  },
  test: {
    include: ['test/**/*.test.ts'],
    // derivations of random rules take seconds each on a 2-core machine
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
