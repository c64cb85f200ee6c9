import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { salesforceHandoffId } from '../../worker/crm';
import { startCrmHarness, type OpsAlert } from '../support/crm-harness';
import { eventually, type ServiceUnderTest } from '../support/helpers';
import { SalesforceStub } from '../support/salesforce-stub';

/**
 * The handoff to Salesforce (docs/features/crm.md), end to end: ops connect an org (a local stub of
 * Salesforce's REST API and token endpoint) with a connected app's client and a refresh token,
 * leads are routed to a rep mapped to a Salesforce user, the rep acts and converts, and the
 * worker's outbox pushes each step through jsforce, the real workflow and Postgres, on a database
 * of its own.
 */

const ops = { key: 'ops-dev' };
const credentials = {
  clientId: `3MVG9stub${randomUUID()}`,
  clientSecret: `secret-${randomUUID()}`,
  refreshToken: `5Aep861${randomUUID()}`,
};
const ownerId = '005xx000001Sv6AAAS';

let crm: Awaited<ReturnType<typeof startCrmHarness>>;
let service: ServiceUnderTest;
let salesforce: SalesforceStub;
let connectionId: string;
let repId: string;
let alerts: OpsAlert[];
let logLines: string[];
const suffix = randomUUID().slice(0, 6);

beforeAll(async () => {
  salesforce = await new SalesforceStub({ ...credentials }).start();
  crm = await startCrmHarness({ database: 'crm_salesforce', vendorOrigin: salesforce.origin, crmUserId: ownerId });
  ({ service, alerts, logLines } = crm);
  repId = crm.rep.id;
}, 120_000);

afterAll(async () => {
  await crm?.stop();
  await salesforce?.stop();
});

const timeline = async (leadId: string) =>
  (await service.request('GET', `/leads/${leadId}/timeline`, ops)).body.events as { at: string; type: string; data: Record<string, any> }[];

/** Captures a sales-ready lead in the team's country and waits until it is routed to the rep. */
async function routedLead(email: string, extra: Record<string, unknown> = {}) {
  const captured = await service.request('POST', '/leads', {
    body: { email, source: 'demo_request', country: 'XC', company: `Acme ${suffix}`, title: 'CTO', lastName: 'Buyer', ...extra },
  });
  expect(captured.status).toBe(202);
  const leadId = captured.body.leadId as string;
  await eventually(async () => expect((await service.request('GET', `/leads/${leadId}`, ops)).body.ownerId).toBe(repId));
  return leadId;
}

const syncedEvents = async (leadId: string) => (await timeline(leadId)).filter((e) => e.type === 'crm_synced');

describe('a Salesforce connection', () => {
  it('is registered by ops with its instance URL, connected app and refresh token, and never shows them again', async () => {
    const incomplete = await service.request('POST', '/crm-connections', {
      ...ops,
      body: { kind: 'salesforce', name: 'Org', accessToken: 'pat-x' },
    });
    expect(incomplete.status).toBe(400);
    expect(incomplete.body.error.details.map((d: { path: string }) => d.path)).toEqual([
      'clientId',
      'clientSecret',
      'refreshToken',
      'apiBaseUrl',
      'accessToken',
    ]);
    const elsewhere = await service.request('POST', '/crm-connections', {
      ...ops,
      body: { kind: 'salesforce', name: 'Org', ...credentials, apiBaseUrl: 'https://acme.my.salesforce.com.evil.example' },
    });
    expect(elsewhere.status).toBe(400);
    expect(elsewhere.body.error.details).toEqual([{ path: 'apiBaseUrl', message: expect.stringContaining("vendor's host") }]);
    const badField = await service.request('POST', '/crm-connections', {
      ...ops,
      body: { kind: 'salesforce', name: 'Org', ...credentials, apiBaseUrl: salesforce.url, leadIdField: 'Id/../x' },
    });
    expect(badField.status).toBe(400);

    const created = await service.request('POST', '/crm-connections', {
      ...ops,
      body: { kind: 'salesforce', name: 'Org', ...credentials, apiBaseUrl: salesforce.url, dealStage: 'Qualification' },
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      kind: 'salesforce',
      settings: {
        apiBaseUrl: salesforce.url,
        dealStage: 'Qualification',
        leadIdField: 'Lead_Orchestration_Id__c',
        handoffIdField: 'Lead_Orchestration_Handoff_Id__c',
        closeInDays: 30,
      },
    });
    connectionId = created.body.id;
    const listed = await service.request('GET', '/crm-connections', ops);
    expect(listed.body.connections.map((c: { id: string }) => c.id)).toEqual([connectionId]);
    const [row] = await service.sql<{ secret: Buffer }[]>`SELECT secret FROM crm_connections WHERE id = ${connectionId}`;
    for (const secret of [credentials.clientSecret, credentials.refreshToken, credentials.clientId]) {
      expect(JSON.stringify(created.body) + JSON.stringify(listed.body)).not.toContain(secret);
      expect(row!.secret.toString('latin1')).not.toContain(secret);
    }
  });
});

describe('the handoff to Salesforce', () => {
  const email = `buyer.${suffix}@prospect-${suffix}.com`;
  let leadId: string;

  it('upserts one Lead by our lead id, with its owner, score and SLA, when the lead is routed (getting a session first)', async () => {
    leadId = await routedLead(email, { sourceDetail: 'pricing page form' });
    const record = await eventually(() => {
      const found = salesforce.lead(leadId);
      expect(found).toBeDefined();
      return found!;
    });
    const view = (await service.request('GET', `/leads/${leadId}`, ops)).body;
    expect(record.externalId).toEqual({ field: 'Lead_Orchestration_Id__c', value: leadId });
    expect(record.fields).toMatchObject({
      OwnerId: ownerId,
      Email: email,
      LastName: 'Buyer',
      Company: `Acme ${suffix}`,
      Title: 'CTO',
      Status: 'Open - Not Contacted',
      LO_Status__c: 'sql',
      LO_Score__c: view.score,
      LO_Grade__c: view.grade,
      LO_Source__c: 'demo_request',
      LO_Source_Detail__c: 'pricing page form',
      LO_Priority__c: view.priority,
    });
    expect(record.fields.LO_Score_Explanation__c).toMatch(/^\d+ = .*requested a demo \+50/);
    expect(Date.parse(String(record.fields.LO_SLA_Due__c))).toBeGreaterThan(Date.now());
    // No access token yet: one refresh with the connected app's client, then the upsert.
    expect(salesforce.callsTo('Lead', leadId).map((c) => c.status)).toEqual([201]);
    const [refresh] = salesforce.callsTo('token');
    expect(refresh!.body).toMatchObject({
      grant_type: 'refresh_token',
      ...{ client_id: credentials.clientId, refresh_token: credentials.refreshToken },
    });
    expect(salesforce.callsTo('token')).toHaveLength(1);
    const synced = await eventually(async () => {
      const events = await syncedEvents(leadId);
      expect(events).toHaveLength(1);
      return events[0]!;
    });
    expect(synced.data).toMatchObject({ connectionId, kind: 'salesforce', object: 'contact', recordId: record.Id, event: 'assigned' });
  });

  it("pushes the rep's accept after refreshing an expired session once, onto the same Lead", async () => {
    salesforce.fail('Lead', { status: 401, externalId: leadId });
    const refreshesBefore = salesforce.callsTo('token').length;
    const accepted = await service.request('POST', `/leads/${leadId}/accept`, { ...ops, body: {} });
    expect(accepted.status).toBe(200);
    await eventually(() =>
      expect(salesforce.lead(leadId)?.fields).toMatchObject({ LO_Status__c: 'accepted', Status: 'Working - Contacted' }),
    );
    expect(
      salesforce
        .callsTo('Lead', leadId)
        .map((c) => c.status)
        .slice(-2),
    ).toEqual([401, 200]);
    expect(salesforce.callsTo('token')).toHaveLength(refreshesBefore + 1);
    // The rep responded: the SLA is cleared.
    expect(salesforce.lead(leadId)!.fields.LO_SLA_Due__c).toBeNull();
    expect(salesforce.records.Lead.filter((r) => r.externalId.value === leadId)).toHaveLength(1);
    await eventually(async () => expect(await syncedEvents(leadId)).toHaveLength(2));
  });

  it('on conversion, upserts one Opportunity with the amount and the handoff note, and a retry after a 500 makes no second one', async () => {
    const touch = await service.request('POST', `/leads/${leadId}/touches`, {
      ...ops,
      body: { channel: 'call', note: 'Wants SSO and a pilot in Q1' },
    });
    expect(touch.status).toBe(200);
    salesforce.fail('Opportunity', { status: 500 });
    const converted = await service.request('POST', `/leads/${leadId}/convert`, {
      ...ops,
      body: { opportunity: { name: 'Acme pilot', amount: 42000 } },
    });
    expect(converted.status).toBe(200);
    const synced = await eventually(async () => {
      const event = (await syncedEvents(leadId)).find((e) => e.data.object === 'deal');
      expect(event).toBeDefined();
      return event!;
    });
    expect(salesforce.callsTo('Opportunity').map((c) => c.status)).toEqual([500, 201]);
    expect(salesforce.records.Opportunity).toHaveLength(1);
    const opportunity = salesforce.records.Opportunity[0]!;
    expect(opportunity.externalId.field).toBe('Lead_Orchestration_Handoff_Id__c');
    expect(opportunity.fields).toMatchObject({ Name: 'Acme pilot', Amount: 42000, StageName: 'Qualification', OwnerId: ownerId });
    // 30 days after the conversion.
    const days = (Date.parse(String(opportunity.fields.CloseDate)) - Date.now()) / 86_400_000;
    expect(days).toBeGreaterThan(28);
    expect(days).toBeLessThan(31);
    const note = String(opportunity.fields.Description);
    expect(note).toContain(`Handoff of lead ${leadId}`);
    expect(note).toMatch(/Score: \d+ = .*requested a demo \+50.*; grade [A-F]/);
    expect(note).toContain('call by ops: Wants SSO and a pilot in Q1');
    expect(note).toContain(`${service.baseUrl}/leads/${leadId}/timeline`);
    expect(salesforce.lead(leadId)!.fields.LO_Status__c).toBe('converted');
    expect(synced.data).toMatchObject({
      kind: 'salesforce',
      recordId: opportunity.Id,
      contactId: salesforce.lead(leadId)!.Id,
      event: 'converted',
    });
    const view = (await service.request('GET', `/leads/${leadId}`, ops)).body;
    expect(view.crm).toEqual([
      { connectionId, kind: 'salesforce', object: 'contact', recordId: salesforce.lead(leadId)!.Id, syncedAt: expect.any(String) },
      { connectionId, kind: 'salesforce', object: 'deal', recordId: opportunity.Id, syncedAt: synced.at },
    ]);
  });

  it('delivers every push again when the worker died after Salesforce answered, and it is still one Lead and one Opportunity', async () => {
    const entries = await service.sql`
      UPDATE notifications SET status = 'pending', next_attempt_at = now() WHERE lead_id = ${leadId} AND channel = 'crm' RETURNING id`;
    expect(entries.length).toBe(3);
    const before = salesforce.callsTo('Opportunity').length;
    await eventually(async () => {
      const [row] = await service.sql<{ pending: number }[]>`
        SELECT count(*) FILTER (WHERE status <> 'sent')::int AS pending FROM notifications WHERE lead_id = ${leadId} AND channel = 'crm'`;
      expect(row!.pending).toBe(0);
    });
    expect(
      salesforce
        .callsTo('Opportunity')
        .slice(before)
        .map((c) => c.status),
    ).toEqual([200]);
    expect(salesforce.records.Lead.filter((r) => r.externalId.value === leadId)).toHaveLength(1);
    expect(salesforce.records.Opportunity).toHaveLength(1);
    // The Opportunity's external id is the conversion's push: the same on every delivery.
    const [deal] = await service.sql<{ dedupe_key: string }[]>`
      SELECT dedupe_key FROM notifications WHERE lead_id = ${leadId} AND channel = 'crm' AND data->>'push' = 'deal'`;
    expect(salesforce.records.Opportunity[0]!.externalId.value).toBe(salesforceHandoffId(deal!.dedupe_key));
  });

  it('quarantines a Lead Salesforce refuses (400 REQUIRED_FIELD_MISSING): dead-lettered at once, on the timeline and told to ops, with no personal data', async () => {
    const refusedEmail = `refused.${suffix}@prospect-${suffix}.com`;
    salesforce.fail('Lead', { status: 400, errorCode: 'REQUIRED_FIELD_MISSING' });
    const refusedLead = await routedLead(refusedEmail);
    const failed = await eventually(async () => {
      const event = (await timeline(refusedLead)).find((e) => e.type === 'crm_sync_failed');
      expect(event).toBeDefined();
      return event!;
    });
    expect(failed.data).toMatchObject({ connectionId, push: 'contact', code: 'REQUIRED_FIELD_MISSING', attempts: 1 });
    const [entry] = await service.sql<{ status: string; last_error: string }[]>`
      SELECT status, last_error FROM notifications WHERE lead_id = ${refusedLead} AND channel = 'crm'`;
    expect(entry).toEqual({ status: 'dead', last_error: 'salesforce answered REQUIRED_FIELD_MISSING' });
    const alert = await eventually(() => {
      const found = alerts.find((a) => a.kind === 'crm_sync_failed' && a.text.includes(refusedLead));
      expect(found).toBeDefined();
      return found!;
    });
    expect(alert.recipient).toBe('ops');
    await sleep(2500);
    expect(salesforce.callsTo('Lead', refusedLead)).toHaveLength(1);
    expect(salesforce.lead(refusedLead)).toBeUndefined();
    expect((await service.request('GET', `/leads/${refusedLead}`, ops)).body).toMatchObject({ status: 'sql', ownerId: repId });
    // Salesforce's message quotes the address: it reaches neither the logs, the stored error nor the alert.
    for (const text of [...logLines, JSON.stringify(alerts), JSON.stringify(failed)]) {
      expect(text).not.toContain(refusedEmail);
      expect(text).not.toContain(email);
    }
  });

  it('gives up on a call Salesforce does not answer (the timeout) and syncs the lead after', async () => {
    const laterEmail = `later.${suffix}@prospect-${suffix}.com`;
    salesforce.fail('Lead', { status: 0, hang: true });
    const laterLead = await routedLead(laterEmail);
    await eventually(() => expect(salesforce.lead(laterLead)).toBeDefined());
    const [hung, answered] = salesforce.callsTo('Lead', laterLead);
    expect(hung!.status).toBe(0);
    expect(answered!.status).toBe(201);
    // Given up after the 1.5 s timeout here, then retried with the outbox's backoff.
    expect(answered!.at - hung!.at).toBeGreaterThanOrEqual(1500);
    await eventually(async () => expect(await syncedEvents(laterLead)).toHaveLength(1));
  });

  it('quarantines a push still refused right after a refresh (401 again), without refreshing in a loop', async () => {
    salesforce.fail('Lead', { status: 401 }, 2);
    const refreshesBefore = salesforce.callsTo('token').length;
    const noAccess = await routedLead(`noaccess.${suffix}@prospect-${suffix}.com`);
    const failed = await eventually(async () => {
      const event = (await timeline(noAccess)).find((e) => e.type === 'crm_sync_failed');
      expect(event).toBeDefined();
      return event!;
    });
    expect(failed.data).toMatchObject({ code: 'INVALID_SESSION_ID', attempts: 1 });
    expect(salesforce.callsTo('Lead', noAccess).map((c) => c.status)).toEqual([401, 401]);
    expect(salesforce.callsTo('token')).toHaveLength(refreshesBefore + 1);
  });

  it('quarantines the pushes once the refresh token is revoked (invalid_grant), without looping on the token endpoint', async () => {
    salesforce.revokeRefreshToken();
    salesforce.fail('Lead', { status: 401 });
    const refreshesBefore = salesforce.callsTo('token').length;
    const lockedOut = await routedLead(`locked.${suffix}@prospect-${suffix}.com`);
    const failed = await eventually(async () => {
      const event = (await timeline(lockedOut)).find((e) => e.type === 'crm_sync_failed');
      expect(event).toBeDefined();
      return event!;
    });
    expect(failed.data).toMatchObject({ code: 'invalid_grant', attempts: 1 });
    expect(
      salesforce
        .callsTo('token')
        .slice(refreshesBefore)
        .map((c) => c.status),
    ).toEqual([400]);
    await eventually(() => expect(alerts.some((a) => a.kind === 'crm_sync_failed' && a.text.includes(lockedOut))).toBe(true));
  });
});
