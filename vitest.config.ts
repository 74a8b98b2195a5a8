import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // Interop tests start real peers on free loopback ports; two cores: keep the fan-out small.
    maxWorkers: 2,
    minWorkers: 1,
  },
});
