import { TestWorkflowEnvironment } from '@temporalio/testing';
import { searchAttributes } from '../contracts/search-attributes';
import { temporalCliExecutable } from './engine';

export interface RunningTemporal {
  address: string;
  uiUrl?: string;
  stop(): Promise<void>;
}

/**
 * The Temporal dev server (SQLite persistence when `dbFilename` is given, Web UI when `uiPort`
 * is), with our search attributes registered. The SDK's ephemeral-server support runs the
 * process and stops it on `stop()`.
 */
export async function startDevServer(options: {
  port?: number;
  /** Serve the Web UI: on `uiPort`, or on port + 1000 when only `ui` is set. */
  ui?: boolean;
  uiPort?: number;
  dbFilename?: string;
  namespace?: string;
  /** The Web UI's remote codec endpoint (the API's `/codec`), so it shows decrypted payloads. */
  uiCodecEndpoint?: string;
  /** More `temporal server start-dev` arguments, e.g. `--dynamic-config-value KEY=VALUE`. */
  extraArgs?: string[];
  log?: (line: string) => void;
}): Promise<RunningTemporal> {
  const executable = await temporalCliExecutable(options.log);
  const env = await TestWorkflowEnvironment.createLocal({
    server: {
      executable,
      port: options.port,
      ui: options.ui ?? options.uiPort !== undefined,
      uiPort: options.uiPort,
      dbFilename: options.dbFilename,
      namespace: options.namespace ?? 'default',
      searchAttributes: Object.values(searchAttributes),
      log: { format: 'pretty', level: 'warn' },
      // A SQLite file in WAL mode with normal syncs: durable across restarts, several times the throughput.
      extraArgs: [
        ...(options.dbFilename ? ['--sqlite-pragma', 'journal_mode=wal', '--sqlite-pragma', 'synchronous=normal'] : []),
        ...(options.uiCodecEndpoint ? ['--ui-codec-endpoint', options.uiCodecEndpoint] : []),
        ...(options.extraArgs ?? []),
      ],
    },
  });
  const address = env.connection.options.address;
  const port = Number(address.split(':').pop());
  const uiPort = options.uiPort ?? (options.ui ? port + 1000 : undefined);
  return {
    address,
    uiUrl: uiPort !== undefined ? `http://localhost:${uiPort}` : undefined,
    stop: () => env.teardown(),
  };
}
