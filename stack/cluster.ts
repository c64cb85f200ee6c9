/**
 * The production topology without Docker (docs/operations/production.md): a Temporal
 * server on Postgres with SQL visibility, started from `stack/cluster/temporal.yaml` (the file
 * docker-compose.yml mounts), the Temporal Web UI (`temporalio/ui-server`, the program of the
 * `temporalio/ui` image), and several workers and API processes against them. The server, its
 * schema tool and the UI server are Go modules built once into the engine cache, like the CLI.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Connection } from '@temporalio/client';
import proto from '@temporalio/proto';
import { apiKeysBanner, parseApiKeys } from '../api/auth';
import { writeEmbeddedStackProof } from '../config/embedded-stack';
import { loadEnv, payloadKeysFrom, realKeysRequiredBecause } from '../config/env';
import { loadLeadConfig } from '../config/load';
import { migrate } from '../db/migrate';
import { searchAttributes } from '../contracts/search-attributes';
import { goBuildCached } from './engine';
import { developmentPayloadKeys } from './payload-keys';
import { startEmbeddedPostgres, type RunningPostgres } from './postgres';
import { spawnService } from './processes';
import { ensureNamespace, ensureSearchAttributes } from './search-attributes';

/** The server inside the Temporal CLI we use (v1.5.1), so the dev server and the cluster run the same code. */
export const temporalServerVersion = 'v1.29.1';
/** The UI inside that CLI. */
export const temporalUiVersion = 'v2.42.1';
/** `temporal.yaml` (the server's configuration, a Go template) and `dynamicconfig.yaml`. */
export const clusterConfigDir = fileURLToPath(new URL('./cluster', import.meta.url));

type Log = (line: string) => void;

export interface ClusterBinaries {
  server: string;
  /** `temporal-sql-tool`: creates and migrates Temporal's databases. */
  sqlTool: string;
  /** The module's `schema/postgresql/v12` (directories `temporal` and `visibility`). */
  schemaDir: string;
  uiServer: string;
  /** The ui-server module's root: its `config/docker.yaml` is the template the `temporalio/ui` image renders from env. */
  uiRoot: string;
}

/** The Temporal server, its schema tool and the Web UI server: from the cache, else built with Go (minutes, once). */
export async function clusterBinaries(log: Log = (line) => console.log(`engine: ${line}`)): Promise<ClusterBinaries> {
  const serverDir = await goBuildCached({
    name: 'temporal-server',
    module: 'go.temporal.io/server',
    version: temporalServerVersion,
    packages: [
      { path: 'go.temporal.io/server/cmd/tools/sql', binary: 'temporal-sql-tool' },
      { path: 'go.temporal.io/server/cmd/server', binary: 'temporal-server' },
    ],
    files: ['schema/postgresql/v12'],
    expect: 'about 3 minutes on 2 cores the first time, 1 with the CLI build cached',
    log,
  });
  const uiDir = await goBuildCached({
    name: 'temporal-ui-server',
    module: 'github.com/temporalio/ui-server/v2',
    version: temporalUiVersion,
    packages: [{ path: 'github.com/temporalio/ui-server/v2/cmd/server', binary: 'temporal-ui-server' }],
    files: ['config'],
    expect: 'about a minute the first time',
    log,
  });
  return {
    server: join(serverDir, 'temporal-server'),
    sqlTool: join(serverDir, 'temporal-sql-tool'),
    schemaDir: join(serverDir, 'schema/postgresql/v12'),
    uiServer: join(uiDir, 'temporal-ui-server'),
    uiRoot: uiDir,
  };
}

export interface PostgresAccess {
  host: string;
  port: number;
  user: string;
  password: string;
}

export function postgresAccess(databaseUrl: string): PostgresAccess {
  const url = new URL(databaseUrl);
  return {
    host: url.hostname,
    port: Number(url.port || 5432),
    user: decodeURIComponent(url.username),
    password: decodeURIComponent(url.password),
  };
}

/**
 * Creates Temporal's databases (`temporal`, `temporal_visibility`) on first use and brings their
 * schemas up to the server's version, with the server's own schema tool (what docker-compose's
 * `temporal-schema` service runs). Safe to repeat.
 */
export async function migrateTemporalSchemas(binaries: ClusterBinaries, db: PostgresAccess, log: Log): Promise<void> {
  // The password goes through the environment, not the command line (visible in `ps`).
  const env = {
    ...process.env,
    SQL_PLUGIN: 'postgres12',
    SQL_HOST: db.host,
    SQL_PORT: String(db.port),
    SQL_USER: db.user,
    SQL_PASSWORD: db.password,
  };
  const tool = (database: string, args: string[]) => spawnSync(binaries.sqlTool, ['--db', database, ...args], { env, encoding: 'utf8' });
  for (const [database, schema] of [
    ['temporal', 'temporal'],
    ['temporal_visibility', 'visibility'],
  ] as const) {
    const created = tool(database, ['create-database']);
    const fresh = created.status === 0;
    if (!fresh && !/already exists/.test(created.stderr + created.stdout)) {
      throw new Error(`temporal-sql-tool create-database ${database}: ${created.stderr || created.stdout}`);
    }
    for (const args of [
      ...(fresh ? [['setup-schema', '-v', '0.0']] : []),
      ['update-schema', '-d', join(binaries.schemaDir, schema, 'versioned')],
    ]) {
      const result = tool(database, args);
      if (result.status !== 0) throw new Error(`temporal-sql-tool ${args[0]} ${database}: ${result.stderr || result.stdout}`);
    }
    log(`Temporal database ${database}: ${fresh ? 'created, ' : ''}schema up to date`);
  }
}

export interface ClusterOptions {
  dataDir: string;
  /** Postgres for our read model and Temporal's databases; unset: embedded Postgres on `postgresPort`. */
  databaseUrl?: string;
  postgresPort?: number;
  /** Frontend gRPC; history, matching and worker listen on the next ports (+1, +2, +6). */
  temporalPort?: number;
  /** Ringpop membership ports: this one and +1, +2, +6. */
  membershipPort?: number;
  temporalHttpPort?: number;
  uiPort?: number;
  namespace?: string;
  workers?: number;
  /** One API process per port. */
  apiPorts?: number[];
  /** Environment of the workers and APIs (payload keys, API keys, LEAD_CONFIG…), over this process's. */
  serviceEnv?: NodeJS.ProcessEnv;
  log?: Log;
}

export interface RunningCluster {
  address: string;
  namespace: string;
  uiUrl: string;
  databaseUrl: string;
  apiUrls: string[];
  binaries: ClusterBinaries;
  /** Every process's output, one file each. */
  logDir: string;
  server(): ChildProcess;
  ui(): ChildProcess;
  workers: ChildProcess[];
  apis: ChildProcess[];
  /** Stops the Temporal server (SIGTERM, or `signal`) and starts it again on the same databases. */
  restartServer(signal?: NodeJS.Signals): Promise<void>;
  /** Starts worker `index` again (after it died or was killed). */
  restartWorker(index: number): ChildProcess;
  stop(): Promise<void>;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

async function stopProcess(child: ChildProcess, signal: NodeJS.Signals = 'SIGTERM', graceMs = 10_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const kill = setTimeout(() => child.kill('SIGKILL'), graceMs);
  child.kill(signal);
  await exited(child);
  clearTimeout(kill);
}

/** How many workers poll the workflow task queue (each process is one identity). */
export async function pollers(address: string, namespace: string, taskQueue = 'leads'): Promise<number> {
  const connection = await Connection.connect({ address });
  try {
    const { pollers } = await connection.workflowService.describeTaskQueue({
      namespace,
      taskQueue: { name: taskQueue },
      taskQueueType: proto.temporal.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
    });
    return new Set(pollers?.map((poller) => poller.identity)).size;
  } finally {
    await connection.close();
  }
}

const tail = (file: string) => (existsSync(file) ? readFileSync(file, 'utf8').slice(-3000) : '');

/** Waits for `check` to succeed while `child` runs; the child's log tells why it did not. */
async function waitUntil(
  what: string,
  child: ChildProcess,
  logFile: string,
  timeoutMs: number,
  check: () => Promise<boolean>,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null)
      throw new Error(`${what} exited (${child.signalCode ?? child.exitCode}); ${logFile}:\n${tail(logFile)}`);
    if (await check().catch(() => false)) return;
    if (Date.now() > deadline) throw new Error(`${what} not ready in ${timeoutMs / 1000} s; ${logFile}:\n${tail(logFile)}`);
    await sleep(250);
  }
}

/**
 * Starts the whole topology: Postgres (embedded unless `databaseUrl`), Temporal's databases,
 * the Temporal server from `stack/cluster/temporal.yaml`, the namespace and our search attributes,
 * our migrations, the Web UI, then `workers` workers and one API per port of `apiPorts`.
 */
export async function startCluster(options: ClusterOptions): Promise<RunningCluster> {
  const log = options.log ?? (() => {});
  const namespace = options.namespace ?? 'default';
  const temporalPort = options.temporalPort ?? 7233;
  const uiPort = options.uiPort ?? 8233;
  const logDir = join(options.dataDir, 'logs');
  mkdirSync(logDir, { recursive: true });
  const logFile = (name: string) => join(logDir, `${name}.log`);
  const output = (name: string) => {
    const fd = openSync(logFile(name), 'a');
    return ['ignore', fd, fd] as ['ignore', number, number];
  };
  const cleanups: (() => Promise<void>)[] = [];
  const stopAll = async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch((error) => log(`stopping: ${error}`));
  };

  try {
    const [binaries, postgres] = await Promise.all([
      clusterBinaries(log),
      options.databaseUrl
        ? Promise.resolve<RunningPostgres>({ url: options.databaseUrl, stop: async () => {} })
        : startEmbeddedPostgres({ dataDir: join(options.dataDir, 'postgres'), port: options.postgresPort ?? 54321, database: 'leads' }),
    ]);
    cleanups.push(() => postgres.stop());
    const db = postgresAccess(postgres.url);
    await migrateTemporalSchemas(binaries, db, log);

    const serverEnv = {
      ...process.env,
      TEMPORAL_DB_HOST: db.host,
      TEMPORAL_DB_PORT: String(db.port),
      TEMPORAL_DB_USER: db.user,
      TEMPORAL_DB_PASSWORD: db.password,
      TEMPORAL_PORT: String(temporalPort),
      TEMPORAL_MEMBERSHIP_PORT: String(options.membershipPort ?? 6933),
      TEMPORAL_HTTP_PORT: String(options.temporalHttpPort ?? 7243),
      TEMPORAL_DYNAMIC_CONFIG: join(clusterConfigDir, 'dynamicconfig.yaml'),
    };
    const address = `127.0.0.1:${temporalPort}`;
    let server: ChildProcess;
    const startServer = async () => {
      server = spawn(binaries.server, ['--root', clusterConfigDir, '--config', '.', '--env', 'temporal', '--allow-no-auth', 'start'], {
        env: serverEnv,
        stdio: output('temporal-server'),
      });
      await waitUntil('the Temporal server', server, logFile('temporal-server'), 120_000, async () => {
        const connection = await Connection.connect({ address, connectTimeout: 1000 });
        try {
          await connection.workflowService.getSystemInfo({});
          return true;
        } finally {
          await connection.close();
        }
      });
    };
    log(`starting the Temporal server ${temporalServerVersion} on ${address} (Postgres, SQL visibility)…`);
    await startServer();
    cleanups.push(() => stopProcess(server));

    const connection = await Connection.connect({ address });
    try {
      await ensureNamespace(connection, namespace);
      await ensureSearchAttributes(connection, namespace);
      // Workers must not upsert attributes the server does not know yet.
      for (let attempt = 0; ; attempt++) {
        const { customAttributes } = await connection.operatorService.listSearchAttributes({ namespace });
        if (Object.keys(searchAttributes).every((name) => name in (customAttributes ?? {}))) break;
        if (attempt > 60) throw new Error('search attributes not registered after 30 s');
        await sleep(500);
      }
    } finally {
      await connection.close();
    }
    log(`namespace ${namespace} with our search attributes`);

    const applied = await migrate(postgres.url, () => {});
    log(applied.length ? `${applied.length} migration(s) applied` : 'database is up to date');

    const apiPorts = options.apiPorts ?? [3000, 3001];
    const uiUrl = `http://127.0.0.1:${uiPort}`;
    let ui: ChildProcess;
    const startUi = async () => {
      ui = spawn(binaries.uiServer, ['--root', binaries.uiRoot, '--config', 'config', '--env', 'docker', 'start'], {
        // The variables of the temporalio/ui image (docker-compose.yml).
        env: {
          ...process.env,
          TEMPORAL_ADDRESS: address,
          TEMPORAL_UI_PORT: String(uiPort),
          TEMPORAL_DEFAULT_NAMESPACE: namespace,
          // The browser decodes payloads through the first API's codec server (docs/features/privacy.md).
          TEMPORAL_CODEC_ENDPOINT: `http://127.0.0.1:${apiPorts[0] ?? 3000}/codec`,
          TEMPORAL_CORS_ORIGINS: uiUrl,
          // No internet here: no version check.
          TEMPORAL_NOTIFY_ON_NEW_VERSION: 'false',
        },
        stdio: output('temporal-ui'),
      });
      await waitUntil('the Temporal UI', ui, logFile('temporal-ui'), 60_000, async () => (await fetch(uiUrl)).ok);
    };
    await startUi();
    cleanups.push(() => stopProcess(ui));

    const serviceEnv: NodeJS.ProcessEnv = {
      ...process.env,
      ...options.serviceEnv,
      // Postgres (unless given) and Temporal are ours: the services get the proof (config/embedded-stack.ts).
      ...(options.databaseUrl ? {} : writeEmbeddedStackProof(options.dataDir, { databaseUrl: postgres.url, temporalAddress: address })),
      DATABASE_URL: postgres.url,
      TEMPORAL_ADDRESS: address,
      TEMPORAL_NAMESPACE: namespace,
      TEMPORAL_UI_URL: uiUrl,
    };
    const workers: ChildProcess[] = [];
    // Several workers on one machine: each takes a free port for its metrics and health (the default, 3001, fits one).
    const workerEnv: NodeJS.ProcessEnv = { WORKER_HTTP_PORT: '0', ...serviceEnv };
    const startWorker = (index: number) =>
      (workers[index] = spawnService('worker/main.ts', workerEnv, { stdio: output(`worker-${index + 1}`) }));
    for (let i = 0; i < (options.workers ?? 2); i++) startWorker(i);
    const apis = apiPorts.map((port, i) =>
      spawnService('api/main.ts', { ...serviceEnv, PORT: String(port) }, { stdio: output(`api-${i + 1}`) }),
    );
    cleanups.push(() => Promise.all([...workers, ...apis].map((child) => stopProcess(child))).then(() => {}));
    const apiUrls = apiPorts.map((port) => `http://127.0.0.1:${port}`);
    await Promise.all([
      ...apis.map((api, i) =>
        waitUntil(`API ${i + 1}`, api, logFile(`api-${i + 1}`), 120_000, async () => (await fetch(`${apiUrls[i]}/readyz`)).ok),
      ),
      // Up means the workers poll (they bundle the workflows first): a capture before that waits, then answers 503.
      ...workers.map((worker, i) =>
        waitUntil(
          `worker ${i + 1}`,
          worker,
          logFile(`worker-${i + 1}`),
          180_000,
          async () => (await pollers(address, namespace, serviceEnv.TEMPORAL_TASK_QUEUE)) >= workers.length,
        ),
      ),
    ]);

    return {
      address,
      namespace,
      uiUrl,
      databaseUrl: postgres.url,
      apiUrls,
      binaries,
      logDir,
      server: () => server,
      ui: () => ui,
      workers,
      apis,
      async restartServer(signal = 'SIGTERM') {
        await stopProcess(server, signal);
        await startServer();
      },
      restartWorker: startWorker,
      stop: stopAll,
    };
  } catch (error) {
    await stopAll();
    throw error;
  }
}

/** Whether a TCP port on loopback is free, by listening on it. */
const isFree = (port: number) =>
  new Promise<boolean>((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });

/**
 * `count` free consecutive ports (the server's services listen at fixed offsets from its base
 * port), below 32768: the server stores its membership port in a Postgres smallint.
 */
export async function freePortRange(count: number): Promise<number> {
  for (;;) {
    const base = 20_000 + Math.floor(Math.random() * 12_000);
    const free = await Promise.all(Array.from({ length: count }, (_, i) => isFree(base + i)));
    if (free.every(Boolean)) return base;
  }
}

/** The cluster's Temporal server (with UI) and Postgres alone, on free ports: the bench runs its own worker and API against them. */
export async function startClusterEngine(
  dataDir: string,
  log?: Log,
): Promise<[{ address: string; stop(): Promise<void> }, { url: string; stop(): Promise<void> }]> {
  const cluster = await startCluster({
    dataDir,
    postgresPort: await freePortRange(1),
    temporalPort: await freePortRange(7),
    membershipPort: await freePortRange(7),
    temporalHttpPort: await freePortRange(1),
    uiPort: await freePortRange(1),
    workers: 0,
    apiPorts: [],
    log,
  });
  return [
    { address: cluster.address, stop: cluster.stop },
    { url: cluster.databaseUrl, stop: async () => {} },
  ];
}

/**
 * `npm run start:cluster`: the production topology on this machine, on embedded Postgres unless
 * DATABASE_URL is set. Temporal gRPC on 7233, Web UI on 8233, two workers, APIs on PORT and PORT+1.
 * Ctrl-C / SIGTERM stops all; one process dying stops all too (it is a development tool, not a supervisor).
 */
async function main() {
  const started = Date.now();
  const log = (line: string) => console.log(`cluster: ${line}`);
  const env = loadEnv();
  loadLeadConfig(env.LEAD_CONFIG);
  if (env.TEMPORAL_ADDRESS)
    throw new Error('TEMPORAL_ADDRESS is set: start:cluster runs its own Temporal server (unset it, or use `npm start` against yours)');
  const embedded = !env.DATABASE_URL;
  const marker = { LEAD_EMBEDDED_STACK: undefined };
  parseApiKeys(env.API_KEYS, { realKeysRequiredBecause: realKeysRequiredBecause({ ...env, ...marker }, { startingEmbedded: embedded }) });
  const dataDir = join(env.LEAD_DATA_DIR ?? fileURLToPath(new URL('../.data', import.meta.url)), 'cluster');
  mkdirSync(dataDir, { recursive: true });
  const payloadKeys = env.LEAD_PAYLOAD_KEYS || !embedded ? undefined : developmentPayloadKeys(dataDir, log);
  if (!payloadKeys) payloadKeysFrom({ ...env, ...marker }, { startingEmbedded: embedded });

  let cluster: RunningCluster | undefined;
  let stopping = false;
  const stop = async (code: number) => {
    if (stopping) return;
    stopping = true;
    log('stopping…');
    await cluster?.stop();
    process.exit(code);
  };
  process.once('SIGINT', () => void stop(0));
  process.once('SIGTERM', () => void stop(0));
  cluster = await startCluster({
    dataDir,
    databaseUrl: env.DATABASE_URL,
    postgresPort: env.EMBEDDED_PG_PORT + 1,
    apiPorts: [env.PORT, env.PORT + 1],
    serviceEnv: { ...marker, ...(payloadKeys ? { LEAD_PAYLOAD_KEYS: payloadKeys } : {}) },
    log,
  });
  for (const [name, child] of [
    ['the Temporal server', cluster.server()],
    ['the Temporal UI', cluster.ui()],
    ...cluster.workers.map((child, i) => [`worker ${i + 1}`, child] as const),
    ...cluster.apis.map((child, i) => [`API ${i + 1}`, child] as const),
  ] as const) {
    child.once('exit', (code, signal) => {
      if (stopping) return;
      console.error(`cluster: ${name} exited (${signal ?? `code ${code}`}); its log is in ${cluster!.logDir}; stopping everything`);
      void stop(1);
    });
  }
  const keys = apiKeysBanner(env.API_KEYS);
  console.log(`
  Production topology is up (${((Date.now() - started) / 1000).toFixed(1)} s)
    APIs           ${cluster.apiUrls.join('  ')}
    Temporal UI    ${cluster.uiUrl}   (temporalio/ui-server ${temporalUiVersion})
    Temporal gRPC  ${cluster.address}   server ${temporalServerVersion}, Postgres persistence + SQL visibility, namespace ${cluster.namespace}
    Postgres       ${cluster.databaseUrl.replace(/:[^:@/]+@/, ':***@')} (+ databases temporal, temporal_visibility)
    workers        ${cluster.workers.length}
    API keys       ${keys}
    Logs           ${cluster.logDir}
  Ctrl-C stops everything.
`);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  main().catch((error) => {
    console.error(`cluster: ${error instanceof Error ? error.message : error}`);
    process.exit(1);
  });
}
