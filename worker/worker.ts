import type { PayloadCodec } from '@temporalio/common';
import { NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import { createActivities } from '../activities';
import { sourceActivities } from '../activities/sources';
import type { EnrichmentProvider } from '../activities/enrichment';
import type { Sql } from '../db/client';
import type { LeadConfig } from '../domain/config';
import type { Tracing } from '../observability/tracing';
import type { WorkerMetrics } from './metrics';
import { interceptorModules, workflowsPath } from './workflow-code';

export { interceptorModules, workflowsPath };

export interface LeadWorkerOptions {
  connection: NativeConnection;
  namespace: string;
  taskQueue: string;
  sql: Sql;
  config: LeadConfig;
  /** HMAC key of lead ids (config/env.ts `leadIdSecretFrom`), for Meta's lead fetch, which takes captures. */
  leadIdSecret: string;
  /** Origins a Meta source's Graph API URL may have besides graph.facebook.com: development and tests only (config/env.ts `extraVendorOriginsFrom`). */
  extraVendorOrigins?: readonly string[];
  /** Where firmographics come from (default: the local dataset). */
  enrichment?: EnrichmentProvider;
  /**
   * Workflows kept in memory between tasks. A lead waits for weeks, so the SDK's default (sized to
   * the heap) fills memory and then time goes to garbage collection; an evicted lead is replayed
   * from its history when its next signal or timer comes.
   */
  maxCachedWorkflows?: number;
  /**
   * The payload codecs (codec/payload-codec.ts): the service's worker always encrypts, and in
   * production also refuses unencrypted payloads (`PlaintextRefusingCodec` after the encryption).
   * Only the history recorder passes none, so that committed histories replay without a key.
   */
  payloadCodecs: PayloadCodec[];
  /**
   * A pre-built bundle (the worker process bundles in a child, tests once per file, both with
   * `interceptorModules`); otherwise the SDK bundles `workflows/` here.
   */
  workflowBundle?: WorkerOptions['workflowBundle'];
  /** The worker's metrics (worker/metrics.ts): fed by stored timeline events and activity retries. */
  metrics?: Pick<WorkerMetrics, 'eventsWritten' | 'activityRetries'>;
  /**
   * On shutdown, how long running activities may go on before they are cancelled (the SDK's
   * default is none: a vendor call under way at SIGTERM would be cut and done again by the next worker).
   */
  shutdownGraceTime?: WorkerOptions['shutdownGraceTime'];
  shutdownForceTime?: WorkerOptions['shutdownForceTime'];
  /**
   * Tracing (observability/tracing.ts), when `OTEL_EXPORTER_OTLP_ENDPOINT` is set: its activity
   * interceptors, the sink of the workflow spans, and the client interceptors of the activities'
   * client (Meta's lead fetch takes captures with it). A pre-built bundle must then have been made
   * with the tracing modules (worker/workflow-code.ts `interceptorModules`).
   */
  tracing?: Pick<Tracing, 'activityInterceptors' | 'workflowSinks' | 'clientInterceptors'>;
}

/** The worker that runs lead workflows and their activities. */
export function createLeadWorker({
  connection,
  namespace,
  taskQueue,
  sql,
  config,
  leadIdSecret,
  extraVendorOrigins,
  enrichment,
  maxCachedWorkflows = 500,
  workflowBundle,
  payloadCodecs,
  metrics,
  shutdownGraceTime,
  shutdownForceTime,
  tracing,
}: LeadWorkerOptions) {
  return Worker.create({
    connection,
    namespace,
    taskQueue,
    activities: {
      ...createActivities({ sql, config, enrichment, eventsWritten: metrics?.eventsWritten }),
      ...sourceActivities({ sql, config, codec: payloadCodecs[0], leadIdSecret, extraVendorOrigins }),
    },
    interceptors: {
      activity: [...(metrics ? [metrics.activityRetries] : []), ...(tracing?.activityInterceptors ?? [])],
      ...(workflowBundle ? {} : { workflowModules: interceptorModules({ tracing: Boolean(tracing) }) }),
      ...(tracing ? { client: tracing.clientInterceptors } : {}),
    },
    ...(tracing ? { sinks: tracing.workflowSinks } : {}),
    // Only when given: an explicit undefined would override the SDK's defaults (and fails its validation for durations).
    ...(shutdownGraceTime === undefined ? {} : { shutdownGraceTime }),
    ...(shutdownForceTime === undefined ? {} : { shutdownForceTime }),
    maxCachedWorkflows,
    // Codecs run in the worker's own process, outside the workflow sandbox.
    dataConverter: { payloadCodecs },
    ...(workflowBundle ? { workflowBundle } : { workflowsPath }),
  });
}
