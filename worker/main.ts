import { NativeConnection } from '@temporalio/worker';
import { loadLeadConfig } from '../config/load';
import { applicationName, emailSettingsFrom, loadEnv, notifyWebhookSecretFrom, payloadKeysFrom, temporalConnectionOptions } from '../config/env';
import { EncryptionCodec } from '../codec/payload-codec';
import { createSql } from '../db/client';
import { startNotifier } from './notifier';
import { emailDelivery } from './email';
import { createLeadWorker } from './worker';
import { enrichmentProviderFrom } from '../activities/enrichment';

async function main() {
  const env = loadEnv();
  const config = loadLeadConfig(env.LEAD_CONFIG); // fail fast on a bad configuration, naming the key
  const codec = new EncryptionCodec(payloadKeysFrom(env));
  const webhookSecret = notifyWebhookSecretFrom(env);
  const emailSettings = emailSettingsFrom(env);
  if (!env.DATABASE_URL) throw new Error('DATABASE_URL is not set (`npm start` sets it for the embedded stack)');
  const sql = createSql(env.DATABASE_URL, { applicationName: applicationName(env) });
  const connection = await NativeConnection.connect(temporalConnectionOptions(env));
  const worker = await createLeadWorker({
    connection,
    namespace: env.TEMPORAL_NAMESPACE,
    taskQueue: env.TEMPORAL_TASK_QUEUE,
    sql,
    config,
    enrichment: enrichmentProviderFrom(config.enrichment, env.ENRICHMENT_API_KEY),
    maxCachedWorkflows: env.WORKER_MAX_CACHED_WORKFLOWS,
    payloadCodecs: [codec],
  });
  console.log(`worker: polling task queue "${env.TEMPORAL_TASK_QUEUE}" in namespace "${env.TEMPORAL_NAMESPACE}"`);
  if (!env.NOTIFY_WEBHOOK_URL) {
    // Not an error (the embedded stack runs without one), but nobody is alerted: say so loudly.
    console.warn(
      'worker: WARNING: NOTIFY_WEBHOOK_URL is not set: no rep, manager or ops alert is delivered; ' +
        'notifications are kept in the outbox as "skipped" (GET /notifications?status=skipped)',
    );
  }
  if (!emailSettings.smtpUrl) {
    console.warn(
      `worker: WARNING: ${emailSettings.disabledBecause}: no email is sent (cadence steps, re-engagement, alerts to reps); ` +
        'they are kept in the outbox as "skipped" (README, "Email")',
    );
  }
  const { smtpUrl, from, publicBaseUrl, unsubscribeSecret } = emailSettings;
  const email = smtpUrl && unsubscribeSecret ? emailDelivery({ sql, smtpUrl, from, publicBaseUrl, unsubscribeSecret }) : undefined;
  const notifier = startNotifier({
    sql,
    webhookUrl: env.NOTIFY_WEBHOOK_URL,
    webhookSecret,
    email,
    emailDisabledBecause: emailSettings.disabledBecause,
    deadAfter: config.notify.deadAfter,
    log: (line) => console.log(line),
  });
  // The SDK shuts the worker down gracefully on SIGINT/SIGTERM; run() resolves once it has.
  await worker.run();
  await notifier.stop();
  await connection.close();
  await sql.end({ timeout: 5 });
}

main().catch((error) => {
  console.error(`worker: ${error instanceof Error ? error.message : error}`);
  process.exit(1);
});
