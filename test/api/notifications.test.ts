import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it, inject } from 'vitest';
import { loadLeadConfig } from '../../config/load';
import { createSql, type Sql } from '../../db/client';
import { startNotifier } from '../../worker/notifier';
import { eventually, freshDatabase, startService, type ServiceUnderTest } from '../support/helpers';

/**
 * A local stand-in for a Slack-compatible webhook: it fails the first `failFirst` deliveries of
 * each key with `failStatus`, echoing the path it was called on (as real receivers' error pages
 * do), and its URL carries a secret-looking token, as Slack's do.
 */
class Receiver {
  readonly received: { key: string; body: any }[] = [];
  private readonly failures = new Map<string, number>();
  private server?: Server;
  readonly token = `xoxb-${randomUUID().replaceAll('-', '')}`;
  url = '';
  constructor(
    private readonly failFirst: number,
    private readonly failStatus = 500,
  ) {}

  async start() {
    this.server = createServer(async (request, response) => {
      let raw = '';
      for await (const chunk of request) raw += chunk;
      const key = String(request.headers['idempotency-key']);
      this.received.push({ key, body: JSON.parse(raw) });
      const failed = this.failures.get(key) ?? 0;
      if (failed < this.failFirst) {
        this.failures.set(key, failed + 1);
        response.writeHead(this.failStatus).end(`cannot deliver to ${request.url}`);
        return;
      }
      response.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server!.address() as AddressInfo).port}/services/T0001/B0002/${this.token}`;
    return this;
  }

  deliveries(key: string) {
    return this.received.filter((r) => r.key === key);
  }

  async stop() {
    this.server?.closeAllConnections();
    await new Promise((resolve) => this.server?.close(resolve));
  }
}

const { deadAfter } = loadLeadConfig('').notify;

let sql: Sql;
beforeAll(() => {
  sql = createSql(inject('databaseUrl'), { max: 5 });
});
afterAll(async () => {
  await sql?.end({ timeout: 5 });
});

async function queue(count: number) {
  const keys = Array.from({ length: count }, () => `test-${randomUUID()}`);
  await sql`INSERT INTO notifications ${sql(keys.map((key, i) => ({ dedupe_key: key, lead_id: 'lead-test', kind: 'assignment', recipient: `rep-${i}`, message: `New P1 lead ${i}` })))}`;
  return keys;
}

const rows = (keys: string[]) =>
  sql<{ dedupe_key: string; status: string; attempts: number; last_error: string | null }[]>`
    SELECT dedupe_key, status, attempts, last_error FROM notifications WHERE dedupe_key IN ${sql(keys)} ORDER BY id`;

describe('notifications outbox', () => {
  it('delivers every notification at least once to the webhook, retrying a failing receiver, with its de-duplication key', async () => {
    const receiver = await new Receiver(1).start();
    const notifier = startNotifier({ sql, webhookUrl: receiver.url, deadAfter, pollMs: 100 });
    try {
      const keys = await queue(5);
      await eventually(async () => expect((await rows(keys)).map((r) => r.status)).toEqual(Array(5).fill('sent')));
      for (const key of keys) {
        const deliveries = receiver.deliveries(key);
        expect(deliveries).toHaveLength(2); // one failure, then the retry that succeeded
        expect(deliveries[1]!.body).toMatchObject({
          kind: 'assignment',
          leadId: 'lead-test',
          text: expect.stringMatching(/^\[rep-\d\] New P1 lead \d$/),
        });
      }
      expect((await rows(keys)).every((r) => r.attempts === 2)).toBe(true);
    } finally {
      await notifier.stop();
      await receiver.stop();
    }
  });

  it('inserting the same de-duplication key twice queues it once', async () => {
    const [key] = await queue(1);
    await sql`INSERT INTO notifications (dedupe_key, kind, recipient, message) VALUES (${key!}, 'assignment', 'rep-0', 'again')
              ON CONFLICT (dedupe_key) DO NOTHING`;
    expect(await rows([key!])).toHaveLength(1);
  });

  it('marks notifications skipped, not lost, when no webhook is configured', async () => {
    const keys = await queue(2);
    const notifier = startNotifier({ sql, deadAfter, pollMs: 100 });
    try {
      await eventually(async () => expect((await rows(keys)).map((r) => r.status)).toEqual(['skipped', 'skipped']));
    } finally {
      await notifier.stop();
    }
  });

  it('dead-letters a delivery the webhook refuses with a 4xx after one attempt, keeping the reason without the URL', async () => {
    const receiver = await new Receiver(Infinity, 404).start();
    const logged: string[] = [];
    const notifier = startNotifier({ sql, webhookUrl: receiver.url, deadAfter, pollMs: 100, log: (line) => logged.push(line) });
    try {
      const keys = await queue(2);
      const dead = await eventually(async () => {
        const now = await rows(keys);
        expect(now.map((r) => r.status)).toEqual(['dead', 'dead']);
        return now;
      });
      for (const row of dead) {
        expect(row.attempts).toBe(1);
        expect(row.last_error).toBe('webhook answered 404 Not Found: cannot deliver to <webhook URL>');
      }
      // Past the first backoff (2 s): a dead entry is not tried again.
      await sleep(2500);
      for (const key of keys) expect(receiver.deliveries(key)).toHaveLength(1);
      expect((await rows(keys)).map((r) => r.attempts)).toEqual([1, 1]);
      expect(logged.some((line) => line.includes('dead-lettered after 1 attempt'))).toBe(true);
      expect(logged.join('\n')).not.toContain(receiver.token);
    } finally {
      await notifier.stop();
      await receiver.stop();
    }
  });

  it('retries a 429 (rate limited) rather than giving up', async () => {
    const receiver = await new Receiver(1, 429).start();
    const notifier = startNotifier({ sql, webhookUrl: receiver.url, deadAfter, pollMs: 100 });
    try {
      const keys = await queue(1);
      await eventually(async () => expect(await rows(keys)).toMatchObject([{ status: 'sent', attempts: 2 }]));
    } finally {
      await notifier.stop();
      await receiver.stop();
    }
  });

  it('dead-letters a delivery still failing (5xx) past notify.deadAfter', async () => {
    const receiver = await new Receiver(Infinity, 503).start();
    const notifier = startNotifier({ sql, webhookUrl: receiver.url, deadAfter: 'PT2S', pollMs: 100 });
    try {
      const keys = await queue(1);
      // Attempt 1 fails and is retried 2 s later; the entry is then past deadAfter and dies at its next failure.
      const [row] = await eventually(async () => {
        const now = await rows(keys);
        expect(now[0]?.status).toBe('dead');
        return now;
      });
      expect(row!.attempts).toBeGreaterThanOrEqual(2);
      expect(row!.last_error).toBe('webhook answered 503 Service Unavailable: cannot deliver to <webhook URL>');
      expect(receiver.deliveries(keys[0]!)).toHaveLength(row!.attempts);
    } finally {
      await notifier.stop();
      await receiver.stop();
    }
  });
});

describe('GET /notifications', () => {
  let service: ServiceUnderTest;
  beforeAll(async () => {
    service = await startService();
  });
  afterAll(async () => {
    await service?.close();
  });

  it('lists dead letters newest first for ops, a page at a time, with kind, recipient, lead, attempts and reason, never the URL', async () => {
    const receiver = await new Receiver(Infinity, 410).start();
    const notifier = startNotifier({ sql, webhookUrl: receiver.url, deadAfter, pollMs: 100 });
    let keys: string[];
    try {
      keys = await queue(3);
      await eventually(async () => expect((await rows(keys)).map((r) => r.status)).toEqual(['dead', 'dead', 'dead']));
    } finally {
      await notifier.stop();
      await receiver.stop();
    }
    const ids = (await sql<{ id: string }[]>`SELECT id FROM notifications WHERE dedupe_key IN ${sql(keys)} ORDER BY id DESC`).map(
      (r) => r.id,
    );

    const seen: any[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const query: string = `/notifications?status=dead&limit=2${cursor ? `&cursor=${cursor}` : ''}`;
      const { status, body } = await service.request('GET', query, { key: 'ops-dev' });
      expect(status).toBe(200);
      expect(JSON.stringify(body)).not.toContain(receiver.token);
      expect(body.notifications.length).toBeLessThanOrEqual(2);
      expect(body.notifications.every((n: any) => n.status === 'dead')).toBe(true);
      seen.push(...body.notifications);
      cursor = body.nextCursor;
      pages++;
    } while (cursor && ids.some((id) => !seen.some((n) => n.id === id)));
    expect(pages).toBeGreaterThanOrEqual(2);
    const ours = seen.filter((n) => ids.includes(n.id));
    expect(ours.map((n) => n.id)).toEqual(ids);
    for (const n of ours) {
      expect(n).toMatchObject({
        kind: 'assignment',
        recipient: expect.stringMatching(/^rep-\d$/),
        leadId: 'lead-test',
        status: 'dead',
        attempts: 1,
        lastError: 'webhook answered 410 Gone: cannot deliver to <webhook URL>',
        sentAt: null,
      });
      expect(Date.parse(n.lastAttemptAt)).toBeGreaterThanOrEqual(Date.parse(n.createdAt));
    }
    const createdAt = seen.map((n) => Date.parse(n.createdAt));
    expect(createdAt).toEqual([...createdAt].sort((a, b) => b - a));
  });

  it('filters by the other statuses', async () => {
    const [sent, skipped] = await queue(3); // the third stays pending
    await sql`UPDATE notifications SET status = 'sent', sent_at = now() WHERE dedupe_key = ${sent!}`;
    await sql`UPDATE notifications SET status = 'skipped', last_error = 'NOTIFY_WEBHOOK_URL is not set' WHERE dedupe_key = ${skipped!}`;
    for (const status of ['sent', 'skipped', 'pending']) {
      const { body } = await service.request('GET', `/notifications?status=${status}&limit=200`, { key: 'ops-dev' });
      expect(body.notifications.length).toBeGreaterThan(0);
      expect(body.notifications.every((n: any) => n.status === status)).toBe(true);
    }
  });

  it('is for ops only, and names a bad parameter', async () => {
    for (const key of ['capture-dev', 'marketing-dev']) {
      const { status, body } = await service.request('GET', '/notifications?status=dead', { key });
      expect(status).toBe(403);
      expect(body.error.code).toBe('forbidden');
    }
    expect((await service.request('GET', '/notifications', { key: null })).status).toBe(401);
    for (const [query, path] of [
      ['status=lost', 'status'],
      ['limit=0', 'limit'],
      ['cursor=bm90LWEtY3Vyc29y', 'cursor'],
    ]) {
      const { status, body } = await service.request('GET', `/notifications?${query}`, { key: 'ops-dev' });
      expect(status).toBe(400);
      expect(body.error.details.map((d: any) => d.path)).toEqual([path]);
    }
  });
});

describe('CRM pushes on a busy worker', () => {
  it('wait while the worker is saturated, for at most crmYieldMs at a stretch, while alerts go out at once', async () => {
    // A database of its own: this notifier claims every CRM push in it.
    const own = createSql(await freshDatabase('crm_yield'), { max: 5 });
    const receiver = await new Receiver(0).start();
    const pushed: { key: string; at: number }[] = [];
    // The CRM side as the notifier calls it (worker/crm.ts `CrmDelivery`): the push itself is tested against the HubSpot and Salesforce stubs (crm*.test.ts).
    const crm = {
      deliver: async (entry: { dedupe_key: string }) => {
        pushed.push({ key: entry.dedupe_key, at: Date.now() });
        return { synced: { connectionId: 'c', kind: 'hubspot' as const, object: 'contact' as const, recordId: '1', contactId: '1' } };
      },
      deadLettered: async () => {},
    };
    let busy = true;
    const notifier = startNotifier({ sql: own, webhookUrl: receiver.url, crm, deadAfter, pollMs: 100, busy: () => busy, crmYieldMs: 1500 });
    try {
      const push = async (key: string) =>
        own`INSERT INTO notifications (dedupe_key, lead_id, kind, recipient, message, data, channel)
            VALUES (${key}, 'lead-test', 'crm_sync', 'c', 'CRM push', '{}'::jsonb, 'crm')`;
      const queuedAt = Date.now();
      await push('crm:c:first');
      await own`INSERT INTO notifications (dedupe_key, lead_id, kind, recipient, message) VALUES ('alert-while-busy', 'lead-test', 'assignment', 'rep-0', 'New P1 lead')`;
      // The rep's alert does not wait for the worker.
      await eventually(() => expect(receiver.deliveries('alert-while-busy')).toHaveLength(1));
      expect(pushed).toEqual([]);
      // The push waits out the stretch, then goes anyway, the worker still busy.
      await eventually(() => expect(pushed.map((p) => p.key)).toEqual(['crm:c:first']));
      expect(pushed[0]!.at - queuedAt).toBeGreaterThanOrEqual(1400);
      // Once the worker is not busy, a push goes at the next pass.
      busy = false;
      const idleAt = Date.now();
      await push('crm:c:second');
      await eventually(() => expect(pushed.map((p) => p.key)).toEqual(['crm:c:first', 'crm:c:second']));
      expect(pushed[1]!.at - idleAt).toBeLessThan(1400);
      expect((await own`SELECT status FROM notifications WHERE channel = 'crm' ORDER BY id`).map((r) => r.status)).toEqual([
        'sent',
        'sent',
      ]);
    } finally {
      await notifier.stop();
      await receiver.stop();
      await own.end({ timeout: 5 });
    }
  });
});
