import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/unit/**/*.test.ts', 'test/integration/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // integration suites spawn real daemons; two cores, so keep parallelism modest
    maxWorkers: 2,
  },
});
