import { randomUUID } from 'node:crypto';
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
