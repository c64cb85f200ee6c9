import { serve } from '@hono/node-server';
import { Client, Connection } from '@temporalio/client';
import { applicationName, emailSettingsFrom, loadEnv, payloadKeysFrom, realKeysRequiredBecause, temporalConnectionOptions, temporalUiUrl } from '../config/env';
import { EncryptionCodec, encryptingDataConverter } from '../codec/payload-codec';
import { loadLeadConfig } from '../config/load';
import { createSql } from '../db/client';
import { createApp } from './app';
import { parseApiKeys } from './auth';

async function main() {
  const env = loadEnv();
  const config = loadLeadConfig(env.LEAD_CONFIG);
  // Before DATABASE_URL: a production deployment missing both should hear about the keys first.
  const apiKeys = parseApiKeys(env.API_KEYS, { realKeysRequiredBecause: realKeysRequiredBecause(env) });
  const codec = new EncryptionCodec(payloadKeysFrom(env));
  const { unsubscribeSecret } = emailSettingsFrom(env);
  if (!env.DATABASE_URL) throw new Error('DATABASE_URL is not set (`npm start` sets it for the embedded stack)');
  if (!env.API_KEYS) {
    console.log('api: API_KEYS is unset: accepting the development keys capture-dev, ops-dev and marketing-dev');
  }
  const sql = createSql(env.DATABASE_URL, { applicationName: applicationName(env) });
  const connection = await Connection.connect(temporalConnectionOptions(env));
  const temporal = new Client({ connection, namespace: env.TEMPORAL_NAMESPACE, dataConverter: encryptingDataConverter(codec) });
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
    },
    apiKeys,
  );
  const server = serve({ fetch: app.fetch, port: env.PORT }, (info) => {
    console.log(`api: listening on http://localhost:${info.port}`);
  });

  const shutdown = () => {
    server.close(async () => {
      await connection.close();
      await sql.end({ timeout: 5 });
      process.exit(0);
    });
  };
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);
}

main().catch((error) => {
  console.error(`api: ${error instanceof Error ? error.message : error}`);
  process.exit(1);
});
