import { configDefaults, defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // Unit tests sit beside their code (domain/, capture/, api/, codec/, config/); the tiers that need
    // servers sit under test/ by what they run against (docs/contributing.md#tests-by-tier).
    include: ['**/*.test.ts'],
    // The production topology has its own run: `npm run test:cluster` (vitest.cluster.config.ts).
    exclude: [...configDefaults.exclude, 'test/cluster/**', '.data/**'],
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
