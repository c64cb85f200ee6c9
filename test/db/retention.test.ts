import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveLeadConfig } from '../../config/load';
import { createSql, type Sql } from '../../db/client';
import { pruneBatch } from '../../db/retention';
import { closedStatuses } from '../../domain/lead';
import { createWorkerMetrics } from '../../worker/metrics';
import { pruneOnce, retentionAges } from '../../worker/retention';
import { freshDatabase } from '../support/helpers';

/**
 * Retention against real Postgres (docs/operations/retention.md): rows past their retention go,
 * newer ones and those an open lead needs stay, each batch deletes at most `batchSize` rows and a
 * round stops at `runFor`, and the metric counts what was pruned. A database of its own: pruning
 * deletes by age across the whole table.
 */

let sql: Sql;
const config = resolveLeadConfig({});
const ages = retentionAges(config.retention, config.idempotency.expireAfter);
const daysAgo = (days: number) => new Date(Date.now() - days * 86_400_000).toISOString();

beforeAll(async () => {
  sql = createSql(await freshDatabase('retention'), { max: 4 });
});
afterAll(async () => {
  await sql?.end({ timeout: 5 });
});

async function lead(leadId: string, status: string, updatedDaysAgo: number) {
  await sql`INSERT INTO leads (lead_id, identity_key, email, source, status, created_at, updated_at)
            VALUES (${leadId}, ${leadId}, ${`${leadId}@example.com`}, 'webinar', ${status}, ${daysAgo(1000)}, ${daysAgo(updatedDaysAgo)})`;
  for (const type of ['captured', 'scored', 'activity', 'consent_changed', 'status_changed', 'assigned']) {
    await sql`INSERT INTO lead_events (lead_id, event_key, at, type, actor, data) VALUES (${leadId}, ${type}, ${daysAgo(1000)}, ${type}, 'system', '{}')`;
  }
}
const eventTypes = async (leadId: string) =>
  (await sql<{ type: string }[]>`SELECT type FROM lead_events WHERE lead_id = ${leadId} ORDER BY type`).map((row) => row.type);

async function notification(key: string, status: string, createdDaysAgo: number, sentDaysAgo?: number) {
  await sql`INSERT INTO notifications (dedupe_key, lead_id, kind, recipient, message, status, created_at, sent_at)
            VALUES (${key}, NULL, 'assignment', 'ops', 'm', ${status}, ${daysAgo(createdDaysAgo)}, ${sentDaysAgo === undefined ? null : daysAgo(sentDaysAgo)})`;
}
const keys = async (table: 'notifications' | 'idempotency_keys') =>
  table === 'notifications'
    ? (await sql<{ k: string }[]>`SELECT dedupe_key AS k FROM notifications ORDER BY 1`).map((r) => r.k)
    : (await sql<{ k: string }[]>`SELECT key AS k FROM idempotency_keys ORDER BY 1`).map((r) => r.k);

describe('retention', () => {
  it('prunes what is past retention and keeps new rows and what open leads need, counting it by table', async () => {
    await lead('closed-old', 'disqualified', 800);
    await lead('closed-recent', 'converted', 100);
    await lead('open-old', 'mql', 800); // an open lead's timeline is never pruned, however old its events
    await notification('sent-old', 'sent', 40, 40);
    await notification('sent-late', 'sent', 40, 5); // delivered only lately (retried for long): judged by when it was sent
    await notification('sent-new', 'sent', 5, 5);
    await notification('skipped-old', 'skipped', 40);
    await notification('pending-old', 'pending', 400); // never delivered yet: never pruned
    await notification('dead-old', 'dead', 100);
    await notification('dead-recent', 'dead', 40); // dead entries are kept longer, for ops
    await sql`INSERT INTO sources (id, vendor, name, lead_source, created_by) VALUES ('src', 'generic', 'Form', 'webinar', 'ops')`;
    await sql`INSERT INTO source_deliveries (source_id, event_id, outcome, received_at) VALUES
      ('src', 'delivery-old', 'captured', ${daysAgo(100)}), ('src', 'delivery-new', 'rejected', ${daysAgo(10)})`;
    await sql`INSERT INTO idempotency_keys (scope, key, request_hash, created_at) VALUES
      ('s', 'key-old', 'h', ${daysAgo(2)}), ('s', 'key-new', 'h', ${new Date(Date.now() - 3_600_000).toISOString()})`;
    // Kept 90 days by default: the routing log shows them until then.
    await sql`INSERT INTO routing_decisions (lead_id, routing_key, assignment, outcome, decided_at) VALUES
      ('open-old', 'decision-old', '{}', 'unassigned', ${daysAgo(100)}), ('open-old', 'decision-mid', '{}', 'unassigned', ${daysAgo(40)}),
      ('open-old', 'decision-new', '{}', 'unassigned', ${daysAgo(1)})`;

    const metrics = createWorkerMetrics(sql, { webhookConfigured: false });
    const pruned = await pruneOnce({
      sql,
      retention: config.retention,
      idempotencyExpireAfter: config.idempotency.expireAfter,
      onPruned: (table, rows) => metrics.rowsPruned(table, rows),
    });
    expect(pruned).toEqual({ lead_events: 3, notifications: 3, source_deliveries: 1, idempotency_keys: 1, routing_decisions: 1 });

    // Of a lead closed past retention, consent and the report's milestone events stay.
    expect(await eventTypes('closed-old')).toEqual(['assigned', 'consent_changed', 'status_changed']);
    expect(await eventTypes('closed-recent')).toHaveLength(6);
    expect(await eventTypes('open-old')).toHaveLength(6);
    expect(await keys('notifications')).toEqual(['dead-recent', 'pending-old', 'sent-late', 'sent-new']);
    expect((await sql`SELECT event_id FROM source_deliveries`).map((r) => r.event_id)).toEqual(['delivery-new']);
    expect(await keys('idempotency_keys')).toEqual(['key-new']);
    expect((await sql`SELECT routing_key FROM routing_decisions ORDER BY decided_at`).map((r) => r.routing_key)).toEqual([
      'decision-mid',
      'decision-new',
    ]);

    const counted = await metrics.registry.getSingleMetric('lead_retention_pruned_rows_total')!.get();
    const byTable = Object.fromEntries(counted.values.map((v) => [v.labels.table, v.value]));
    expect(byTable).toEqual({ lead_events: 3, notifications: 3, source_deliveries: 1, idempotency_keys: 1, routing_decisions: 1 });

    // A second round finds nothing more.
    expect(
      Object.values(await pruneOnce({ sql, retention: config.retention, idempotencyExpireAfter: config.idempotency.expireAfter })),
    ).toEqual([0, 0, 0, 0, 0]);
  });

  it('deletes at most a batch per statement, and stops a round when its time is up', async () => {
    for (let i = 0; i < 7; i++) await notification(`batch-${i}`, 'skipped', 60);
    expect(await pruneBatch(sql, 'notifications', ages, 3, closedStatuses)).toBe(3);
    expect((await keys('notifications')).filter((k) => k.startsWith('batch-'))).toHaveLength(4);

    // A clock that runs out after the first batch of notifications (the round's start, lead_events'
    // one check, notifications' first): one batch of 2, the other 2 wait for the next round.
    let calls = 0;
    const clock = () => (calls++ < 3 ? 0 : Number.MAX_SAFE_INTEGER);
    const batches: number[] = [];
    const settings = { sql, retention: { ...config.retention, batchSize: 2 }, idempotencyExpireAfter: config.idempotency.expireAfter };
    const cut = await pruneOnce({ ...settings, onPruned: (_t, rows) => batches.push(rows) }, clock);
    expect(cut.notifications).toBe(2);
    expect((await keys('notifications')).filter((k) => k.startsWith('batch-'))).toHaveLength(2);
    const full = await pruneOnce({ ...settings, onPruned: (_t, rows) => batches.push(rows) });
    expect(full.notifications).toBe(2);
    expect(batches).toEqual([2, 2]);
    expect((await keys('notifications')).filter((k) => k.startsWith('batch-'))).toEqual([]);
  });

  it('refuses a retention shorter than a day, naming the key', () => {
    expect(() => resolveLeadConfig({ retention: { notifications: 'PT1H' } })).toThrow(/retention\.notifications: must be at least P1D/);
    expect(config.retention).toMatchObject({
      timelineAfterClose: 'P730D',
      notifications: 'P30D',
      routingDecisions: 'P90D',
      batchSize: 1000,
    });
  });
});
