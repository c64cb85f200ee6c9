import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import getPort from 'get-port';
import type {} from 'vitest';
import type { TestProject } from 'vitest/node';
import { migrate } from '../db/migrate';
import { testServerExecutable } from '../stack/engine';
import { startEmbeddedPostgres } from '../stack/postgres';
import { startDevServer } from '../stack/temporal';

declare module 'vitest' {
  export interface ProvidedContext {
    temporalAddress: string;
    temporalUiUrl: string;
    databaseUrl: string;
    /** Path of the time-skipping test server, or '' to let the SDK download it. */
    timeSkippingServer: string;
    /** The port the Web UI's codec endpoint points at: the Temporal UI test serves its API there. */
    codecPort: number;
  }
}

/** Starts the real Temporal dev server (with its UI) and a fresh real Postgres once for the whole run. */
export default async function setup(project: TestProject) {
  const log = (line: string) => console.log(`test setup: ${line}`);
  const dataDir = mkdtempSync(join(tmpdir(), 'lead-tests-'));
  chmodSync(dataDir, 0o755); // as root, Postgres runs as the postgres user and must enter it
  // The UI is told its codec endpoint at start: a port reserved now for the API of the UI test.
  const codecPort = await getPort();
  const [temporal, postgres, testServer] = await Promise.all([
    startDevServer({ ui: true, uiCodecEndpoint: `http://127.0.0.1:${codecPort}/codec`, log }),
    startEmbeddedPostgres({ dataDir: join(dataDir, 'postgres'), port: await getPort(), database: 'leads' }),
    testServerExecutable(log),
  ]);
  await migrate(postgres.url, log);
  log(`Temporal ${temporal.address} (UI ${temporal.uiUrl}), Postgres ${postgres.url}`);

  project.provide('temporalAddress', temporal.address);
  project.provide('temporalUiUrl', temporal.uiUrl!);
  project.provide('databaseUrl', postgres.url);
  project.provide('codecPort', codecPort);
  project.provide('timeSkippingServer', testServer.type === 'existing-path' ? testServer.path : '');

  return async () => {
    await Promise.allSettled([temporal.stop(), postgres.stop()]);
    rmSync(dataDir, { recursive: true, force: true });
  };
}
