import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSql, type Sql } from '../../db/client';
import { writeLead } from '../../db/leads';
import { eraseLeadRows } from '../../db/privacy';
import type { LeadRecord } from '../../domain/lead-record';
import { freshDatabase } from '../support/helpers';
import { leadIdFor } from '../support/lead-ids';

/**
 * An erasure against saves still in flight (docs/features/privacy.md): the worker may send a save of
 * the lead from a local activity that was already running when the erasure terminated the run. Each
 * save arrives here as the workflow sends it, through `writeLead`, racing the erasure's transaction.
 */

let sql: Sql;
beforeAll(async () => {
  sql = createSql(await freshDatabase('erasure'), { max: 6 });
});
afterAll(async () => {
  await sql?.end({ timeout: 5 });
});

function newLead(): LeadRecord {
  const email = `${randomUUID().slice(0, 12)}@erasure.example`;
  return {
    leadId: leadIdFor(email),
    status: 'new',
    profile: { email, firstName: 'Ada', source: 'demo_request' },
    consent: {},
    engagement: { seen: [], openedEmails: 0, lastEngagementAt: new Date().toISOString() },
    enrichment: 'not_found',
  };
}
const save = (db: Sql, lead: LeadRecord, runId: string, n = 1) =>
  writeLead(db, {
    lead,
    runId,
    events: [{ key: `${runId}:${n}`, at: new Date().toISOString(), type: 'captured', actor: 'system', data: {} }],
  });
const stored = async (leadId: string) => ({
  leads: (await sql`SELECT 1 FROM leads WHERE lead_id = ${leadId}`).length,
  events: (await sql`SELECT 1 FROM lead_events WHERE lead_id = ${leadId}`).length,
});
const erase = (leadId: string, runIds: string[]) =>
  eraseLeadRows(sql, { leadId, erasedBy: 'ops key test', reason: 'data subject request', runIds });
/** Whether the promise has settled within `ms`. */
const settlesWithin = (promise: Promise<unknown>, ms: number) =>
  Promise.race([
    promise.then(
      () => true,
      () => true,
    ),
    new Promise<boolean>((resolve) => setTimeout(() => resolve(false), ms)),
  ]);

describe('an erasure and the saves of the runs it erased', () => {
  it('refuses a save by an erased run once the tombstone is in, and lets a new run make a fresh lead', async () => {
    const lead = newLead();
    await save(sql, lead, 'run-1');
    await erase(lead.leadId, ['run-1']);

    await expect(save(sql, lead, 'run-1', 2)).rejects.toMatchObject({ code: 'LO001' });
    expect(await stored(lead.leadId)).toEqual({ leads: 0, events: 0 });

    // The person captured again later: a new run, a fresh lead under the same id.
    await save(sql, lead, 'run-2');
    expect(await stored(lead.leadId)).toEqual({ leads: 1, events: 1 });
  });

  it('waits for a save already under way, then deletes what it wrote', async () => {
    const lead = newLead();
    await save(sql, lead, 'run-1');
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    // The save's transaction stays open (as a statement the server is still executing would) while the erasure starts.
    const saving = sql.begin(async (tx) => {
      await save(tx as unknown as Sql, lead, 'run-1', 2);
      await held;
    });
    await new Promise((resolve) => setTimeout(resolve, 100));
    const erasing = erase(lead.leadId, ['run-1']);
    expect(await settlesWithin(erasing, 500)).toBe(false);

    release();
    await saving;
    await erasing;
    expect(await stored(lead.leadId)).toEqual({ leads: 0, events: 0 });
  });

  it('makes a save that arrives during the erasure wait for it, then refuses it', async () => {
    const lead = newLead();
    await save(sql, lead, 'run-1');
    await sql`INSERT INTO notifications (dedupe_key, lead_id, kind, recipient, message) VALUES (${`${lead.leadId}:n`}, ${lead.leadId}, 'assignment', 'ops', 'm')`;
    // Something else holds the lead's notification (the outbox sending it), so the erasure, once it
    // has its lock, waits there; a save sent now arrives while the erasure is under way.
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const sending = sql.begin(async (tx) => {
      await tx`SELECT 1 FROM notifications WHERE lead_id = ${lead.leadId} FOR UPDATE`;
      await held;
    });
    await new Promise((resolve) => setTimeout(resolve, 100));
    const erasing = erase(lead.leadId, ['run-1']);
    await new Promise((resolve) => setTimeout(resolve, 200));
    const saving = save(sql, lead, 'run-1', 2);
    expect(await settlesWithin(saving, 500)).toBe(false);

    release();
    await sending;
    await erasing;
    await expect(saving).rejects.toMatchObject({ code: 'LO001' });
    expect(await stored(lead.leadId)).toEqual({ leads: 0, events: 0 });
  });
});
