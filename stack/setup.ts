/**
 * `npm run setup`: prepares external services for the worker and API — applies the database
 * migrations at DATABASE_URL and registers the search attributes at TEMPORAL_ADDRESS.
 * docker-compose runs it once before the worker and API; `npm start` does the same itself.
 */
import { fileURLToPath } from 'node:url';
import { Connection } from '@temporalio/client';
import { loadEnv, temporalConnectionOptions } from '../config/env';
import { migrate } from '../db/migrate';
import { ensureNamespace, ensureSearchAttributes } from './search-attributes';

const log = (line: string) => console.log(`setup: ${line}`);

/**
 * Registers the namespace (a fresh self-hosted server has none) and our search attributes where the
 * server allows it; Temporal Cloud takes both through tcld or its UI instead.
 */
export async function prepareTemporal(env = loadEnv()): Promise<void> {
  const connection = await Connection.connect(temporalConnectionOptions(env));
  try {
    await ensureNamespace(connection, env.TEMPORAL_NAMESPACE);
    await ensureSearchAttributes(connection, env.TEMPORAL_NAMESPACE);
    log(`search attributes registered in namespace ${env.TEMPORAL_NAMESPACE}`);
  } catch (error) {
    log(
      `could not register the namespace or search attributes (${(error as Error).message}); on Temporal Cloud add them with tcld or the Cloud UI`,
    );
  } finally {
    await connection.close();
  }
}

async function main() {
  const env = loadEnv();
  if (!env.DATABASE_URL || !env.TEMPORAL_ADDRESS) {
    throw new Error('set DATABASE_URL and TEMPORAL_ADDRESS (`npm start` prepares the embedded stack by itself)');
  }
  log('applying migrations…');
  const applied = await migrate(env.DATABASE_URL, log);
  log(applied.length ? `${applied.length} migration(s) applied` : 'database is up to date');
  await prepareTemporal(env);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  main().catch((error) => {
    console.error(`setup: ${error instanceof Error ? error.message : error}`);
    process.exit(1);
  });
}
