import { defineConfig } from 'vitest/config';

/**
 * `npm run test:cluster`: the production topology (stack/cluster.ts), the Temporal server on
 * Postgres with two workers and two APIs as separate processes, faults included. Apart from
 * `npm test` because it builds the server once (minutes) and starts a whole cluster.
 */
export default defineConfig({
  test: {
    include: ['test/cluster/**/*.test.ts'],
    // Builds the Temporal server, schema tool and UI server into the engine cache when missing, with progress.
    globalSetup: ['test/cluster/global-setup.ts'],
    testTimeout: 180_000,
    hookTimeout: 300_000,
    pool: 'forks',
    // One cluster, faults injected one after the other.
    fileParallelism: false,
    expect: { poll: { timeout: 60_000, interval: 200 } },
  },
});
