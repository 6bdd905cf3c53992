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
    // expect.poll waits 1 s by default: a shell's fork and exec, a kubectl run or a page's round
    // trip can take longer than that on a loaded machine. A poll that holds still returns at once.
    expect: { poll: { timeout: 10_000 } },
    reporters: ['default', './test/summary-reporter.ts'],
    projects: [
      { extends: true, test: { name: 'suite', include: ['test/**/*.test.ts'], exclude: [isolated] } },
      { extends: true, test: { name: 'isolated', include: [isolated] } },
    ],
  },
});
