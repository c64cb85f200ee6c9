import { randomUUID } from 'node:crypto';
import { WorkflowNotFoundError, type WorkflowClient } from '@temporalio/client';
import { leadIdSecret } from './lead-ids';
import { tsToMs } from '@temporalio/common/lib/time';
import type { PayloadCodec } from '@temporalio/common';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode, type Worker, type WorkerOptions } from '@temporalio/worker';
import type { EnrichmentProvider } from '../../activities/enrichment';
import { createApp } from '../../api/app';
import { parseApiKeys } from '../../api/auth';
import type { Sql } from '../../db/client';
import type { LeadConfig } from '../../domain/config';
import { testServerExecutable } from '../../stack/engine';
import { ensureSearchAttributes } from '../../stack/search-attributes';
import { createLeadWorker, interceptorModules, workflowsPath, type LeadWorkerOptions } from '../../worker/worker';

/**
 * The lead service on Temporal's time-skipping test server, where months pass in seconds: for
 * tests, the benchmark's long runs and the recording of histories.
 */

const silent = { log() {}, info() {}, warn() {}, error() {}, debug() {}, trace() {} };

/** The workflow code bundled, without the bundler's chatter; with the tracing interceptors when asked (worker/workflow-code.ts `interceptorModules`). */
export const quietWorkflowBundle = ({ tracing = false } = {}) =>
  bundleWorkflowCode({ workflowsPath, workflowInterceptorModules: interceptorModules({ tracing }), logger: silent });

/**
 * The Java time-skipping server (`path`, or the engine cache's, or the SDK's download) with our
 * search attributes; its client encodes with `codec` (that of the workers on it), or with none
 * (`null`: the history recorder, whose histories must replay without a key).
 */
export async function startTimeSkippingServer(
  codec: PayloadCodec | null,
  path?: string,
  log?: (line: string) => void,
): Promise<TestWorkflowEnvironment> {
  if (path === undefined) {
    const executable = await testServerExecutable(log);
    path = executable.type === 'existing-path' ? executable.path : undefined;
  }
  const env = await TestWorkflowEnvironment.createTimeSkipping({
    ...(path ? { server: { executable: { type: 'existing-path', path } } } : {}),
    client: { dataConverter: { payloadCodecs: codec ? [codec] : [] } },
  });
  await ensureSearchAttributes(env.connection, 'default');
  return env;
}

/*
 * Two bugs of the Java test server (1.38.0) leak a time-skipping lock, after which its time runs
 * at wall-clock speed for everyone (every later sleep of the file times out):
 * - it rejects a CancelTimer for a timer that fired while the cancelling workflow task ran
 *   ("invalid history builder state for action", temporalio/sdk-java#2606; the real server
 *   accepts it), and the lead gets no further workflow task. A signal cancels the lead's pending
 *   timer, so a signal sent just before that timer comes due can hit it: a lead timer due a few
 *   milliseconds after a sleep ends is common (timers chained over a sleep drift later by the
 *   real time each workflow task takes).
 * - terminating a workflow whose workflow task is running leaks that task's lock.
 * So the test code touches a lead only when it is quiet: no workflow task or activity in flight
 * and no timer due within `quietMs` (after a sleep, time runs at wall-clock speed until the next).
 */
const quietMs = 5_000;

/**
 * Skips `duration` on the test server, then waits until `workflowIds` are quiet. (Before the
 * sleep no wait is needed: a running task or activity holds the server's time until it is done.)
 */
export async function skipTime(env: TestWorkflowEnvironment, duration: string | number, workflowIds: Iterable<string>) {
  await env.sleep(duration);
  await whenQuiet(env, workflowIds);
}

/** Terminates workflows on the test server once they are quiet. */
export async function terminateWhenQuiet(env: TestWorkflowEnvironment, workflowIds: Iterable<string>, reason: string) {
  const ids = [...workflowIds];
  await whenQuiet(env, ids);
  await Promise.allSettled(ids.map((id) => env.client.workflow.getHandle(id).terminate(reason)));
}

/** Waits until none of `workflowIds` has a workflow task or an activity in flight or a timer due soon; throws after `patienceMs`. */
export async function whenQuiet(env: TestWorkflowEnvironment, workflowIds: Iterable<string>, patienceMs = 30_000) {
  const ids = [...workflowIds];
  const giveUpAt = Date.now() + patienceMs;
  for (;;) {
    const soon = (await env.currentTimeMs()) + quietMs;
    const busy = (await Promise.all(ids.map(async (id) => ((await isQuiet(env.client.workflow, id, soon)) ? undefined : id)))).filter(
      Boolean,
    );
    if (busy.length === 0) return;
    if (Date.now() > giveUpAt) throw new Error(`workflows still busy after ${patienceMs} ms: ${busy.join(', ')}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Read from the current run's history; a closed or unknown workflow is quiet. */
async function isQuiet(client: WorkflowClient, workflowId: string, soon: number): Promise<boolean> {
  let events;
  try {
    events = (await client.getHandle(workflowId).fetchHistory()).events ?? [];
  } catch (error) {
    if (error instanceof WorkflowNotFoundError) return true;
    throw error;
  }
  const pendingActivities = new Set<string>();
  const timersDue = new Map<string, number>();
  let taskInFlight = false;
  for (const event of events) {
    if (event.activityTaskScheduledEventAttributes) pendingActivities.add(String(event.eventId));
    const ended =
      event.activityTaskCompletedEventAttributes ??
      event.activityTaskFailedEventAttributes ??
      event.activityTaskTimedOutEventAttributes ??
      event.activityTaskCanceledEventAttributes;
    if (ended) pendingActivities.delete(String(ended.scheduledEventId));
    const timer = event.timerStartedEventAttributes;
    if (timer) timersDue.set(timer.timerId!, tsToMs(event.eventTime) + tsToMs(timer.startToFireTimeout));
    const timerEnded = event.timerFiredEventAttributes ?? event.timerCanceledEventAttributes;
    if (timerEnded) timersDue.delete(timerEnded.timerId!);
    // A failed or timed-out task is scheduled again (a repeated failure is not written down): still in flight.
    if (event.workflowTaskScheduledEventAttributes || event.workflowTaskStartedEventAttributes) taskInFlight = true;
    if (event.workflowTaskCompletedEventAttributes) taskInFlight = false;
    const closed =
      event.workflowExecutionCompletedEventAttributes ??
      event.workflowExecutionFailedEventAttributes ??
      event.workflowExecutionTimedOutEventAttributes ??
      event.workflowExecutionTerminatedEventAttributes ??
      event.workflowExecutionCanceledEventAttributes ??
      event.workflowExecutionContinuedAsNewEventAttributes;
    if (closed) return true;
  }
  return !taskInFlight && pendingActivities.size === 0 && [...timersDue.values()].every((due) => due > soon);
}

/** The codec server of a stack without encryption: payloads pass as they are. */
const unencrypted: PayloadCodec = { encode: async (payloads) => payloads, decode: async (payloads) => payloads };

export interface LeadStack {
  taskQueue: string;
  worker: Worker;
  /** Calls the API in-process (no HTTP server), with a development key. */
  request(method: string, path: string, body?: unknown, key?: string): Promise<{ status: number; body: any }>;
}

/** The real worker and API for `env` on a task queue of their own; the caller runs the worker. */
export async function leadStackOn(
  env: TestWorkflowEnvironment,
  options: {
    sql: Sql;
    config: LeadConfig;
    name: string;
    /** The same as `env`'s client encodes with (see `startTimeSkippingServer`). */
    codec: PayloadCodec | null;
    enrichment?: EnrichmentProvider;
    workflowBundle?: WorkerOptions['workflowBundle'];
    /** The worker's metrics (worker/metrics.ts), for a test that reads them. */
    metrics?: LeadWorkerOptions['metrics'];
  },
): Promise<LeadStack> {
  const { sql, config } = options;
  const taskQueue = `${options.name}-${randomUUID()}`;
  const worker = await createLeadWorker({
    connection: env.nativeConnection,
    namespace: 'default',
    taskQueue,
    sql,
    config,
    leadIdSecret,
    enrichment: options.enrichment,
    metrics: options.metrics,
    payloadCodecs: options.codec ? [options.codec] : [],
    workflowBundle: options.workflowBundle ?? (await quietWorkflowBundle()),
  });
  const app = createApp(
    {
      sql,
      temporal: env.client,
      taskQueue,
      namespace: 'default',
      temporalUiUrl: 'http://ui.invalid',
      config,
      codec: options.codec ?? unencrypted,
      leadIdSecret,
    },
    parseApiKeys(undefined),
  );
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
