import { fileURLToPath } from 'node:url';
import { runner } from 'node-pg-migrate';
import { loadEnv } from '../config/env';

export const migrationsDir = fileURLToPath(new URL('./migrations', import.meta.url));

/**
 * Applies `db/migrations/*.sql` in order, each once and in its own transaction, recorded in
 * `schema_migrations`. An advisory lock makes a second process that starts at the same time wait.
 */
export async function migrate(databaseUrl: string, log: (line: string) => void = console.log): Promise<string[]> {
  const applied = await runner({
    databaseUrl,
    dir: migrationsDir,
    direction: 'up',
    migrationsTable: 'schema_migrations',
    singleTransaction: false,
    advisoryLockMode: 'wait',
    checkOrder: true,
    log: () => {},
    logger: { debug: () => {}, info: () => {}, warn: log, error: log },
  });
  for (const m of applied) log(`migration applied: ${m.name}`);
  return applied.map((m) => m.name);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  let url: string | undefined;
  try {
    url = loadEnv().DATABASE_URL;
  } catch (error) {
    console.error((error as Error).message);
    process.exit(1);
  }
  if (!url) {
    console.error('DATABASE_URL is not set. `npm start` runs migrations against the embedded Postgres by itself.');
    process.exit(1);
  }
  migrate(url).then(
    (names) => console.log(names.length ? `${names.length} migration(s) applied` : 'database is up to date'),
    (error) => {
      console.error(`migration failed: ${error.message}`);
      process.exit(1);
    },
  );
}
