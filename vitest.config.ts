import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // derivations of random rules take seconds each on a 2-core machine
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
