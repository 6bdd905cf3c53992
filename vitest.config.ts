import { defineConfig } from 'vitest/config';

/**
 * Tests that load the whole machine (200 learners' cluster processes) run on their own, after the
 * rest: beside them, a browser test's page would wait for CPU, not for the playground.
 */
const isolated = 'test/**/*.isolated.test.ts';

export default defineConfig({
  test: {
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // PTYs, kubectl processes and a browser share two cores: keep parallelism modest.
    maxWorkers: 2,
    reporters: ['default', './test/summary-reporter.ts'],
    projects: [
      { extends: true, test: { name: 'suite', include: ['test/**/*.test.ts'], exclude: [isolated] } },
      { extends: true, test: { name: 'isolated', include: [isolated] } },
    ],
  },
});
