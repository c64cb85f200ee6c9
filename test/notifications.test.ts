import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it, inject } from 'vitest';
import { createSql, type Sql } from '../db/client';
import { startNotifier } from '../worker/notifier';
import { eventually } from './support/helpers';

/** A local stand-in for a Slack-compatible webhook that fails the first `failFirst` deliveries of each key. */
class Receiver {
  readonly received: { key: string; body: any }[] = [];
  private readonly failures = new Map<string, number>();
  private server?: Server;
  url = '';
  constructor(private readonly failFirst: number) {}

  async start() {
    this.server = createServer(async (request, response) => {
      let raw = '';
      for await (const chunk of request) raw += chunk;
      const key = String(request.headers['idempotency-key']);
      this.received.push({ key, body: JSON.parse(raw) });
      const failed = this.failures.get(key) ?? 0;
      if (failed < this.failFirst) {
        this.failures.set(key, failed + 1);
        response.writeHead(500).end('down');
        return;
      }
      response.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server!.address() as AddressInfo).port}/hooks/slack`;
    return this;
  }

  async stop() {
    this.server?.closeAllConnections();
    await new Promise((resolve) => this.server?.close(resolve));
  }
}

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
  sql<{ dedupe_key: string; status: string; attempts: number }[]>`SELECT dedupe_key, status, attempts FROM notifications WHERE dedupe_key IN ${sql(keys)} ORDER BY id`;

describe('notifications outbox', () => {
  it('delivers every notification at least once to the webhook, retrying a failing receiver, with its de-duplication key', async () => {
    const receiver = await new Receiver(1).start();
    const notifier = startNotifier({ sql, webhookUrl: receiver.url, pollMs: 100 });
    try {
      const keys = await queue(5);
      await eventually(async () => expect((await rows(keys)).map((r) => r.status)).toEqual(Array(5).fill('sent')));
      for (const key of keys) {
        const deliveries = receiver.received.filter((r) => r.key === key);
        expect(deliveries).toHaveLength(2); // one failure, then the retry that succeeded
        expect(deliveries[1]!.body).toMatchObject({ kind: 'assignment', leadId: 'lead-test', text: expect.stringMatching(/^\[rep-\d\] New P1 lead \d$/) });
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
    const notifier = startNotifier({ sql, pollMs: 100 });
    try {
      await eventually(async () => expect((await rows(keys)).map((r) => r.status)).toEqual(['skipped', 'skipped']));
    } finally {
      await notifier.stop();
    }
  });
});
