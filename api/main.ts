import { serve } from '@hono/node-server';
import { Client, Connection } from '@temporalio/client';
import {
  actionLinkSecretFrom,
  apiListenHost,
  applicationName,
  emailSettingsFrom,
  extraVendorOriginsFrom,
  leadIdSecretFrom,
  loadEnv,
  payloadKeysFrom,
  realKeysRequiredBecause,
  slackSettingsFrom,
  temporalConnectionOptions,
  temporalUiUrl,
  tracingOptionsFrom,
} from '../config/env';
import { EncryptionCodec, encryptingDataConverter } from '../codec/payload-codec';
import { loadLeadConfig } from '../config/load';
import { slackClient, slackResponseOrigins } from '../config/slack';
import { createSql, traceStatements } from '../db/client';
import { createApp } from './app';
import { parseApiKeys } from './auth';
import { createWakeUps } from './wake-ups';
import { createLogger, errorFields, type Logger } from '../observability/logger';
import { startTracing } from '../observability/tracing';

let log: Logger | undefined;

async function main() {
  const env = loadEnv();
  const tracingOptions = tracingOptionsFrom(env, 'api');
  log = createLogger({ name: 'api', level: env.LOG_LEVEL, format: env.LOG_FORMAT, traceIds: Boolean(tracingOptions) });
  // Off unless OTEL_EXPORTER_OTLP_ENDPOINT is set: then nothing of it is installed (docs/operations/observability.md "Traces").
  const tracing = tracingOptions && startTracing(tracingOptions);
  const config = loadLeadConfig(env.LEAD_CONFIG);
  // Before DATABASE_URL: a production deployment missing both should hear about the keys first.
  const apiKeys = parseApiKeys(env.API_KEYS, { realKeysRequiredBecause: realKeysRequiredBecause(env) });
  const codec = new EncryptionCodec(payloadKeysFrom(env));
  const { unsubscribeSecret, publicBaseUrl } = emailSettingsFrom(env);
  const leadIdSecret = leadIdSecretFrom(env);
  const extraVendorOrigins = extraVendorOriginsFrom(env);
  const actionLinkSecret = actionLinkSecretFrom(env);
  const slackSettings = slackSettingsFrom(env);
  if (!env.DATABASE_URL) throw new Error('DATABASE_URL is not set (`npm start` sets it for the embedded stack)');
  if (!env.API_KEYS) {
    log.info('API_KEYS is unset: accepting the development keys capture-dev, ops-dev, marketing-dev and metrics-dev');
  }
  const sql = createSql(env.DATABASE_URL, { applicationName: applicationName(env), statementTimeoutMs: env.DATABASE_STATEMENT_TIMEOUT_MS });
  if (tracing) traceStatements(sql, tracing.tracer, env.DATABASE_URL);
  const connection = await Connection.connect(temporalConnectionOptions(env));
  const temporal = new Client({
    connection,
    namespace: env.TEMPORAL_NAMESPACE,
    dataConverter: encryptingDataConverter(codec),
    ...(tracing ? { interceptors: tracing.clientInterceptors } : {}),
  });
  const wakeUps = createWakeUps({ sql, temporal, log });
  const app = createApp(
    {
      sql,
      temporal,
      taskQueue: env.TEMPORAL_TASK_QUEUE,
      namespace: env.TEMPORAL_NAMESPACE,
      temporalUiUrl: temporalUiUrl(env),
      config,
      codec,
      unsubscribeSecret,
      actionLinkSecret,
      publicBaseUrl,
      slack: slackSettings && {
        signingSecret: slackSettings.signingSecret,
        client: slackClient(slackSettings),
        responseOrigins: slackResponseOrigins(slackSettings),
      },
      leadIdSecret,
      extraVendorOrigins,
      log,
      wakeUps,
      tracer: tracing?.tracer,
    },
    apiKeys,
  );
  // Plain HTTP/1.1 (serve's default), whose connections can be cut at the end of the grace time.
  const hostname = apiListenHost(env);
  const server = serve({ fetch: app.fetch, port: env.PORT, hostname }, (info) => {
    log?.info({ port: info.port, host: hostname ?? 'every interface' }, `listening on http://${hostname ?? 'localhost'}:${info.port}`);
  });

  /**
   * Stops accepting at once (close() also drops idle keep-alive connections), lets the requests
   * under way finish (a capture waits up to 15 s for Temporal), then closes Temporal and
   * Postgres and exits 0. Requests still open after the grace time are cut and the exit is 1.
   * Wake-ups not sent by then are dropped (their leads retry on their own backoff).
   */
  let stopping = false;
  const shutdown = (signal: string) => {
    // Ctrl-C under `npm start` sends SIGINT to the group and npm start then SIGTERM: stop once.
    if (stopping) return;
    stopping = true;
    log?.info(`${signal}: no new connections; finishing the requests under way (up to ${env.SHUTDOWN_GRACE_SECONDS} s)`);
    const cut = setTimeout(() => {
      log?.error('requests still open after the grace time: exiting anyway');
      (server as import('node:http').Server).closeAllConnections();
      process.exit(1);
    }, env.SHUTDOWN_GRACE_SECONDS * 1000);
    server.close(async () => {
      clearTimeout(cut);
      await wakeUps.stop();
      await connection.close();
      await sql.end({ timeout: 5 });
      await tracing?.shutdown();
      log?.info('stopped');
      process.exit(0);
    });
  };
  process.once('SIGINT', () => shutdown('SIGINT'));
  process.once('SIGTERM', () => shutdown('SIGTERM'));
}

main().catch((error) => {
  log?.fatal(errorFields(error), `${error instanceof Error ? error.message : error}`);
  // Also one plain line on stderr: the reason a process refused to start is read by a person (or an
  // orchestrator's termination message), and may come before the logger exists (a bad LOG_LEVEL).
  console.error(`api: ${error instanceof Error ? error.message : error}`);
  process.exit(1);
});
