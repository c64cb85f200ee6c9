import { fileURLToPath } from 'node:url';
import type { PayloadCodec } from '@temporalio/common';
import { NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import { createActivities } from '../activities';
import { sourceActivities } from '../activities/sources';
import type { EnrichmentProvider } from '../activities/enrichment';
import type { Sql } from '../db/client';
import type { LeadConfig } from '../domain/config';

export const workflowsPath = fileURLToPath(new URL('../workflows/index.ts', import.meta.url));

export interface LeadWorkerOptions {
  connection: NativeConnection;
  namespace: string;
  taskQueue: string;
  sql: Sql;
  config: LeadConfig;
  /** Where firmographics come from (default: the local dataset). */
  enrichment?: EnrichmentProvider;
  /**
   * Workflows kept in memory between tasks. A lead waits for weeks, so the SDK's default (sized to
   * the heap) fills memory and then time goes to garbage collection; an evicted lead is replayed
   * from its history when its next signal or timer comes.
   */
  maxCachedWorkflows?: number;
  /**
   * The payload codecs (codec/payload-codec.ts): the service's worker always encrypts. Only the
   * history recorder passes none, so that committed histories replay without a key.
   */
  payloadCodecs: PayloadCodec[];
  /** A pre-built bundle (tests bundle once per file); otherwise the worker bundles `workflows/` at start. */
  workflowBundle?: WorkerOptions['workflowBundle'];
}

/** The worker that runs lead workflows and their activities. */
export function createLeadWorker({ connection, namespace, taskQueue, sql, config, enrichment, maxCachedWorkflows = 500, workflowBundle, payloadCodecs }: LeadWorkerOptions) {
  return Worker.create({
    connection,
    namespace,
    taskQueue,
    activities: { ...createActivities({ sql, config, enrichment }), ...sourceActivities({ sql, config, codec: payloadCodecs[0] }) },
    maxCachedWorkflows,
    // Codecs run in the worker's own process, outside the workflow sandbox.
    dataConverter: { payloadCodecs },
    ...(workflowBundle ? { workflowBundle } : { workflowsPath }),
  });
}
