import { rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import { NativeConnection, Runtime } from '@temporalio/worker';
import { loadLeadConfig } from '../config/load';
import {
  actionLinkSecretFrom,
  applicationName,
  emailSettingsFrom,
  extraVendorOriginsFrom,
  leadIdSecretFrom,
  loadEnv,
  notifyWebhookSecretFrom,
  payloadKeysFrom,
  realKeysRequiredBecause,
  slackSettingsFrom,
  temporalConnectionOptions,
  tracingOptionsFrom,
} from '../config/env';
import { slackClient } from '../config/slack';
import { EncryptionCodec, PlaintextRefusingCodec } from '../codec/payload-codec';
import { createSql, traceStatements } from '../db/client';
import { createLogger, errorFields, type Logger } from '../observability/logger';
import { temporalLogger } from '../observability/temporal-logger';
import { startTracing } from '../observability/tracing';
import { freePort, startWorkerHttp } from './http';
import { createWorkerMetrics } from './metrics';
import { startDaySumsFolding } from './day-sums';
import { startRetention } from './retention';
import { actionLinksFor, startNotifier } from './notifier';
import { emailDelivery } from './email';
import { slackDelivery } from './slack';
import { crmDelivery } from './crm';
import { createLeadWorker } from './worker';
import { bundleInChildProcess } from './workflow-code';
import { enrichmentProviderFrom } from '../activities/enrichment';

let log: Logger | undefined;

async function main() {
  const env = loadEnv();
  const tracingOptions = tracingOptionsFrom(env, 'worker');
  log = createLogger({ name: 'worker', level: env.LOG_LEVEL, format: env.LOG_FORMAT, traceIds: Boolean(tracingOptions) });
  // Off unless OTEL_EXPORTER_OTLP_ENDPOINT is set: then the workflow bundle has no tracing interceptors either (docs/operations/observability.md "Traces").
  const tracing = tracingOptions && startTracing(tracingOptions);
  const config = loadLeadConfig(env.LEAD_CONFIG); // fail fast on a bad configuration, naming the key
  const codec = new EncryptionCodec(payloadKeysFrom(env));
  const webhookSecret = notifyWebhookSecretFrom(env);
  const emailSettings = emailSettingsFrom(env);
  const leadIdSecret = leadIdSecretFrom(env);
  const extraVendorOrigins = extraVendorOriginsFrom(env);
  const actionLinkSecret = actionLinkSecretFrom(env);
  const slackSettings = slackSettingsFrom(env);
  if (!env.DATABASE_URL) throw new Error('DATABASE_URL is not set (`npm start` sets it for the embedded stack)');
  // Before any connection: the SDK's runtime is made once per process. Core serves its own metrics
  // on a loopback port that only our /metrics reads, so a worker is one scrape target.
  const coreMetricsPort = await freePort();
  Runtime.install({
    logger: temporalLogger(log),
    telemetryOptions: {
      logging: { filter: { core: 'WARN', other: 'ERROR' }, forward: {} },
      metrics: {
        prometheus: {
          bindAddress: `127.0.0.1:${coreMetricsPort}`,
          countersTotalSuffix: true,
          unitSuffix: true,
          useSecondsForDurations: true,
        },
      },
    },
    // The SDK drains the worker on these (shutdownGraceTime below); run() resolves once it has.
    shutdownSignals: ['SIGINT', 'SIGTERM'],
  });
  const sql = createSql(env.DATABASE_URL, { applicationName: applicationName(env), statementTimeoutMs: env.DATABASE_STATEMENT_TIMEOUT_MS });
  if (tracing) traceStatements(sql, tracing.tracer, env.DATABASE_URL);
  const metrics = createWorkerMetrics(sql, {
    webhookConfigured: Boolean(env.NOTIFY_WEBHOOK_URL),
    onReadError: (error) => log?.warn(errorFields(error), 'a metric could not be read from Postgres'),
  });
  const connection = await NativeConnection.connect(temporalConnectionOptions(env));
  const graceMs = env.SHUTDOWN_GRACE_SECONDS * 1000;
  const workflowBundle = await bundleInChildProcess((line) => log?.info(line), { tracing: Boolean(tracing) });
  const worker = await createLeadWorker({
    connection,
    namespace: env.TEMPORAL_NAMESPACE,
    taskQueue: env.TEMPORAL_TASK_QUEUE,
    sql,
    config,
    leadIdSecret,
    extraVendorOrigins,
    enrichment: enrichmentProviderFrom(config.enrichment, env.ENRICHMENT_API_KEY),
    maxCachedWorkflows: env.WORKER_MAX_CACHED_WORKFLOWS,
    // In production a payload the service did not encrypt is refused (docs/operations/security.md,
    // "Unencrypted payloads"); the embedded stack lets the dev server's UI send plain ones.
    payloadCodecs: realKeysRequiredBecause(env)
      ? [codec, new PlaintextRefusingCodec((encoding) => log?.warn({ encoding: encoding ?? 'none' }, 'an unencrypted payload was refused'))]
      : [codec],
    metrics,
    shutdownGraceTime: graceMs,
    // An activity that ignores its cancellation must not keep the process up for ever.
    shutdownForceTime: graceMs + 10_000,
    workflowBundle,
    tracing,
  });
  // Worker.create has read it.
  await rm(dirname(workflowBundle.codePath), { recursive: true, force: true });
  const http = await startWorkerHttp({
    port: env.WORKER_HTTP_PORT,
    hostname: env.WORKER_HTTP_HOST,
    worker,
    sql,
    registry: metrics.registry,
    coreMetricsUrl: `http://127.0.0.1:${coreMetricsPort}/metrics`,
    log,
  });
  log.info(
    { taskQueue: env.TEMPORAL_TASK_QUEUE, namespace: env.TEMPORAL_NAMESPACE, httpPort: http.port },
    `polling task queue "${env.TEMPORAL_TASK_QUEUE}"; /metrics and /healthz on port ${http.port}`,
  );
  if (!env.NOTIFY_WEBHOOK_URL) {
    // Not an error (the embedded stack runs without one), but nobody is alerted: say so loudly (and lead_notify_webhook_configured is 0).
    log.warn(
      'NOTIFY_WEBHOOK_URL is not set: no rep, manager or ops alert is delivered; ' +
        'notifications are kept in the outbox as "skipped" (GET /notifications?status=skipped)',
    );
  }
  if (!emailSettings.smtpUrl) {
    log.warn(
      `${emailSettings.disabledBecause}: no email is sent (cadence steps, re-engagement, alerts to reps); ` +
        'they are kept in the outbox as "skipped" (docs/features/email-and-notifications.md)',
    );
  }
  const { smtpUrl, from, publicBaseUrl, unsubscribeSecret } = emailSettings;
  const email = smtpUrl && unsubscribeSecret ? emailDelivery({ sql, smtpUrl, from, publicBaseUrl, unsubscribeSecret }) : undefined;
  const slack = slackSettings
    ? slackDelivery({
        sql,
        client: slackClient(slackSettings),
        actionLinkSecret,
        publicBaseUrl,
        validFor: config.notify.actionLinksValidFor,
      })
    : undefined;
  /** In-flight lead work at which the worker counts as saturated (a few per core; one lead's first task is one activation and its local activities in turn). */
  const busyInFlight = 4;
  const notifier = startNotifier({
    sql,
    webhookUrl: env.NOTIFY_WEBHOOK_URL,
    webhookSecret,
    email,
    emailDisabledBecause: emailSettings.disabledBecause,
    slack,
    slackBotToken: slackSettings?.botToken,
    // Pushes to the CRM connections ops registered (docs/features/crm.md); the note links the lead's timeline.
    crm: crmDelivery({ sql, codec, publicBaseUrl, personalDomains: config.icp.personalDomains }),
    deadAfter: config.notify.deadAfter,
    links: actionLinkSecret
      ? actionLinksFor({ publicBaseUrl, secret: actionLinkSecret, validFor: config.notify.actionLinksValidFor })
      : undefined,
    log: (line, fields) => log?.warn(fields ?? {}, line),
    onOutcome: (outcome) => metrics.deliveryOutcome(outcome),
    tracer: tracing?.tracer,
    // Saturated: more workflow activations and local activities in flight than the worker's two
    // cores run at once, so they queue; then CRM pushes wait (docs/features/crm.md "When pushes run").
    busy: () => {
      const status = worker.getStatus();
      return status.numInFlightWorkflowActivations + status.numInFlightLocalActivities >= busyInFlight;
    },
  });
  const daySums = startDaySumsFolding({ sql, log: (line) => log?.warn(line) });
  const retention = startRetention({
    sql,
    retention: config.retention,
    idempotencyExpireAfter: config.idempotency.expireAfter,
    onPruned: (table, rows) => metrics.rowsPruned(table, rows),
    log: (line) => log?.warn(line),
  });
  process.once('SIGTERM', () => log?.info(`SIGTERM: draining (activities under way get up to ${env.SHUTDOWN_GRACE_SECONDS} s)`));
  process.once('SIGINT', () => log?.info('SIGINT: draining'));
  await worker.run();
  await notifier.stop();
  await daySums.stop();
  await retention.stop();
  await http.close();
  await connection.close();
  await sql.end({ timeout: 5 });
  await tracing?.shutdown();
  log.info('stopped');
}

main().catch((error) => {
  log?.fatal(errorFields(error), `${error instanceof Error ? error.message : error}`);
  // Also one plain line on stderr: the reason a process refused to start is read by a person (or an
  // orchestrator's termination message), and may come before the logger exists (a bad LOG_LEVEL).
  console.error(`worker: ${error instanceof Error ? error.message : error}`);
  process.exit(1);
});
