import { createServer } from 'node:net';
import { serve } from '@hono/node-server';
import type { Worker } from '@temporalio/worker';
import { Hono } from 'hono';
import type { Registry } from 'prom-client';
import { ping, type Sql } from '../db/client';
import { check } from '../observability/check';
import { errorFields, type Logger } from '../observability/logger';

/** A port free on 127.0.0.1 now: where the SDK's own Prometheus exporter listens, behind our `/metrics`. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

export interface WorkerHttpOptions {
  port: number;
  /** The interface it listens on (`WORKER_HTTP_HOST`, loopback by default). */
  hostname?: string;
  worker: Pick<Worker, 'getState'>;
  sql: Sql;
  registry: Registry;
  /** The SDK's (Temporal Core's) Prometheus endpoint, merged into ours; bound to 127.0.0.1 only. */
  coreMetricsUrl?: string;
  log: Logger;
}

/**
 * The worker's small HTTP port: `/metrics` (ours and the SDK's Core metrics in one exposition, so
 * one scrape target per worker) and `/healthz` (200 while the worker runs and Postgres answers,
 * 503 otherwise: docker-compose's health check).
 */
export function startWorkerHttp({ port, hostname = '127.0.0.1', worker, sql, registry, coreMetricsUrl, log }: WorkerHttpOptions) {
  const app = new Hono();
  app.get('/healthz', async (c) => {
    const state = worker.getState();
    const postgres = await check(() => ping(sql));
    const healthy = state === 'RUNNING' && postgres === 'ok';
    return c.json({ status: healthy ? 'ok' : 'unavailable', checks: { worker: state, postgres } }, healthy ? 200 : 503);
  });
  app.get('/metrics', async (c) => {
    // Distinct families (ours are lead_*, process_* and nodejs_*; Core's temporal_*), so the two texts concatenate into one valid exposition.
    const [ours, core] = await Promise.all([
      registry.metrics(),
      coreMetricsUrl
        ? fetch(coreMetricsUrl, { signal: AbortSignal.timeout(2000) }).then(
            (response) => (response.ok ? response.text() : ''),
            (error: unknown) => {
              log.warn(errorFields(error), 'the SDK metrics endpoint did not answer');
              return '';
            },
          )
        : '',
    ]);
    return c.body(`${ours}\n${core}`, 200, { 'content-type': registry.contentType });
  });
  app.notFound((c) => c.json({ error: { code: 'not_found', message: `no route for ${c.req.method} ${c.req.path}` } }, 404));
  return new Promise<{ port: number; close(): Promise<void> }>((resolve) => {
    const server = serve({ fetch: app.fetch, port, hostname }, (info) =>
      resolve({ port: info.port, close: () => new Promise<void>((done) => server.close(() => done())) }),
    );
  });
}
