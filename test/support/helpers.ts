import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { leadIdSecret } from './lead-ids';
import { serve } from '@hono/node-server';
import { Client, Connection } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { PayloadCodec } from '@temporalio/common';
import { NativeConnection, type Worker } from '@temporalio/worker';
import { EncryptionCodec, encryptingDataConverter, type PayloadKey } from '../../codec/payload-codec';
import { afterAll, afterEach, beforeAll, inject, vi } from 'vitest';
import { createApp } from '../../api/app';
import { parseApiKeys } from '../../api/auth';
import { createWakeUps, type WakeUps } from '../../api/wake-ups';
import { resolveLeadConfig } from '../../config/load';
import type { SlackSettings } from '../../config/env';
import { slackClient, slackResponseOrigins } from '../../config/slack';
import type { EnrichmentProvider } from '../../activities/enrichment';
import { createSql, type Sql } from '../../db/client';
import { migrate } from '../../db/migrate';
import { leadPolicy, type LeadConfig, type LeadPolicy } from '../../domain/config';
import { createLeadWorker, type LeadWorkerOptions } from '../../worker/worker';
import { testCodec } from './codec';
import { leadStackOn, quietWorkflowBundle, skipTime, startTimeSkippingServer, terminateWhenQuiet, type LeadStack } from './time-skipping';

export const namespace = 'default';

/** A unique address per test, so tests sharing one Temporal server and one database never meet. */
export function uniqueEmail(prefix = 'lead'): string {
  return `${prefix}.${randomUUID().slice(0, 8)}@example-${randomUUID().slice(0, 6)}.com`;
}

let bundle: ReturnType<typeof quietWorkflowBundle> | undefined;
/** The workflow bundle, built once per test file. */
export function workflowBundle() {
  bundle ??= quietWorkflowBundle();
  return bundle;
}

export interface RunningWorker {
  worker: Worker;
  stop(): Promise<void>;
}

/** Runs the real lead worker (workflows and activities) until `stop()`. */
export async function runWorker(options: {
  connection: NativeConnection;
  taskQueue: string;
  sql: Sql;
  config: LeadConfig;
  codec: PayloadCodec;
  enrichment?: EnrichmentProvider;
  extraVendorOrigins?: readonly string[];
}): Promise<RunningWorker> {
  const { codec, ...rest } = options;
  const worker = await createLeadWorker({
    ...rest,
    namespace,
    leadIdSecret,
    payloadCodecs: [codec],
    workflowBundle: await workflowBundle(),
  });
  return { worker, stop: running(worker) };
}

/** Runs `worker`; the function returned shuts it down and waits until it has. */
function running(worker: Worker): () => Promise<void> {
  const run = worker.run();
  return async () => {
    if (worker.getState() === 'RUNNING') worker.shutdown();
    await run;
  };
}

export interface ServiceUnderTest {
  sql: Sql;
  client: Client;
  taskQueue: string;
  baseUrl: string;
  policy: LeadPolicy;
  /** The API's wake-ups of the unassigned queue: `settled()` waits until what changes to reps, teams and accounts woke has been sent. */
  wakeUps: WakeUps;
  /** Calls the API over HTTP with a development key (`capture-dev` unless another is given). */
  request(
    method: string,
    path: string,
    options?: { body?: unknown; rawBody?: string; key?: string | null; headers?: Record<string, string> },
  ): Promise<{ status: number; body: any; headers: Headers }>;
  /** Shuts the worker down (a crash as far as its workflows are concerned), then starts a new one on the same task queue; `meanwhile` runs in between. */
  restartWorker(meanwhile?: () => Promise<void>): Promise<void>;
  close(): Promise<void>;
}

/** The whole service against the run's real Temporal dev server and Postgres: worker, API over HTTP on a free port. */
export interface ServiceOptions {
  apiKeys?: string;
  /** Merged over the default configuration, as a LEAD_CONFIG file would be. */
  config?: unknown;
  enrichment?: EnrichmentProvider;
  /** Another Temporal server than the run's dev server. */
  temporalAddress?: string;
  /** Another way to the run's Postgres (e.g. through a proxy a test can cut). */
  databaseUrl?: string;
  /** Payload keys, newest first (default: the test process's key, `testCodec`). */
  payloadKeys?: PayloadKey[];
  /** The task queue of another service's leads, to take them over (default: one of its own). */
  taskQueue?: string;
  /** The API's port (default: any free one). */
  port?: number;
  /** The API's key for unsubscribe links (default: none, links refused). */
  unsubscribeSecret?: string;
  /** Origins vendor URLs may have besides the vendors' own hosts (a local Graph API stub), as EXTRA_VENDOR_ORIGINS. */
  extraVendorOrigins?: readonly string[];
  /** The key of action links (`/act/{token}`); unset: the route answers 404. */
  actionLinkSecret?: string;
  /** The Slack app (a local Web API stub's URL as `apiUrl`); unset: `/slack/interactions` answers 404. */
  slack?: SlackSettings;
}

export async function startService(options: ServiceOptions = {}): Promise<ServiceUnderTest> {
  const address = options.temporalAddress ?? inject('temporalAddress');
  const sql = createSql(options.databaseUrl ?? inject('databaseUrl'), { max: 5 });
  const codec = options.payloadKeys ? new EncryptionCodec(options.payloadKeys) : testCodec;
  const connection = await Connection.connect({ address });
  const client = new Client({ connection, namespace, dataConverter: encryptingDataConverter(codec) });
  const nativeConnection = await NativeConnection.connect({ address });
  const taskQueue = options.taskQueue ?? `test-${randomUUID()}`;
  const config = resolveLeadConfig(options.config ?? {});
  const { extraVendorOrigins } = options;
  const startWorker = () =>
    runWorker({ connection: nativeConnection, taskQueue, sql, config, codec, enrichment: options.enrichment, extraVendorOrigins });
  let worker = await startWorker();
  const policy = leadPolicy(config);
  const wakeUps = createWakeUps({ sql, temporal: client });
  const app = createApp(
    {
      sql,
      temporal: client,
      taskQueue,
      namespace,
      temporalUiUrl: inject('temporalUiUrl'),
      config,
      codec,
      unsubscribeSecret: options.unsubscribeSecret,
      actionLinkSecret: options.actionLinkSecret,
      slack: options.slack && {
        signingSecret: options.slack.signingSecret,
        client: slackClient(options.slack),
        responseOrigins: slackResponseOrigins(options.slack),
      },
      leadIdSecret,
      extraVendorOrigins,
      wakeUps,
    },
    parseApiKeys(options.apiKeys),
  );
  const server = await new Promise<ReturnType<typeof serve>>((resolve) => {
    const s = serve({ fetch: app.fetch, port: options.port ?? 0, hostname: '127.0.0.1' }, () => resolve(s));
  });
  const baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    sql,
    client,
    taskQueue,
    baseUrl,
    policy,
    wakeUps,
    request: requestTo(baseUrl),
    async restartWorker(meanwhile) {
      await worker.stop();
      await meanwhile?.();
      worker = await startWorker();
    },
    async close() {
      await new Promise((resolve) => server.close(resolve));
      await wakeUps.stop();
      await worker.stop();
      await nativeConnection.close();
      await connection.close();
      await sql.end({ timeout: 5 });
    },
  };
}

/** Calls an API at `baseUrl` over HTTP with a development key (`capture-dev` unless another is given, none for `null`). */
export function requestTo(baseUrl: string): ServiceUnderTest['request'] {
  return async (method, path, options = {}) => {
    const key = options.key === undefined ? 'capture-dev' : options.key;
    const headers: Record<string, string> = { ...(key ? { authorization: `Bearer ${key}` } : {}) };
    let body: string | undefined = options.rawBody;
    if (options.body !== undefined) body = JSON.stringify(options.body);
    if (body !== undefined) headers['content-type'] = 'application/json';
    const response = await fetch(baseUrl + path, { method, headers: { ...headers, ...options.headers }, body });
    const text = await response.text();
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      // not JSON (e.g. the docs page)
    }
    return { status: response.status, body: parsed as any, headers: response.headers };
  };
}

/** Retries an assertion until it holds: workflows apply captures asynchronously. Generous, for a loaded 2-core CI machine. */
export function eventually<T>(assertion: () => T | Promise<T>): Promise<T> {
  return vi.waitFor(assertion, { timeout: 20_000, interval: 50 });
}

/** The time-skipping test server (the Java one from the engine cache), with our search attributes. */
export function startTimeSkipping(): Promise<TestWorkflowEnvironment> {
  return startTimeSkippingServer(testCodec, inject('timeSkippingServer') || undefined);
}

export interface InProcessService extends Omit<LeadStack, 'worker'> {
  stop(): Promise<void>;
}

/** The real worker and the API on a time-skipping environment, for tests that span days or months. */
export async function serviceOn(
  env: TestWorkflowEnvironment,
  sql: Sql,
  options: { name: string; config?: unknown; enrichment?: EnrichmentProvider; metrics?: LeadWorkerOptions['metrics'] },
): Promise<InProcessService> {
  const config = resolveLeadConfig(options.config ?? {});
  const { worker, ...stack } = await leadStackOn(env, {
    sql,
    config,
    name: options.name,
    codec: testCodec,
    enrichment: options.enrichment,
    metrics: options.metrics,
    workflowBundle: await workflowBundle(),
  });
  return { ...stack, stop: running(worker) };
}

/** An empty database of its own on the run's Postgres (dropped with it), named after `name`. */
export async function emptyDatabase(name: string): Promise<string> {
  const url = new URL(inject('databaseUrl'));
  const database = `${name}_${randomUUID().replaceAll('-', '').slice(0, 12)}`.replace(/[^a-z0-9_]/g, '_');
  const admin = createSql(url.toString(), { max: 1 });
  await admin.unsafe(`CREATE DATABASE ${database}`);
  await admin.end({ timeout: 5 });
  url.pathname = `/${database}`;
  return url.toString();
}

/** A migrated database of its own: for tests whose data (e.g. cadence versions) other tests must not see. */
export async function freshDatabase(name: string): Promise<string> {
  const url = await emptyDatabase(name);
  await migrate(url, () => {});
  return url;
}

export interface TimeSkippingSuite {
  env: TestWorkflowEnvironment;
  sql: Sql;
  service: InProcessService;
  /** Lead ids a test started: terminated after it, since skipped time is global to the server and would keep waking them through later tests. */
  started: string[];
  /** Skips time, then waits until the leads in `started` are quiet (see `skipTime`): use it instead of `env.sleep`. */
  sleep(duration: string | number): Promise<void>;
  /** A service with a configuration of its own for one test, stopped after the test once its leads are ended. */
  serviceFor(name: string, config: unknown): Promise<InProcessService>;
}

/**
 * A test file's time-skipping server, its database (the run's, or one of its own) and the service on
 * them, set up before its tests and torn down after.
 */
export function timeSkippingSuite(
  name: string,
  options: { config?: unknown; ownDatabase?: boolean; metrics?: LeadWorkerOptions['metrics'] } = {},
): TimeSkippingSuite {
  const testServices: InProcessService[] = [];
  const suite: TimeSkippingSuite = {
    started: [],
    sleep: (duration) => skipTime(suite.env, duration, suite.started),
    async serviceFor(serviceName, config) {
      const service = await serviceOn(suite.env, suite.sql, { name: serviceName, config });
      testServices.push(service);
      return service;
    },
  } as Omit<TimeSkippingSuite, 'env' | 'sql' | 'service'> as TimeSkippingSuite;
  beforeAll(async () => {
    suite.env = await startTimeSkipping();
    suite.sql = createSql(options.ownDatabase ? await freshDatabase(name) : inject('databaseUrl'), { max: 3 });
    suite.service = await serviceOn(suite.env, suite.sql, { name, config: options.config, metrics: options.metrics });
  });
  afterEach(async () => {
    // Ended while their workers still run: a workflow task left waiting for a stopped worker would never finish.
    await terminateWhenQuiet(suite.env, suite.started.splice(0), 'test over');
    await Promise.all(testServices.splice(0).map((service) => service.stop()));
  });
  afterAll(async () => {
    await suite.service?.stop();
    await suite.sql?.end({ timeout: 5 });
    await suite.env?.teardown();
  });
  return suite;
}

/** A lead's timeline as Postgres holds it, in the order it was written (captures carry the API's wall-clock time, the workflow's own events the workflow clock). */
export function storedTimeline(sql: Sql, leadId: string) {
  return sql<{ at: Date; type: string; data: any }[]>`SELECT at, type, data FROM lead_events WHERE lead_id = ${leadId} ORDER BY id`;
}
