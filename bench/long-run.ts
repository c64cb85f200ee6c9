import { randomUUID } from 'node:crypto';
import type { WorkflowHandle } from '@temporalio/client';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode } from '@temporalio/worker';
import { createApp } from '../api/app';
import { parseApiKeys } from '../api/auth';
import { resolveLeadConfig } from '../config/load';
import type { Sql } from '../db/client';
import { leadPolicy } from '../domain/config';
import { testServerExecutable } from '../stack/engine';
import { ensureSearchAttributes } from '../stack/search-attributes';
import { createLeadWorker, workflowsPath } from '../worker/worker';

type History = Awaited<ReturnType<WorkflowHandle['fetchHistory']>>;

export interface LongRunHistory {
  months: number;
  runs: number;
  totalEvents: number;
  largestRun: number;
  limit: number;
}

/**
 * A year in the life of one open lead, on the time-skipping server: sales-ready but in the
 * unassigned queue the whole year, so it wakes hourly to retry routing and decays on schedule —
 * the busiest long-lived lead there is until nurture cadences land. (Aging is stretched past the
 * year so it stays open; engagement signals are not sent because the Java test server rejects a
 * continue-as-new that races a signal with "invalid history builder state", which the real server
 * handles.) Counts its runs and the events of each; continue-as-new must keep every run under the
 * limit.
 */
export async function measureLongRun(sql: Sql, log: (line: string) => void, months = 12): Promise<LongRunHistory> {
  const executable = await testServerExecutable(log);
  const path = executable.type === 'existing-path' ? executable.path : undefined;
  const env = await TestWorkflowEnvironment.createTimeSkipping(path ? { server: { executable: { type: 'existing-path', path } } } : {});
  try {
    await ensureSearchAttributes(env.connection, 'default');
    const config = resolveLeadConfig({ qualification: { sqlAt: 40, mqlAt: 20 }, aging: { inactiveDisqualifyAfter: 'P400D' } });
    const taskQueue = `long-run-${randomUUID()}`;
    const worker = await createLeadWorker({
      connection: env.nativeConnection,
      namespace: 'default',
      taskQueue,
      sql,
      config,
      workflowBundle: await bundleWorkflowCode({ workflowsPath, logger: { log() {}, info() {}, warn() {}, error() {}, debug() {}, trace() {} } }),
    });
    const app = createApp({ sql, temporal: env.client, taskQueue, namespace: 'default', temporalUiUrl: '', config }, parseApiKeys(undefined));
    const call = (path: string, body: unknown) =>
      app.request(path, { method: 'POST', headers: { authorization: 'Bearer capture-dev', 'content-type': 'application/json' }, body: JSON.stringify(body) });

    return await worker.runUntil(async () => {
      // A made-up country no team covers: the lead waits in the unassigned queue all year.
      const { leadId } = (await (await call('/leads', { email: `year-${randomUUID().slice(0, 8)}@nowhere-${randomUUID().slice(0, 6)}.com`, source: 'demo_request', country: 'XY' })).json()) as { leadId: string };
      const runIds = new Set<string>();
      for (let month = 0; month < months; month++) {
        await env.sleep('30 days');
        runIds.add((await env.client.workflow.getHandle(leadId).describe()).runId);
        if (month % 3 === 2) log(`  month ${month + 1} of ${months}: ${runIds.size} runs so far`);
      }
      const handle = env.client.workflow.getHandle(leadId);
      let largestRun = 0;
      let totalEvents = 0;
      const chain = new Set<string>();
      // Walk the chain of runs backwards from the current one.
      let runId: string | undefined = (await handle.describe()).runId;
      while (runId && !chain.has(runId)) {
        chain.add(runId);
        const history: History = await env.client.workflow.getHandle(leadId, runId).fetchHistory();
        const events = history.events ?? [];
        totalEvents += events.length;
        largestRun = Math.max(largestRun, events.length);
        runId = events[0]?.workflowExecutionStartedEventAttributes?.continuedExecutionRunId || undefined;
      }
      await handle.terminate('long-run measured');
      return { months, runs: chain.size, totalEvents, largestRun, limit: config.history.maxEventsPerRun };
    });
  } finally {
    await env.teardown();
  }
}
