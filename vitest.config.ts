import { defineConfig } from 'vitest/config';

// Two tiers: unit tests (pure logic, seconds) and integration tests (real servers on loopback,
// the daemon as a child process), the heaviest of them one at a time. `npm test` runs them all;
// `npm run test:unit` iterates fast.
/** What every integration file gets: real peers on loopback, generous limits for a busy machine. */
const INTEGRATION = {
  environment: 'node',
  testTimeout: 60_000,
  hookTimeout: 60_000,
  globalSetup: ['test/helpers/global-setup.ts'],
};

/** Integration files that start several processes each (see the `integration-serial` project). */
const SERIAL = [
  'test/integration/fleet*.test.ts',
  'test/integration/reliability.test.ts',
  'test/integration/redis-store-outage.test.ts',
  'test/integration/demo.test.ts',
  'test/integration/console-browser.test.ts',
  'test/integration/status-history-browser.test.ts',
  'test/integration/install.test.ts',
];

export default defineConfig({
  test: {
    reporters: ['default', './test/helpers/summary-reporter.ts'],
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts', 'test/scenarios/**/*.test.ts'],
          environment: 'node',
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          exclude: SERIAL,
          ...INTEGRATION,
        },
      },
      {
        // Files that start fleets of processes (daemons, workers, Redis, kill -9 loops, a browser):
        // one at a time, after the others, so that two of them never share the two cores.
        test: {
          name: 'integration-serial',
          include: SERIAL,
          fileParallelism: false,
          ...INTEGRATION,
        },
      },
    ],
  },
});
