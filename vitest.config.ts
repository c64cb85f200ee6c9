import { configDefaults, defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'domain/**/*.test.ts', 'capture/**/*.test.ts'],
    // The production topology has its own run: `npm run test:cluster` (vitest.cluster.config.ts).
    exclude: [...configDefaults.exclude, 'test/cluster/**'],
    // One Temporal dev server and one Postgres for the whole run; each file connects to them.
    globalSetup: ['test/global-setup.ts'],
    // Workflow bundling and the time-skipping JVM take seconds on 2 cores.
    testTimeout: 60_000,
    hookTimeout: 180_000,
    pool: 'forks',
    // expect.poll: workflows apply signals asynchronously; be patient on a loaded 2-core machine.
    expect: { poll: { timeout: 20_000, interval: 50 } },
  },
});
