import { spawn } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The workflows' entry point, bundled by the SDK's webpack for the workflow sandbox. */
export const workflowsPath = fileURLToPath(new URL('../workflows/index.ts', import.meta.url));
/** Bundled with every workflow (a pre-built bundle must be made with them too): workflows/interceptors.ts. */
export const workflowInterceptorModules = [fileURLToPath(new URL('../workflows/interceptors.ts', import.meta.url))];
/**
 * Added to those when tracing is on (workflows/tracing.ts): off, the bundle has no tracing code and
 * a workflow task makes no span (docs/operations/observability.md "Traces").
 */
export const tracingInterceptorModules = [fileURLToPath(new URL('../workflows/tracing.ts', import.meta.url))];

/** The workflow interceptor modules of a worker with or without tracing. */
export function interceptorModules({ tracing }: { tracing: boolean }): string[] {
  return tracing ? [...workflowInterceptorModules, ...tracingInterceptorModules] : workflowInterceptorModules;
}

const bundler = fileURLToPath(new URL('./bundle-workflows.ts', import.meta.url));

/**
 * Bundles the workflows in a process of its own (worker/bundle-workflows.ts) and returns the
 * bundle's path for `workflowBundle`. Bundled in the worker's own process, webpack's memory stays
 * with the worker for its whole life (about 100 MiB of resident memory, measured with the SDK's
 * bundler on this code); a child gives it back when it exits. The child runs under the worker's
 * own Node options (the TypeScript loader among them).
 */
export async function bundleInChildProcess(progress: (line: string) => void, { tracing = false } = {}): Promise<{ codePath: string }> {
  const codePath = join(await mkdtemp(join(tmpdir(), 'lead-workflows-')), 'workflow-bundle.js');
  const started = performance.now();
  progress('bundling the workflows (in a child process)…');
  await new Promise<void>((resolve, reject) => {
    // Its stdout is not the worker's log (webpack's chatter is not JSON); its errors are shown.
    const child = spawn(process.execPath, [...process.execArgv, bundler, codePath, ...(tracing ? ['--tracing'] : [])], {
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    child.once('error', reject);
    child.once('exit', (code, signal) =>
      code === 0 ? resolve() : reject(new Error(`bundling the workflows failed (${signal ?? `exit code ${code}`})`)),
    );
  });
  progress(`workflows bundled in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  return { codePath };
}
