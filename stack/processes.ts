import { spawn, type ChildProcess, type StdioOptions } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));

/** Runs one of the service's entry points (`worker/main.ts`, `api/main.ts`) as its own Node process. */
export function spawnService(
  script: 'worker/main.ts' | 'api/main.ts',
  env: NodeJS.ProcessEnv,
  options: { nodeOptions?: string[]; stdio?: StdioOptions } = {},
): ChildProcess {
  return spawn(process.execPath, [...(options.nodeOptions ?? []), '--import', 'tsx', join(root, script)], {
    env,
    stdio: options.stdio ?? ['ignore', 'inherit', 'inherit'],
  });
}
