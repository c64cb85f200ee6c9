import { describe, expect, it } from 'vitest';
import { quietWorkflowBundle } from '../support/time-skipping';

// The SDK keeps per-workflow copies of the bundle's module state, so what the bundle carries every
// open lead carries (docs/benchmarks.md, "What got it there": with zod in it, about 2 GB for 2,700
// open leads). Schemas live in modules workflow code must not reach, even indirectly.
describe('the workflow bundle', () => {
  it('carries no schema, template or I/O library, only the SDK, the rules and the duration parser', async () => {
    const { code } = await quietWorkflowBundle();
    const packages = new Set([...code.matchAll(/^\/\*\*\*\/ "\.\/node_modules\/((?:@[^/]+\/)?[^/]+)\//gm)].map((m) => m[1]));
    expect([...packages].sort()).toEqual(['@temporalio/common', '@temporalio/workflow', 'iso8601-duration', 'long', 'ms', 'nexus-rpc']);
    expect(code).not.toContain('node_modules/zod/');
  }, 120_000);
});
