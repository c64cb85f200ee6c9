import { readdirSync, readFileSync } from 'node:fs';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils';
import { InMemorySpanExporter } from '@opentelemetry/sdk-trace-base';
import { Resource } from '@opentelemetry/resources';
import { makeWorkflowExporter } from '@temporalio/interceptors-opentelemetry';
import { Worker } from '@temporalio/worker';
import { describe, expect, it } from 'vitest';
import { encryptingDataConverter } from '../../codec/payload-codec';
import { testCodec } from '../support/codec';
import { workflowBundle } from '../support/helpers';
import { quietWorkflowBundle } from '../support/time-skipping';

// Histories of real lead runs, recorded with the workflow code of earlier releases
// (`npm run histories:record -- <label>`; `v1` is the baseline, docs/contributing.md). Today's code
// must replay every one of them exactly: leads months into their lifecycle are replayed by
// whichever worker picks them up next.
const root = new URL('./histories/', import.meta.url);
const recorded = readdirSync(root, { withFileTypes: true })
  .filter((entry) => entry.isDirectory())
  .flatMap((release) =>
    readdirSync(new URL(`${release.name}/`, root))
      .filter((file) => file.endsWith('.json'))
      .map((file) => `${release.name}/${file}`),
  );

describe('replaying histories recorded with earlier workflow code', () => {
  it('has recorded histories to replay', () => {
    expect(recorded.length).toBeGreaterThan(0);
  });

  it.each(recorded)('%s replays without nondeterminism', async (file) => {
    const history = historyFromJSON(JSON.parse(readFileSync(new URL(file, root), 'utf8')));
    await expect(
      Worker.runReplayHistory(
        { workflowBundle: await workflowBundle(), dataConverter: encryptingDataConverter(testCodec) },
        history,
        `replay-${file}`,
      ),
    ).resolves.toBeUndefined();
  });

  // A worker with tracing on (OTEL_EXPORTER_OTLP_ENDPOINT set) runs the same leads: its interceptors must not change what they do.
  let traced: ReturnType<typeof quietWorkflowBundle> | undefined;
  it.each(recorded)('%s replays without nondeterminism with the tracing interceptors installed', async (file) => {
    traced ??= quietWorkflowBundle({ tracing: true });
    const history = historyFromJSON(JSON.parse(readFileSync(new URL(file, root), 'utf8')));
    const sinks = { exporter: makeWorkflowExporter(new InMemorySpanExporter(), new Resource({})) };
    await expect(
      Worker.runReplayHistory(
        { workflowBundle: await traced, dataConverter: encryptingDataConverter(testCodec), sinks },
        history,
        `replay-traced-${file}`,
      ),
    ).resolves.toBeUndefined();
  });
});
