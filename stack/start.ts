/**
 * `npm start`: the whole service on embedded defaults. Provisions the engine, starts the Temporal
 * dev server (SQLite file, Web UI on 8233, our search attributes) and Postgres (embedded), applies
 * migrations, then runs the worker and the API as child processes. `TEMPORAL_ADDRESS` or
 * `DATABASE_URL` point at external services instead of starting them. Ctrl-C / SIGTERM stops all.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { apiKeysBanner, parseApiKeys } from '../api/auth';
import { writeEmbeddedStackProof } from '../config/embedded-stack';
import {
  actionLinkSecretFrom,
  emailSettingsFrom,
  leadIdSecretFrom,
  loadEnv,
  notifyWebhookSecretFrom,
  payloadKeysFrom,
  realKeysRequiredBecause,
  slackSettingsFrom,
} from '../config/env';
import { loadLeadConfig } from '../config/load';
import { migrate } from '../db/migrate';
import { startEmbeddedPostgres, type RunningPostgres } from './postgres';
import { spawnService } from './processes';
import { developmentPayloadKeys } from './payload-keys';
import { prepareTemporal } from './setup';
import { startDevServer, type RunningTemporal } from './temporal';

const root = fileURLToPath(new URL('..', import.meta.url));
const log = (line: string) => console.log(`stack: ${line}`);

const children: ChildProcess[] = [];
let temporalServer: RunningTemporal | undefined;
let postgresServer: RunningPostgres | undefined;
let stopping = false;

function runChild(name: string, script: 'worker/main.ts' | 'api/main.ts', env: NodeJS.ProcessEnv): ChildProcess {
  const child = spawnService(script, env);
  child.on('exit', (code, signal) => {
    if (!stopping) {
      console.error(`stack: ${name} exited unexpectedly (${signal ?? `code ${code}`}); stopping everything`);
      void stop(1);
    }
  });
  children.push(child);
  return child;
}

/** How long a child may take to stop on SIGTERM (its own grace time, SHUTDOWN_GRACE_SECONDS, and a margin) before it is killed. */
let stopTimeoutMs = 10_000;

async function stop(exitCode = 0): Promise<never> {
  if (stopping) return new Promise<never>(() => {});
  stopping = true;
  log('stopping…');
  await Promise.all(
    children.map(
      (child) =>
        new Promise<void>((resolve) => {
          if (child.exitCode !== null || child.signalCode !== null) return resolve();
          const kill = setTimeout(() => child.kill('SIGKILL'), stopTimeoutMs);
          child.once('exit', () => {
            clearTimeout(kill);
            resolve();
          });
          child.kill('SIGTERM');
        }),
    ),
  );
  await postgresServer?.stop().catch((error) => console.error(`stack: stopping Postgres: ${error}`));
  await temporalServer?.stop().catch((error) => console.error(`stack: stopping Temporal: ${error}`));
  log('stopped');
  process.exit(exitCode);
}

async function main() {
  const started = Date.now();
  const env = loadEnv();
  stopTimeoutMs = (env.SHUTDOWN_GRACE_SECONDS + 5) * 1000;
  loadLeadConfig(env.LEAD_CONFIG); // a bad configuration stops start-up here, naming the key
  // Only a stack that starts both Postgres and Temporal itself is embedded; its children get the proof of it.
  const embedded = !env.DATABASE_URL && !env.TEMPORAL_ADDRESS;
  const marker = { LEAD_EMBEDDED_STACK: undefined };
  const because = realKeysRequiredBecause({ ...env, ...marker }, { startingEmbedded: embedded });
  // The API would refuse the keys anyway; saying so before starting anything is quicker.
  parseApiKeys(env.API_KEYS, { realKeysRequiredBecause: because });
  const dataDir = env.LEAD_DATA_DIR ?? join(root, '.data');
  const embeddedPostgresPort = env.EMBEDDED_PG_PORT;
  mkdirSync(dataDir, { recursive: true });
  // Yours if given (required with external services, checked like the API keys), else the embedded stack's own.
  const payloadKeys = env.LEAD_PAYLOAD_KEYS || !embedded ? undefined : developmentPayloadKeys(dataDir, log);
  if (!payloadKeys) payloadKeysFrom({ ...env, ...marker }, { startingEmbedded: embedded });
  // Email and webhook secrets: refused by the worker and the API too, said here first.
  emailSettingsFrom({ ...env, ...marker }, { startingEmbedded: embedded });
  notifyWebhookSecretFrom({ ...env, ...marker }, { startingEmbedded: embedded });
  leadIdSecretFrom({ ...env, ...marker }, { startingEmbedded: embedded });
  actionLinkSecretFrom({ ...env, ...marker }, { startingEmbedded: embedded });
  slackSettingsFrom({ ...env, ...marker }, { startingEmbedded: embedded });
  process.once('SIGINT', () => void stop());
  process.once('SIGTERM', () => void stop());

  let temporalAddress = env.TEMPORAL_ADDRESS;
  let uiUrl = env.TEMPORAL_UI_URL;
  if (temporalAddress) {
    log(`using the Temporal service at ${temporalAddress} (namespace ${env.TEMPORAL_NAMESPACE})`);
    await prepareTemporal(env);
  } else {
    log('starting the Temporal dev server (SQLite, Web UI)…');
    temporalServer = await startDevServer({
      port: 7233,
      uiPort: 8233,
      dbFilename: join(dataDir, 'temporal.db'),
      namespace: env.TEMPORAL_NAMESPACE,
      // The UI decodes payloads in the browser through the API's codec server (docs/features/privacy.md).
      uiCodecEndpoint: `http://localhost:${env.PORT}/codec`,
      log: (line) => log(line),
    });
    temporalAddress = temporalServer.address;
    uiUrl = temporalServer.uiUrl;
  }

  let databaseUrl = env.DATABASE_URL;
  if (databaseUrl) {
    log('using the Postgres at DATABASE_URL');
  } else {
    log(`starting embedded Postgres on 127.0.0.1:${embeddedPostgresPort} (data in ${join(dataDir, 'postgres')})…`);
    postgresServer = await startEmbeddedPostgres({
      dataDir: join(dataDir, 'postgres'),
      port: embeddedPostgresPort,
      database: 'leads',
    });
    databaseUrl = postgresServer.url;
  }
  log('applying migrations…');
  const applied = await migrate(databaseUrl, (line) => log(line));
  log(applied.length ? `${applied.length} migration(s) applied` : 'database is up to date');

  const childEnv = {
    ...process.env,
    ...marker,
    ...(embedded ? writeEmbeddedStackProof(dataDir, { databaseUrl, temporalAddress }) : {}),
    ...(payloadKeys ? { LEAD_PAYLOAD_KEYS: payloadKeys } : {}),
    DATABASE_URL: databaseUrl,
    TEMPORAL_ADDRESS: temporalAddress,
    ...(uiUrl ? { TEMPORAL_UI_URL: uiUrl } : {}),
  };
  runChild('worker', 'worker/main.ts', childEnv);
  runChild('api', 'api/main.ts', childEnv);

  const port = env.PORT;
  const keys = apiKeysBanner(env.API_KEYS);
  console.log(`
  Lead orchestration service is starting (${((Date.now() - started) / 1000).toFixed(1)} s so far)
    API            http://localhost:${port}      docs: http://localhost:${port}/docs
    Worker         http://localhost:${env.WORKER_HTTP_PORT}/metrics and /healthz (API metrics: http://localhost:${port}/metrics)
    Temporal UI    ${uiUrl ?? '(external service)'}
    Temporal gRPC  ${temporalAddress}   namespace ${env.TEMPORAL_NAMESPACE}
    Postgres       ${databaseUrl.replace(/:[^:@/]+@/, ':***@')}
    API keys       ${keys}
    Payload key    ${payloadKeys ? `development key in ${join(dataDir, 'payload-keys')}` : 'from LEAD_PAYLOAD_KEYS'}; the Temporal UI decodes through http://localhost:${port}/codec
  Ctrl-C stops everything.
`);
}

main().catch(async (error) => {
  console.error(`stack: ${error instanceof Error ? error.message : error}`);
  await stop(1);
});
