import { fileURLToPath } from 'node:url';
import { NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import { createActivities } from '../activities';
import type { EnrichmentProvider } from '../activities/enrichment';
import type { Sql } from '../db/client';

export const workflowsPath = fileURLToPath(new URL('../workflows/index.ts', import.meta.url));

export interface LeadWorkerOptions {
  connection: NativeConnection;
  namespace: string;
  taskQueue: string;
  sql: Sql;
  /** Where firmographics come from (default: the local dataset). */
  enrichment?: EnrichmentProvider;
  /** A pre-built bundle (tests bundle once per file); otherwise the worker bundles `workflows/` at start. */
  workflowBundle?: WorkerOptions['workflowBundle'];
}

/** The worker that runs lead workflows and their activities. */
export function createLeadWorker({ connection, namespace, taskQueue, sql, enrichment, workflowBundle }: LeadWorkerOptions) {
  return Worker.create({
    connection,
    namespace,
    taskQueue,
    activities: createActivities({ sql, enrichment }),
    ...(workflowBundle ? { workflowBundle } : { workflowsPath }),
  });
}
