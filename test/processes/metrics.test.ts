import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSql } from '../../db/client';
import { eventually, requestTo } from '../support/helpers';
import { postgresProxy } from '../support/postgres-proxy';
import { startProcesses } from '../support/processes';
import { captureRouteAndAccept } from '../support/one-lead';
import { salesReadyDemoRequests } from '../support/fixtures';

/** A sample's value in a Prometheus text exposition (summed over the series matching every label given), or undefined when none is there. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  let total: number | undefined;
  for (const line of text.split('\n')) {
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})? (\S+)/.exec(line);
    if (!match || match[1] !== name) continue;
    const set = Object.fromEntries([...(match[2] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]]));
    if (Object.entries(labels).every(([key, value]) => set[key] === value)) total = (total ?? 0) + Number(match[3]);
  }
  return total;
}

/** Every metric family declared (`# TYPE name type`), in order. */
const families = (text: string) => [...text.matchAll(/^# TYPE (\S+) (\S+)$/gm)].map((m) => ({ name: m[1]!, type: m[2]! }));

/** The API's metrics need a scraper's key (role metrics); the worker's port needs none (loopback only). */
async function scrape(url: string) {
  const response = await fetch(`${url}/metrics`, url === stack.apiUrl ? { headers: { authorization: 'Bearer metrics-dev' } } : {});
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toMatch(/^text\/plain/);
  return response.text();
}

// A made-up country no other test's team covers; with sqlAt 40 a demo request (+50, −10 outside the target region) is sales-ready.
const country = 'QO';
let stack: Awaited<ReturnType<typeof startProcesses>>;
let proxy: Awaited<ReturnType<typeof postgresProxy>>;

beforeAll(async () => {
  // Postgres through a proxy the last test cuts, as an outage would.
  proxy = await postgresProxy();
  stack = await startProcesses({ config: salesReadyDemoRequests, env: { DATABASE_URL: proxy.url } });
});
afterAll(async () => {
  await stack?.stop();
  await proxy?.close();
});

/** The local addresses a TCP port listens on, from the kernel's table (/proc/net/tcp{,6}, state 0A = LISTEN), as hex. */
function listeningAddresses(port: number): string[] {
  const hexPort = port.toString(16).toUpperCase().padStart(4, '0');
  return ['/proc/net/tcp', '/proc/net/tcp6']
    .filter((file) => existsSync(file))
    .flatMap((file) => readFileSync(file, 'utf8').split('\n').slice(1))
    .map((line) => line.trim().split(/\s+/))
    .filter((fields) => fields[3] === '0A' && fields[1]?.endsWith(`:${hexPort}`))
    .map((fields) => fields[1]!.split(':')[0]!);
}

describe('who may read the metrics', () => {
  it("the API's /metrics needs a metrics or ops key; the worker's port listens on loopback only", async () => {
    const api = requestTo(stack.apiUrl);
    expect((await api('GET', '/metrics', { key: null })).status).toBe(401);
    expect((await api('GET', '/metrics', { key: 'capture-dev' })).status).toBe(403);
    expect((await api('GET', '/metrics', { key: 'metrics-dev' })).status).toBe(200);
    expect((await api('GET', '/metrics', { key: 'ops-dev' })).status).toBe(200);
    // A scraper's key is good for nothing else.
    expect((await api('GET', '/leads', { key: 'metrics-dev' })).status).toBe(403);
    // 127.0.0.1 in the kernel's byte order; never 0.0.0.0 (every interface).
    expect(listeningAddresses(Number(new URL(stack.workerUrl).port))).toEqual(['0100007F']);
  });
});

describe('Prometheus metrics of the API and the worker, through the real processes', () => {
  it('count a lead captured, routed and accepted, and the requests that did it, under valid names', async () => {
    const request = requestTo(stack.apiUrl);
    const ops = { key: 'ops-dev' };
    const workerBefore = await scrape(stack.workerUrl);
    const apiBefore = await scrape(stack.apiUrl);

    const { leadId } = await captureRouteAndAccept(stack.apiUrl, { country, tag: 'm' });
    await eventually(async () => expect((await request('GET', `/leads/${leadId}`, ops)).body.status).toBe('accepted'));

    // Worker: our counters moved (by at least this lead: other files' leads are on other task queues, but the gauges read the shared database).
    const worker = await eventually(async () => {
      const text = await scrape(stack.workerUrl);
      expect(sample(text, 'lead_captures_total')! - (sample(workerBefore, 'lead_captures_total') ?? 0)).toBeGreaterThanOrEqual(1);
      expect(sample(text, 'lead_speed_to_lead_seconds_count')! - (sample(workerBefore, 'lead_speed_to_lead_seconds_count') ?? 0)).toBe(1);
      // The assignment alert had nowhere to go: no NOTIFY_WEBHOOK_URL.
      expect(sample(text, 'lead_outbox_deliveries_total', { outcome: 'skipped' })).toBeGreaterThanOrEqual(1);
      return text;
    });
    expect(sample(worker, 'lead_leads', { status: 'accepted' })).toBeGreaterThanOrEqual(1);
    expect(sample(worker, 'lead_outbox_notifications', { status: 'skipped' })).toBeGreaterThanOrEqual(1);
    expect(sample(worker, 'lead_outbox_oldest_pending_age_seconds')).toBeGreaterThanOrEqual(0);
    // No webhook: a metric, and a warning once at start-up.
    expect(sample(worker, 'lead_notify_webhook_configured')).toBe(0);
    expect(stack.worker.lines.filter((l) => l.level === 'warn' && /NOTIFY_WEBHOOK_URL is not set/.test(l.msg))).toHaveLength(1);
    // Accepted seconds after assignment: in the lowest bucket (one minute).
    expect(
      sample(worker, 'lead_speed_to_lead_seconds_bucket', { le: '60' })! -
        (sample(workerBefore, 'lead_speed_to_lead_seconds_bucket', { le: '60' }) ?? 0),
    ).toBe(1);
    for (const name of [
      'lead_sla_reminders_total',
      'lead_sla_breaches_total',
      'lead_sla_escalations_total',
      'lead_rejected_inputs_total',
      'lead_activity_retries_total',
    ]) {
      expect(families(worker).map((f) => f.name)).toContain(name);
    }
    // The worker folds the report's per-day changes into its sums (every 5 s; nothing else folds in
    // this database), and says how many wait.
    expect(sample(worker, 'lead_report_changes_pending')).toBeGreaterThanOrEqual(0);
    const sql = createSql(proxy.url, { max: 1 });
    try {
      await eventually(async () => {
        const [{ leads }] = await sql<[{ leads: number | null }]>`
          SELECT sum(leads)::int AS leads FROM lead_milestone_days WHERE facet = 'all' AND day = (now() AT TIME ZONE 'UTC')::date`;
        expect(leads).toBeGreaterThanOrEqual(1);
      });
    } finally {
      await sql.end();
    }
    // The SDK's own (Temporal Core) metrics, merged into the same scrape.
    expect(sample(worker, 'temporal_workflow_task_execution_latency_seconds_count')).toBeGreaterThanOrEqual(1);

    // API: requests by route pattern (never the raw path) and status, with their latency.
    const api = await scrape(stack.apiUrl);
    const captures = { method: 'POST', route: '/leads', status: '202' };
    expect(sample(api, 'lead_http_requests_total', captures)! - (sample(apiBefore, 'lead_http_requests_total', captures) ?? 0)).toBe(1);
    expect(sample(api, 'lead_http_request_duration_seconds_count', captures)).toBe(1);
    expect(sample(api, 'lead_http_requests_total', { route: '/leads/:id', status: '200' })).toBeGreaterThanOrEqual(1);
    expect(api).not.toContain(leadId);

    // Names: valid, one family each (the merged worker exposition too), counters in _total, our histograms in seconds.
    for (const text of [worker, api]) {
      const declared = families(text);
      expect(new Set(declared.map((f) => f.name)).size).toBe(declared.length);
      for (const { name, type } of declared) {
        expect(name).toMatch(/^[a-zA-Z_:][a-zA-Z0-9_:]*$/);
        if (name.startsWith('lead_') && type === 'counter') expect(name).toMatch(/_total$/);
        if (name.startsWith('lead_') && type === 'histogram') expect(name).toMatch(/_seconds$/);
      }
    }
  });

  it('worker /healthz answers its state and Postgres', async () => {
    const response = await fetch(`${stack.workerUrl}/healthz`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: 'ok', checks: { worker: 'RUNNING', postgres: 'ok' } });
  });

  it('through a Postgres outage: /metrics still answers without the Postgres gauges, /healthz is 503, and the retried activities are counted', async () => {
    const before = sample(await scrape(stack.workerUrl), 'lead_activity_retries_total') ?? 0;
    await proxy.cut();
    try {
      const health = await fetch(`${stack.workerUrl}/healthz`);
      expect(health.status).toBe(503);
      expect(await health.json()).toMatchObject({
        status: 'unavailable',
        checks: { worker: 'RUNNING', postgres: expect.not.stringMatching(/^ok$/) },
      });
      const during = await scrape(stack.workerUrl);
      expect(sample(during, 'lead_leads')).toBeUndefined();
      expect(sample(during, 'lead_outbox_notifications')).toBeUndefined();
      expect(sample(during, 'lead_report_changes_pending')).toBeNaN(); // unknown, not 0
      // A capture goes on without Postgres; its workflow's data access fails and is retried.
      const suffix = randomUUID().slice(0, 6);
      const captured = await requestTo(stack.apiUrl)('POST', '/leads', {
        body: { email: `outage.${suffix}@prospect-${suffix}.com`, source: 'webinar' },
      });
      expect(captured.status).toBe(202);
      await eventually(async () => expect(sample(await scrape(stack.workerUrl), 'lead_activity_retries_total')).toBeGreaterThan(before));
    } finally {
      await proxy.restore();
    }
    await eventually(async () => {
      expect(sample(await scrape(stack.workerUrl), 'lead_leads', { status: 'new' })).toBeGreaterThanOrEqual(0);
      expect((await fetch(`${stack.workerUrl}/healthz`)).status).toBe(200);
    });
  });
});
