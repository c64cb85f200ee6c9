import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCrmHarness, type OpsAlert } from '../support/crm-harness';
import { eventually, type ServiceUnderTest } from '../support/helpers';
import { HubspotStub } from '../support/hubspot-stub';

/**
 * The handoff to HubSpot (docs/features/crm.md), end to end: ops connect a portal (a local stub of
 * HubSpot's CRM API), leads are routed to a rep mapped to a HubSpot owner, the rep acts and
 * converts, and the worker's outbox pushes each step through the real workflow and Postgres, on a
 * database of its own (the notifier here delivers every due entry in it).
 */

const ops = { key: 'ops-dev' };
const token = `pat-na1-${randomUUID()}`;
const ownerId = '12345678';

let crm: Awaited<ReturnType<typeof startCrmHarness>>;
let service: ServiceUnderTest;
let hubspot: HubspotStub;
let connectionId: string;
let repId: string;
let alerts: OpsAlert[];
let logLines: string[];
const suffix = randomUUID().slice(0, 6);

beforeAll(async () => {
  hubspot = await new HubspotStub().start();
  crm = await startCrmHarness({ database: 'crm', vendorOrigin: hubspot.origin, crmUserId: ownerId });
  ({ service, alerts, logLines } = crm);
  expect(crm.rep.crmUserId).toBe(ownerId);
  repId = crm.rep.id;
}, 120_000);

afterAll(async () => {
  await crm?.stop();
  await hubspot?.stop();
});

const timeline = async (leadId: string) =>
  (await service.request('GET', `/leads/${leadId}/timeline`, ops)).body.events as { at: string; type: string; data: Record<string, any> }[];

/** Captures a sales-ready lead in the team's country and waits until it is routed to the rep. */
async function routedLead(email: string, extra: Record<string, unknown> = {}) {
  const captured = await service.request('POST', '/leads', {
    body: { email, source: 'demo_request', country: 'XC', company: `Acme ${suffix}`, title: 'CTO', ...extra },
  });
  expect(captured.status).toBe(202);
  const leadId = captured.body.leadId as string;
  await eventually(async () => {
    const view = await service.request('GET', `/leads/${leadId}`, ops);
    expect(view.body.ownerId).toBe(repId);
  });
  return leadId;
}

describe('CRM connections', () => {
  it('are registered by ops, and never show their token again', async () => {
    const refused = await service.request('POST', '/crm-connections', {
      body: { kind: 'hubspot', name: 'Portal', accessToken: token, apiBaseUrl: hubspot.url },
    });
    expect(refused.status).toBe(403);
    const elsewhere = await service.request('POST', '/crm-connections', {
      ...ops,
      body: { kind: 'hubspot', name: 'Portal', accessToken: token, apiBaseUrl: 'https://evil.example.com' },
    });
    expect(elsewhere.status).toBe(400);
    expect(elsewhere.body.error.details.map((d: { path: string }) => d.path)).toEqual(['apiBaseUrl']);
    const tokenless = await service.request('POST', '/crm-connections', {
      ...ops,
      body: { kind: 'hubspot', name: 'Portal', clientSecret: 's' },
    });
    expect(tokenless.status).toBe(400);
    expect(tokenless.body.error.details.map((d: { path: string }) => d.path)).toEqual(['accessToken', 'clientSecret']);

    const created = await service.request('POST', '/crm-connections', {
      ...ops,
      body: { kind: 'hubspot', name: 'Portal', accessToken: token, apiBaseUrl: hubspot.url, dealStage: 'qualifiedtobuy' },
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      kind: 'hubspot',
      name: 'Portal',
      settings: { apiBaseUrl: hubspot.url, pipeline: 'default', dealStage: 'qualifiedtobuy' },
    });
    connectionId = created.body.id;
    const listed = await service.request('GET', '/crm-connections', ops);
    expect(listed.body.connections.map((c: { id: string }) => c.id)).toEqual([connectionId]);
    expect(JSON.stringify(created.body) + JSON.stringify(listed.body)).not.toContain(token);
    // Sealed at rest: the token is not in the row in the clear.
    const [row] = await service.sql<{ secret: Buffer }[]>`SELECT secret FROM crm_connections WHERE id = ${connectionId}`;
    expect(row!.secret.toString('latin1')).not.toContain(token);
    const document = (await service.request('GET', '/openapi.json', { key: null })).body;
    expect(Object.keys(document.paths['/crm-connections'])).toEqual(['post', 'get']);
  });

  it('map a rep to its CRM user (crmUserId): stored, changed, cleared, and refused when it is no CRM id', async () => {
    const rep = await service.request('POST', '/reps', { ...ops, body: { name: 'Bo', email: `bo-${suffix}@example.com` } });
    expect(rep.body.crmUserId).toBeNull();
    const set = await service.request('PATCH', `/reps/${rep.body.id}`, { ...ops, body: { crmUserId: '0055g00000AbCdE' } });
    expect(set.body.crmUserId).toBe('0055g00000AbCdE');
    const cleared = await service.request('PATCH', `/reps/${rep.body.id}`, { ...ops, body: { crmUserId: null } });
    expect(cleared.body.crmUserId).toBeNull();
    const bad = await service.request('PATCH', `/reps/${rep.body.id}`, { ...ops, body: { crmUserId: '1; DROP' } });
    expect(bad.status).toBe(400);
    expect(bad.body.error.details.map((d: { path: string }) => d.path)).toEqual(['crmUserId']);
  });
});

describe('the handoff to HubSpot', () => {
  const email = `buyer.${suffix}@prospect-${suffix}.com`;
  let leadId: string;

  it('upserts one contact with its owner, score and SLA when the lead is routed to a rep', async () => {
    leadId = await routedLead(email, { sourceDetail: 'pricing page form' });
    const contact = await eventually(() => {
      const found = hubspot.contact(email);
      expect(found).toBeDefined();
      return found!;
    });
    const view = (await service.request('GET', `/leads/${leadId}`, ops)).body;
    expect(contact.properties).toMatchObject({
      hubspot_owner_id: ownerId,
      lo_lead_id: leadId,
      lo_status: 'sql',
      hs_lead_status: 'NEW',
      lo_score: String(view.score),
      lo_grade: view.grade,
      lo_source: 'demo_request',
      lo_source_detail: 'pricing page form',
      lo_priority: view.priority,
      company: `Acme ${suffix}`,
      jobtitle: 'CTO',
    });
    expect(contact.properties.lo_score_explanation).toMatch(/^\d+ = .*requested a demo \+50/);
    expect(Date.parse(contact.properties.lo_sla_due_at!)).toBeGreaterThan(Date.now());
    expect(hubspot.callsTo('contacts', email).every((c) => c.authorization === `Bearer ${token}`)).toBe(true);
    const synced = await eventually(async () => {
      const events = (await timeline(leadId)).filter((e) => e.type === 'crm_synced');
      expect(events).toHaveLength(1);
      return events[0]!;
    });
    expect(synced.data).toMatchObject({ connectionId, kind: 'hubspot', object: 'contact', recordId: contact.id, event: 'assigned' });
  });

  it("pushes the rep's accept, and a retry after HubSpot's 500 makes no second contact", async () => {
    hubspot.fail('contacts', { status: 500, email });
    const accepted = await service.request('POST', `/leads/${leadId}/accept`, { ...ops, body: {} });
    expect(accepted.status).toBe(200);
    await eventually(() =>
      expect(hubspot.contact(email)?.properties).toMatchObject({ lo_status: 'accepted', hs_lead_status: 'IN_PROGRESS' }),
    );
    const calls = hubspot.callsTo('contacts', email).map((c) => c.status);
    expect(calls.slice(-2)).toEqual([500, 200]);
    expect(hubspot.contacts.filter((c) => c.properties.email === email)).toHaveLength(1);
    await eventually(async () => expect((await timeline(leadId)).filter((e) => e.type === 'crm_synced')).toHaveLength(2));
  });

  it('delivers a push again when the worker died after HubSpot answered, and it is still one contact and one timeline event', async () => {
    // As if the worker had died between HubSpot's answer and marking the entry sent: its lease ends and it is due again.
    const entries = await service.sql`
      UPDATE notifications SET status = 'pending', next_attempt_at = now() WHERE lead_id = ${leadId} AND channel = 'crm' RETURNING id`;
    expect(entries.length).toBe(2);
    const before = hubspot.callsTo('contacts', email).length;
    await eventually(async () => {
      const [row] = await service.sql<{ pending: number }[]>`
        SELECT count(*) FILTER (WHERE status <> 'sent')::int AS pending FROM notifications WHERE lead_id = ${leadId} AND channel = 'crm'`;
      expect(row!.pending).toBe(0);
    });
    expect(hubspot.callsTo('contacts', email).length).toBe(before + 2);
    expect(hubspot.contacts.filter((c) => c.properties.email === email)).toHaveLength(1);
    expect((await timeline(leadId)).filter((e) => e.type === 'crm_synced')).toHaveLength(2);
  });

  it('on conversion, makes one deal with the amount and the handoff note, associated with the contact, after waiting out a 429', async () => {
    const touch = await service.request('POST', `/leads/${leadId}/touches`, {
      ...ops,
      body: { channel: 'call', note: 'Wants SSO and a pilot in Q1' },
    });
    expect(touch.status).toBe(200);
    hubspot.fail('deals', { status: 429, retryAfter: 3 });
    const converted = await service.request('POST', `/leads/${leadId}/convert`, {
      ...ops,
      body: { opportunity: { name: 'Acme pilot', amount: 42000 } },
    });
    expect(converted.status).toBe(200);
    const deal = await eventually(() => {
      expect(hubspot.associations.size).toBe(1);
      return hubspot.deals[0]!;
    });
    expect(hubspot.deals).toHaveLength(1);
    const contact = hubspot.contact(email)!;
    expect([...hubspot.associations]).toEqual([`${deal.id}→${contact.id}`]);
    expect(deal.properties).toMatchObject({
      dealname: 'Acme pilot',
      amount: '42000',
      dealstage: 'qualifiedtobuy',
      pipeline: 'default',
      hubspot_owner_id: ownerId,
    });
    const note = deal.properties.description!;
    expect(note).toContain(`Handoff of lead ${leadId}`);
    expect(note).toMatch(/Score: \d+ = .*requested a demo \+50.*; grade [A-F]/);
    expect(note).toMatch(/Captures: \d{4}-\d\d-\d\d demo_request \(\w/);
    expect(note).toContain('call by ops: Wants SSO and a pilot in Q1');
    expect(note).toContain(`${service.baseUrl}/leads/${leadId}/timeline`);
    expect(contact.properties.hs_lead_status).toBe('OPEN_DEAL');
    // HubSpot asked for 3 seconds: the retry waited for them (the outbox's own backoff would have been 2).
    const [limited, retried] = hubspot.callsTo('deals').slice(-2);
    expect(limited!.status).toBe(429);
    expect(retried!.at - limited!.at).toBeGreaterThanOrEqual(2900);
    const synced = await eventually(async () => {
      const event = (await timeline(leadId)).find((e) => e.type === 'crm_synced' && e.data.object === 'deal');
      expect(event).toBeDefined();
      return event!;
    });
    expect(synced.data).toMatchObject({ recordId: deal.id, contactId: contact.id, event: 'converted' });
    // The lead's view names its records in the CRM.
    const view = (await service.request('GET', `/leads/${leadId}`, ops)).body;
    expect(view.crm).toEqual([
      { connectionId, kind: 'hubspot', object: 'contact', recordId: contact.id, syncedAt: expect.any(String) },
      { connectionId, kind: 'hubspot', object: 'deal', recordId: deal.id, syncedAt: synced.at },
    ]);
  });

  it("while HubSpot does not answer, delays neither routing nor the rep's alert, and syncs the lead once it answers", async () => {
    const laterEmail = `later.${suffix}@prospect-${suffix}.com`;
    hubspot.fail('contacts', { status: 0, hang: true, email: laterEmail });
    const laterLead = await routedLead(laterEmail);
    const alert = await eventually(() => {
      const found = alerts.find((a) => a.kind === 'assignment' && a.leadId === laterLead);
      expect(found).toBeDefined();
      return found!;
    });
    expect(alert.recipient).toBe(repId);
    const contact = await eventually(() => {
      const found = hubspot.contact(laterEmail);
      expect(found).toBeDefined();
      return found!;
    });
    const [hung, answered] = hubspot.callsTo('contacts', laterEmail);
    expect(hung!.status).toBe(0);
    expect(answered!.status).toBe(200);
    // The alert went out while HubSpot was still not answering (the call is given up after 1.5 s here).
    expect(alert.at).toBeLessThan(answered!.at);
    expect(contact.properties.hubspot_owner_id).toBe(ownerId);
    await eventually(async () => expect((await timeline(laterLead)).filter((e) => e.type === 'crm_synced')).toHaveLength(1));
  });

  it("quarantines a push HubSpot refuses (400): dead-lettered at once, on the lead's timeline and told to ops, with no personal data", async () => {
    const refusedEmail = `refused.${suffix}@prospect-${suffix}.com`;
    hubspot.fail('contacts', { status: 400, category: 'VALIDATION_ERROR', email: refusedEmail });
    const refusedLead = await routedLead(refusedEmail);
    const failed = await eventually(async () => {
      const event = (await timeline(refusedLead)).find((e) => e.type === 'crm_sync_failed');
      expect(event).toBeDefined();
      return event!;
    });
    expect(failed.data).toMatchObject({ connectionId, push: 'contact', code: 'VALIDATION_ERROR', attempts: 1 });
    const [entry] = await service.sql<{ status: string; last_error: string }[]>`
      SELECT status, last_error FROM notifications WHERE lead_id = ${refusedLead} AND channel = 'crm'`;
    expect(entry).toEqual({ status: 'dead', last_error: 'hubspot answered 400 VALIDATION_ERROR' });
    const alert = await eventually(() => {
      const found = alerts.find((a) => a.kind === 'crm_sync_failed' && a.text.includes(refusedLead));
      expect(found).toBeDefined();
      return found!;
    });
    expect(alert.recipient).toBe('ops');
    // Never retried, and the lead went on: still routed to its rep.
    await sleep(2500);
    expect(hubspot.callsTo('contacts', refusedEmail)).toHaveLength(1);
    expect((await service.request('GET', `/leads/${refusedLead}`, ops)).body).toMatchObject({ status: 'sql', ownerId: repId });
    // HubSpot's message quotes the address: it reaches neither the logs, the stored error nor the alert.
    expect(logLines.some((line) => line.includes('VALIDATION_ERROR'))).toBe(true);
    for (const text of [...logLines, JSON.stringify(alerts), JSON.stringify(failed)]) {
      expect(text).not.toContain(refusedEmail);
      expect(text).not.toContain(email);
    }
  });
});
