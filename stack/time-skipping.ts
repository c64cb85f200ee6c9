import { randomUUID } from 'node:crypto';
import { WorkflowNotFoundError, type WorkflowClient } from '@temporalio/client';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode, type Worker, type WorkerOptions } from '@temporalio/worker';
import type { EnrichmentProvider } from '../activities/enrichment';
import { createApp } from '../api/app';
import { parseApiKeys } from '../api/auth';
import type { Sql } from '../db/client';
import type { LeadConfig } from '../domain/config';
import { createLeadWorker, workflowsPath } from '../worker/worker';
import { testServerExecutable } from './engine';
import { ensureSearchAttributes } from './search-attributes';

/**
 * The lead service on Temporal's time-skipping test server, where months pass in seconds: for
 * tests, the benchmark's long runs and the recording of histories.
 */

const silent = { log() {}, info() {}, warn() {}, error() {}, debug() {}, trace() {} };

/** The workflow code bundled once, without the bundler's chatter. */
export const quietWorkflowBundle = () => bundleWorkflowCode({ workflowsPath, logger: silent });

/** The Java time-skipping server (`path`, or the engine cache's, or the SDK's download) with our search attributes. */
export async function startTimeSkippingServer(path?: string, log?: (line: string) => void): Promise<TestWorkflowEnvironment> {
  if (path === undefined) {
    const executable = await testServerExecutable(log);
    path = executable.type === 'existing-path' ? executable.path : undefined;
  }
  const env = await TestWorkflowEnvironment.createTimeSkipping(path ? { server: { executable: { type: 'existing-path', path } } } : {});
  await ensureSearchAttributes(env.connection, 'default');
  return env;
}

/**
 * Skips `duration` of time on the test server once none of `workflowIds` has a workflow task or
 * an activity in flight (see `whenIdle`).
 *
 * Why wait: the Java test server (1.38.0) rejects a CancelTimer for a timer that fired while the
 * workflow task cancelling it was running ("invalid history builder state for action",
 * temporalio/sdk-java#2606; the real server accepts it). The lead then never gets another
 * workflow task, and the server's time-skipping lock leaks, so every later sleep of the file
 * waits in real time. The race needs a lead timer coming due just after a sleep ends, cancelled
 * by the signal sent next: a 60-day sleep started while the lead was still enrolling in a cadence
 * whose step is 60 days after enrolment. Once the lead is idle, each of its timers of the same
 * span falls before the sleep's end and fires during the skip.
 */
export async function skipTime(env: TestWorkflowEnvironment, duration: string | number, workflowIds: Iterable<string>) {
  await whenIdle(env, workflowIds);
  await env.sleep(duration);
}

/**
 * Ends workflows on the test server, each once it is idle: terminating a workflow whose workflow
 * task is running leaks that task's time-skipping lock on the Java test server (1.38.0), which
 * then skips no more time for anyone.
 */
export async function terminateWhenIdle(env: TestWorkflowEnvironment, workflowIds: Iterable<string>, reason: string) {
  const ids = [...workflowIds];
  await whenIdle(env, ids);
  await Promise.allSettled(ids.map((id) => env.client.workflow.getHandle(id).terminate(reason)));
}

/** Waits until none of `workflowIds` has a workflow task or an activity in flight; throws after `patienceMs`. */
export async function whenIdle(env: TestWorkflowEnvironment, workflowIds: Iterable<string>, patienceMs = 30_000) {
  const ids = [...workflowIds];
  const giveUpAt = Date.now() + patienceMs;
  for (;;) {
    const busy = (await Promise.all(ids.map(async (id) => ((await isIdle(env.client.workflow, id)) ? undefined : id)))).filter(Boolean);
    if (busy.length === 0) return;
    if (Date.now() > giveUpAt) throw new Error(`workflows still busy after ${patienceMs} ms: ${busy.join(', ')}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** No workflow task scheduled or running and no activity pending, read from the current run's history (a closed or unknown workflow is idle). */
async function isIdle(client: WorkflowClient, workflowId: string): Promise<boolean> {
  let events;
  try {
    events = (await client.getHandle(workflowId).fetchHistory()).events ?? [];
  } catch (error) {
    if (error instanceof WorkflowNotFoundError) return true;
    throw error;
  }
  const pendingActivities = new Set<string>();
  let taskInFlight = false;
  let closed = false;
  for (const event of events) {
    const id = String(event.eventId);
    if (event.activityTaskScheduledEventAttributes) pendingActivities.add(id);
    const ended =
      event.activityTaskCompletedEventAttributes ??
      event.activityTaskFailedEventAttributes ??
      event.activityTaskTimedOutEventAttributes ??
      event.activityTaskCanceledEventAttributes;
    if (ended) pendingActivities.delete(String(ended.scheduledEventId));
    if (event.workflowTaskScheduledEventAttributes || event.workflowTaskStartedEventAttributes) taskInFlight = true;
    if (event.workflowTaskCompletedEventAttributes) taskInFlight = false;
    // A failed or timed-out task is scheduled again (a repeated failure is not written down): still in flight.
    closed ||= Boolean(
      event.workflowExecutionCompletedEventAttributes ??
        event.workflowExecutionFailedEventAttributes ??
        event.workflowExecutionTimedOutEventAttributes ??
        event.workflowExecutionTerminatedEventAttributes ??
        event.workflowExecutionCanceledEventAttributes ??
        event.workflowExecutionContinuedAsNewEventAttributes,
    );
  }
  return closed || (!taskInFlight && pendingActivities.size === 0);
}

export interface LeadStack {
  taskQueue: string;
  worker: Worker;
  /** Calls the API in-process (no HTTP server), with a development key. */
  request(method: string, path: string, body?: unknown, key?: string): Promise<{ status: number; body: any }>;
}

/** The real worker and API for `env` on a task queue of their own; the caller runs the worker. */
export async function leadStackOn(
  env: TestWorkflowEnvironment,
  options: { sql: Sql; config: LeadConfig; name: string; enrichment?: EnrichmentProvider; workflowBundle?: WorkerOptions['workflowBundle'] },
): Promise<LeadStack> {
  const { sql, config } = options;
  const taskQueue = `${options.name}-${randomUUID()}`;
  const worker = await createLeadWorker({
    connection: env.nativeConnection,
    namespace: 'default',
    taskQueue,
    sql,
    config,
    enrichment: options.enrichment,
    workflowBundle: options.workflowBundle ?? (await quietWorkflowBundle()),
  });
  const app = createApp({ sql, temporal: env.client, taskQueue, namespace: 'default', temporalUiUrl: 'http://ui.invalid', config }, parseApiKeys(undefined));
  return {
    taskQueue,
    worker,
    async request(method, path, body, key = 'capture-dev') {
      const response = await app.request(path, {
        method,
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      return { status: response.status, body: await response.json() };
    },
  };
}
