/**
 * The production topology (docs/operations/production.md): the Temporal server 1.29.1 on Postgres
 * with SQL visibility, the Web UI (ui-server), two workers and two APIs as separate processes,
 * all started by stack/cluster.ts as `npm run start:cluster` does. Leads go through either API,
 * and keep going when a worker is killed and when the Temporal server is restarted.
 */
import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import getPort from 'get-port';
import type { Browser } from 'playwright-core';
import { Client, Connection } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { newPayloadKey } from '../../codec/payload-codec';
import { developmentPayloadKeyPrefix } from '../../config/env';
import { freePortRange, startCluster, type RunningCluster } from '../../stack/cluster';
import { temporalCliExecutable } from '../../stack/engine';
import { launchChromium } from '../support/browser';
import { uniqueEmail } from '../support/helpers';
import { alwaysOpen as hours, salesReadyDemoRequests } from '../support/fixtures';

/** The alerts webhook (Slack-compatible), a local stub: what each delivery's Idempotency-Key was. */
const delivered: string[] = [];
let webhook: Server;

let cluster: RunningCluster;
let dataDir: string;
let temporalCli: string;

async function call(api: number, method: string, path: string, options: { body?: unknown; key?: string } = {}) {
  const response = await fetch(cluster.apiUrls[api] + path, {
    method,
    headers: {
      authorization: `Bearer ${options.key ?? 'capture-dev'}`,
      ...(options.body !== undefined ? { 'content-type': 'application/json' } : {}),
    },
    body: options.body !== undefined ? JSON.stringify(options.body) : undefined,
  });
  const text = await response.text();
  return { status: response.status, body: (text ? JSON.parse(text) : undefined) as any };
}

/** Waits, patiently (a worker's death or a server restart takes seconds to recover from), for `assertion` to hold. */
const eventually = <T>(assertion: () => Promise<T>, timeout = 90_000) => vi.waitFor(assertion, { timeout, interval: 250 });

const repKeys = new Map<string, string>();

/** A sales-ready lead captured through API `api`, once routed to a rep (read through the other API). */
async function routedLead(api: number): Promise<{ leadId: string; ownerId: string }> {
  const captured = await call(api, 'POST', '/leads', { body: { email: uniqueEmail('cluster'), source: 'demo_request', country: 'US' } });
  expect(captured.status).toBe(202);
  return eventually(async () => {
    const read = await call(1 - api, 'GET', `/leads/${captured.body.leadId}`, { key: 'ops-dev' });
    expect(read.body).toMatchObject({ status: 'sql', ownerId: expect.any(String) });
    return read.body;
  });
}

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'lead-cluster-'));
  chmodSync(dataDir, 0o755); // as root, Postgres runs as the postgres user and must enter it
  // Made-up email domains are not enriched: a demo request from the US (65 with the defaults' region bonus) is sales-ready here.
  const configFile = join(dataDir, 'config.json');
  writeFileSync(configFile, JSON.stringify(salesReadyDemoRequests));
  const { API_KEYS: _keys, NODE_ENV: _nodeEnv, ...rest } = process.env;
  process.env = rest; // the development keys, on a stack of the test's own
  webhook = createHttpServer((request, response) => {
    delivered.push(String(request.headers['idempotency-key']));
    request.resume().on('end', () => response.end('ok'));
  });
  const webhookPort = await getPort();
  await new Promise<void>((resolve) => webhook.listen(webhookPort, '127.0.0.1', resolve));
  const apiPorts = [await getPort(), await getPort()];
  cluster = await startCluster({
    dataDir,
    postgresPort: await getPort(),
    temporalPort: await freePortRange(7),
    membershipPort: await freePortRange(7),
    temporalHttpPort: await getPort(),
    uiPort: await getPort(),
    apiPorts,
    serviceEnv: {
      LEAD_PAYLOAD_KEYS: newPayloadKey(`${developmentPayloadKeyPrefix}cluster`),
      LEAD_CONFIG: configFile,
      NOTIFY_WEBHOOK_URL: `http://127.0.0.1:${webhookPort}/hook`,
    },
    log: (line) => console.log(`cluster: ${line}`),
  });
  const cli = await temporalCliExecutable();
  if (cli.type !== 'existing-path') throw new Error('no Temporal CLI to query the cluster with');
  temporalCli = cli.path;

  expect(
    (await call(0, 'POST', '/teams', { key: 'ops-dev', body: { id: 'cluster', name: 'Cluster', countries: ['US'], businessHours: hours } }))
      .status,
  ).toBe(201);
  for (const i of [1, 2]) {
    const rep = await call(1, 'POST', '/reps', {
      key: 'ops-dev',
      body: { id: `rep-${i}`, name: `Rep ${i}`, email: `rep${i}@example.com`, teamId: 'cluster', capacity: 1000 },
    });
    expect(rep.status).toBe(201);
    repKeys.set(rep.body.id, rep.body.apiKey);
  }
});

afterAll(async () => {
  await cluster?.stop();
  webhook?.close();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

describe('the production topology: Temporal server on Postgres, two workers, two APIs', () => {
  let converted: string;

  it('takes a lead from capture to conversion through either API', async () => {
    const lead = await routedLead(1);
    const owner = repKeys.get(lead.ownerId)!;
    const accepted = await call(0, 'POST', `/leads/${lead.leadId}/accept`, { key: owner, body: {} });
    expect(accepted.status, JSON.stringify(accepted.body)).toBe(200);
    expect(accepted.body.status).toBe('accepted');
    const won = await call(1, 'POST', `/leads/${lead.leadId}/convert`, {
      key: owner,
      body: { opportunity: { name: 'Deal', amount: 12000 } },
    });
    expect(won.status).toBe(200);
    await eventually(async () => expect((await call(0, 'GET', `/leads/${lead.leadId}`, { key: 'ops-dev' })).body.status).toBe('converted'));
    converted = lead.leadId;
  });

  it('lists leads by search attribute with the Temporal CLI (SQL visibility on Postgres)', async () => {
    const open = await routedLead(0);
    const list = (query: string) => {
      const result = spawnSync(
        temporalCli,
        ['workflow', 'list', '--address', cluster.address, '--namespace', cluster.namespace, '--query', query, '-o', 'json'],
        { encoding: 'utf8' },
      );
      expect(result.status, result.stderr).toBe(0);
      return (JSON.parse(result.stdout || '[]') as { execution: { workflowId: string } }[]).map((w) => w.execution.workflowId);
    };
    // Visibility is written after the history: eventually consistent.
    await eventually(async () => {
      const sql = list('LeadStatus="sql"');
      expect(sql).toContain(open.leadId);
      expect(sql).not.toContain(converted);
      expect(list('LeadStatus="converted"')).toContain(converted);
    });
  });

  it("shows a lead's history in the Temporal Web UI (ui-server), its capture decoded through the API's codec server", async () => {
    const email = uniqueEmail('cluster-ui');
    const captured = await call(0, 'POST', '/leads', { body: { email, source: 'chat' } });
    expect(captured.status).toBe(202);
    const lead = await eventually(async () => {
      const read = await call(1, 'GET', `/leads/${captured.body.leadId}`, { key: 'ops-dev' });
      expect(read.body.score).toEqual(expect.any(Number));
      return read.body;
    });
    expect(lead.temporalUiUrl).toBe(`${cluster.uiUrl}/namespaces/default/workflows/${lead.leadId}`);
    let browser: Browser | undefined;
    try {
      browser = await launchChromium();
      const connection = await Connection.connect({ address: cluster.address });
      const { runId } = await new Client({ connection }).workflow.getHandle(lead.leadId).describe();
      await connection.close();
      const page = await browser.newPage();
      await page.goto(`${lead.temporalUiUrl}/${runId}/history`);
      await expect.poll(() => page.getByText(lead.leadId).first().isVisible()).toBe(true);
      // A new lead's capture is in the workflow's input.
      await expect.poll(() => page.getByText('Workflow Execution Started', { exact: false }).first().isVisible()).toBe(true);
      await page.getByText('Workflow Execution Started', { exact: false }).first().click();
      await expect.poll(() => page.getByText(email, { exact: false }).first().isVisible()).toBe(true);
    } finally {
      await browser?.close();
    }
  });

  it('answers one Idempotency-Key once across both APIs (the keys are in Postgres)', async () => {
    const key = `cluster-${randomUUID()}`;
    const body = { email: uniqueEmail('idem'), source: 'demo_request', country: 'US' };
    const send = (api: number) =>
      fetch(`${cluster.apiUrls[api]}/leads`, {
        method: 'POST',
        headers: { authorization: 'Bearer capture-dev', 'content-type': 'application/json', 'idempotency-key': key },
        body: JSON.stringify(body),
      }).then(async (response) => ({ status: response.status, body: (await response.json()) as { leadId?: string; duplicate?: boolean } }));
    const both = await Promise.all([send(0), send(1)]);
    // At once, one is taken and the other is told the first is still being answered (409, retry).
    for (const answer of both) expect([202, 409]).toContain(answer.status);
    const first = both.find((answer) => answer.status === 202)!;
    expect(first.body.duplicate).toBe(false);
    const replayed = await eventually(async () => {
      const answer = await send(1 - both.indexOf(first));
      expect(answer.status).toBe(202);
      return answer.body;
    });
    expect(replayed).toEqual(first.body);
  });

  it('delivers each alert once with two workers sharing the outbox', async () => {
    const leads = await Promise.all([0, 1, 0, 1].map((api) => routedLead(api)));
    // Assignment alerts to the reps go through the outbox; wait until nothing is pending.
    await eventually(async () => {
      const pending = await call(0, 'GET', '/notifications?status=pending', { key: 'ops-dev' });
      expect(pending.body.notifications).toEqual([]);
      const sent = await call(1, 'GET', '/notifications?status=sent&limit=100', { key: 'ops-dev' });
      for (const lead of leads) expect(sent.body.notifications.map((n: { leadId: string }) => n.leadId)).toContain(lead.leadId);
    });
    expect(delivered.length).toBeGreaterThanOrEqual(leads.length);
    expect(new Set(delivered).size).toBe(delivered.length);
  });

  it('keeps leads flowing when one of the two workers is killed (kill -9)', async () => {
    const before = await routedLead(0); // its workflow is cached on one of the workers
    cluster.workers[0]!.kill('SIGKILL');
    const leads = await Promise.all([0, 1, 0, 1, 0, 1].map((api) => routedLead(api)));
    expect(new Set(leads.map((l) => l.leadId)).size).toBe(6);
    // A lead from before the kill keeps the owner it was routed to and answers that rep, whichever
    // worker had it: a routing the kill interrupted (workflow task not completed) runs again on the
    // other worker with the same routing key and gets the same rep (docs/features/routing.md, "Routing is keyed").
    const accepted = await call(1, 'POST', `/leads/${before.leadId}/accept`, { key: repKeys.get(before.ownerId)!, body: {} });
    expect(accepted.status, JSON.stringify(accepted.body)).toBe(200);
    expect(accepted.body).toMatchObject({ status: 'accepted', ownerId: before.ownerId });
    const read = await call(0, 'GET', `/leads/${before.leadId}`, { key: 'ops-dev' });
    expect(read.body).toMatchObject({ status: 'accepted', ownerId: before.ownerId });
    cluster.restartWorker(0);
  });

  it('keeps leads flowing when the Temporal server process is restarted', async () => {
    const before = await routedLead(1);
    await cluster.restartServer('SIGKILL');
    // The APIs and workers reconnect on their own: a lead from before the restart goes on, new ones flow.
    const accepted = await eventually(async () => {
      const answer = await call(0, 'POST', `/leads/${before.leadId}/accept`, { key: repKeys.get(before.ownerId)!, body: {} });
      expect(answer.status, JSON.stringify(answer.body)).toBe(200);
      return answer.body;
    });
    expect(accepted.status).toBe('accepted');
    const after = await Promise.all([0, 1].map((api) => routedLead(api)));
    expect(after.map((l) => l.ownerId)).toEqual([expect.any(String), expect.any(String)]);
    const timeline = await call(1, 'GET', `/leads/${before.leadId}/timeline`, { key: 'ops-dev' });
    expect(timeline.body.events.map((e: { type: string }) => e.type)).toEqual(expect.arrayContaining(['captured', 'responded']));
  });
});
