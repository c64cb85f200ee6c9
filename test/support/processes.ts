import type { ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inject } from 'vitest';
import { writeEmbeddedStackProof } from '../../config/embedded-stack';
import { spawnService } from '../../stack/processes';
import { testPayloadKeys } from './codec';
import { eventually } from './helpers';

/** A log line as the process wrote it, parsed (or `raw` when it was not JSON). */
export type LogLine = Record<string, any> & { raw: string };

/** One of the service's entry points running as its own process, as in production, its stdout kept as log lines. */
export interface ServiceProcess {
  child: ChildProcess;
  lines: LogLine[];
  /** Resolves with the exit code (null when killed by a signal) once the process has exited. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** The first line for which `match` holds, waiting for it. */
  line(match: (line: LogLine) => boolean): Promise<LogLine>;
  /** SIGTERM, then SIGKILL if it is still up after `timeoutMs`; answers the exit. */
  stop(timeoutMs?: number): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/**
 * The environment of a process of the service under test: the run's Temporal and Postgres, the
 * test payload key, JSON logs, its own task queue; `overrides` on top (`LEAD_CONFIG` from
 * `config`, written to a file).
 */
export function processEnv(options: { taskQueue: string; config?: unknown; env?: Record<string, string | undefined> }): NodeJS.ProcessEnv {
  const { API_KEYS: _keys, NODE_ENV: _nodeEnv, LEAD_CONFIG: _config, NOTIFY_WEBHOOK_URL: _hook, ...inherited } = process.env;
  const env: NodeJS.ProcessEnv = {
    ...inherited,
    DATABASE_URL: inject('databaseUrl'),
    TEMPORAL_ADDRESS: inject('temporalAddress'),
    TEMPORAL_TASK_QUEUE: options.taskQueue,
    LEAD_PAYLOAD_KEYS: `${testPayloadKeys.older.id}:${testPayloadKeys.older.key.toString('base64')}`,
    LOG_FORMAT: 'json',
    PORT: '0',
    WORKER_HTTP_PORT: '0',
  };
  if (options.config !== undefined) {
    const file = join(mkdtempSync(join(tmpdir(), 'lead-config-')), 'config.json');
    writeFileSync(file, JSON.stringify(options.config));
    env.LEAD_CONFIG = file;
  }
  for (const [name, value] of Object.entries(options.env ?? {})) {
    if (value === undefined) delete env[name];
    else env[name] = value;
  }
  // The run's Postgres and Temporal (or a loopback proxy of a test) are ones the tests started: the
  // proof of it (config/embedded-stack.ts) lets the development keys apply, unless a test sets its own.
  if (!('LEAD_EMBEDDED_STACK' in (options.env ?? {}))) {
    Object.assign(
      env,
      writeEmbeddedStackProof(mkdtempSync(join(tmpdir(), 'lead-stack-')), {
        databaseUrl: env.DATABASE_URL!,
        temporalAddress: env.TEMPORAL_ADDRESS!,
      }),
    );
  }
  return env;
}

export function startProcess(script: 'worker/main.ts' | 'api/main.ts', env: NodeJS.ProcessEnv): ServiceProcess {
  const child = spawnService(script, env, { stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: LogLine[] = [];
  let buffered = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    buffered += chunk;
    const complete = buffered.split('\n');
    buffered = complete.pop()!;
    for (const raw of complete.filter(Boolean)) {
      try {
        lines.push({ ...JSON.parse(raw), raw });
      } catch {
        lines.push({ raw });
      }
    }
  });
  // Stderr is not a log: it is shown, so that a crash says why.
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => process.stderr.write(`[${script}] ${chunk}`));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  return {
    child,
    lines,
    exited,
    line: (match) =>
      eventually(() => {
        const found = lines.find(match);
        if (!found) throw new Error(`${script}: no such line yet (${lines.length} lines; exit code ${child.exitCode})`);
        return found;
      }),
    async stop(timeoutMs = 30_000) {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const kill = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
        const result = await exited;
        clearTimeout(kill);
        return result;
      }
      return exited;
    },
  };
}

/** The worker and the API as processes on a task queue of their own, ready: the worker polling, the API listening. */
export async function startProcesses(options: { config?: unknown; env?: Record<string, string | undefined>; api?: boolean } = {}) {
  const taskQueue = `test-${randomUUID()}`;
  const env = processEnv({ taskQueue, config: options.config, env: options.env });
  const worker = startProcess('worker/main.ts', env);
  const api = options.api === false ? undefined : startProcess('api/main.ts', env);
  // The worker bundles the workflows first: slow on a loaded machine.
  const [polling, listening] = await Promise.all([
    waitLong(() => worker.line((l) => typeof l.httpPort === 'number')),
    api ? api.line((l) => typeof l.port === 'number') : undefined,
  ]);
  return {
    taskQueue,
    env,
    worker,
    api,
    workerUrl: `http://127.0.0.1:${polling.httpPort}`,
    apiUrl: listening ? `http://127.0.0.1:${listening.port}` : '',
    async stop() {
      await Promise.all([worker.stop(), api?.stop()]);
    },
  };
}

/** `eventually`'s 20 s is short for bundling the workflows on a busy 2-core machine. */
async function waitLong<T>(attempt: () => Promise<T>, tries = 6): Promise<T> {
  for (let i = 1; ; i++) {
    try {
      return await attempt();
    } catch (error) {
      if (i >= tries) throw error;
    }
  }
}
