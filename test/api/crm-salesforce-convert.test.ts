import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { salesforceHandoffId } from '../../worker/crm';
import { startCrmHarness, type OpsAlert } from '../support/crm-harness';
import { eventually, type ServiceUnderTest } from '../support/helpers';
import { SalesforceStub } from '../support/salesforce-stub';

/**
 * Converting the Lead in Salesforce (docs/features/crm.md "Converting the Lead"), end to end: a
 * connection with `convertLeads` turns a conversion into Salesforce's own convertLead (an Account,
 * matched by the company's Website or made, a Contact and the Opportunity), exactly once however
 * often the push is delivered, through the real workflow, Postgres and a stub of Salesforce's REST
 * and SOAP APIs, on a database of its own.
 */

const ops = { key: 'ops-dev' };
const credentials = {
  clientId: `3MVG9stub${randomUUID()}`,
  clientSecret: `secret-${randomUUID()}`,
  refreshToken: `5Aep861${randomUUID()}`,
};
const ownerId = '005xx000001Sv6BAAS';

let crm: Awaited<ReturnType<typeof startCrmHarness>>;
let service: ServiceUnderTest;
let salesforce: SalesforceStub;
let connectionId: string;
let repId: string;
let alerts: OpsAlert[];
const suffix = randomUUID().slice(0, 6);

beforeAll(async () => {
  salesforce = await new SalesforceStub({ ...credentials }).start();
  crm = await startCrmHarness({ database: 'crm_salesforce_convert', vendorOrigin: salesforce.origin, crmUserId: ownerId, country: 'XV' });
  ({ service, alerts } = crm);
  repId = crm.rep.id;
}, 120_000);

afterAll(async () => {
  await crm?.stop();
  await salesforce?.stop();
});

const timeline = async (leadId: string) =>
  (await service.request('GET', `/leads/${leadId}/timeline`, ops)).body.events as { at: string; type: string; data: Record<string, any> }[];

/** Captures a sales-ready lead in the team's country and waits until it is routed to the rep. */
async function routedLead(email: string, company: string) {
  const captured = await service.request('POST', '/leads', {
    body: { email, source: 'demo_request', country: 'XV', company, title: 'CTO', lastName: 'Buyer' },
  });
  expect(captured.status).toBe(202);
  const leadId = captured.body.leadId as string;
  await eventually(async () => expect((await service.request('GET', `/leads/${leadId}`, ops)).body.ownerId).toBe(repId));
  return leadId;
}

/** Converts the lead and waits for its deal push's `crm_synced`. */
async function convertedLead(leadId: string, opportunity: { name: string; amount: number }) {
  const converted = await service.request('POST', `/leads/${leadId}/convert`, { ...ops, body: { opportunity } });
  expect(converted.status).toBe(200);
  return eventually(async () => {
    const event = (await timeline(leadId)).find((e) => e.type === 'crm_synced' && e.data.object === 'deal');
    expect(event).toBeDefined();
    return event!;
  });
}

const dealKey = async (leadId: string) =>
  (
    await service.sql<{ dedupe_key: string }[]>`
      SELECT dedupe_key FROM notifications WHERE lead_id = ${leadId} AND channel = 'crm' AND data->>'push' = 'deal'`
  )[0]!.dedupe_key;

describe('a Salesforce connection that converts Leads', () => {
  it('is opt-in, for Salesforce only, with the org’s converted status', async () => {
    const hubspot = await service.request('POST', '/crm-connections', {
      ...ops,
      body: { kind: 'hubspot', name: 'Portal', accessToken: 'pat-x', apiBaseUrl: salesforce.url, convertLeads: true },
    });
    expect(hubspot.status).toBe(400);
    expect(hubspot.body.error.details.map((d: { path: string }) => d.path)).toEqual(['convertLeads']);
    const statusAlone = await service.request('POST', '/crm-connections', {
      ...ops,
      body: { kind: 'salesforce', name: 'Org', ...credentials, apiBaseUrl: salesforce.url, convertedStatus: 'Qualified' },
    });
    expect(statusAlone.status).toBe(400);
    expect(statusAlone.body.error.details.map((d: { path: string }) => d.path)).toEqual(['convertedStatus']);

    const created = await service.request('POST', '/crm-connections', {
      ...ops,
      body: { kind: 'salesforce', name: 'Org', ...credentials, apiBaseUrl: salesforce.url, dealStage: 'Qualification', convertLeads: true },
    });
    expect(created.status).toBe(201);
    expect(created.body.settings).toMatchObject({ convertLeads: true, convertedStatus: 'Closed - Converted' });
    connectionId = created.body.id;
  });
});

describe('converting the Lead in Salesforce', () => {
  const domain = `acme-${suffix}.io`;
  let leadId: string;
  let accountId: string;

  it("converts the Lead once, onto the company's Account, and the converted Opportunity carries the amount and the handoff note", async () => {
    // The org already has the company's Account, its Website as a rep typed it.
    accountId = salesforce.addAccount({ Name: 'Acme Inc.', Website: `https://www.${domain}/` }).Id;
    salesforce.addAccount({ Name: 'Not Acme', Website: `https://not${domain}` });
    leadId = await routedLead(`buyer@${domain}`, `Acme ${suffix}`);
    const touch = await service.request('POST', `/leads/${leadId}/touches`, {
      ...ops,
      body: { channel: 'call', note: 'Wants SSO and a pilot in Q1' },
    });
    expect(touch.status).toBe(200);
    const synced = await convertedLead(leadId, { name: 'Acme pilot', amount: 42000 });

    const lead = salesforce.lead(leadId)!;
    expect(salesforce.callsTo('convertLead').map((c) => c.status)).toEqual([200]);
    expect(salesforce.conversions).toHaveLength(1);
    const [conversion] = salesforce.conversions;
    expect(conversion).toMatchObject({ leadId: lead.Id, accountId });
    expect(conversion!.request).toMatchObject({
      leadId: lead.Id,
      accountId,
      ownerId,
      convertedStatus: 'Closed - Converted',
      opportunityName: 'Acme pilot',
      doNotCreateOpportunity: 'false',
      sendNotificationEmail: 'false',
    });
    expect(lead.fields).toMatchObject({ IsConverted: true, Status: 'Closed - Converted', LO_Status__c: 'converted' });
    // One Opportunity: the conversion's, with our fields and handoff id; no second one upserted beside it.
    expect(salesforce.records.Opportunity).toHaveLength(1);
    const opportunity = salesforce.records.Opportunity[0]!;
    expect(opportunity.Id).toBe(conversion!.opportunityId);
    expect(opportunity.fields).toMatchObject({
      Name: 'Acme pilot',
      Amount: 42000,
      StageName: 'Qualification',
      AccountId: accountId,
      OwnerId: ownerId,
      Lead_Orchestration_Handoff_Id__c: salesforceHandoffId(await dealKey(leadId)),
    });
    const note = String(opportunity.fields.Description);
    expect(note).toContain(`Handoff of lead ${leadId}`);
    expect(note).toContain('call by ops: Wants SSO and a pilot in Q1');
    expect(note).toContain(`${service.baseUrl}/leads/${leadId}/timeline`);
    expect(salesforce.records.Contact.find((c) => c.Id === conversion!.contactId)!.fields).toMatchObject({
      Email: `buyer@${domain}`,
      AccountId: accountId,
    });
    expect(synced.data).toMatchObject({
      kind: 'salesforce',
      event: 'converted',
      recordId: opportunity.Id,
      contactId: conversion!.contactId,
      accountId,
    });
    const view = (await service.request('GET', `/leads/${leadId}`, ops)).body;
    expect(view.crm).toContainEqual({ connectionId, kind: 'salesforce', object: 'deal', recordId: opportunity.Id, syncedAt: synced.at });
  });

  it('converts nothing again when every push is delivered again (the worker died after Salesforce answered)', async () => {
    const accounts = salesforce.records.Account.length;
    const queries = salesforce.callsTo('query').length;
    const entries = await service.sql`
      UPDATE notifications SET status = 'pending', next_attempt_at = now() WHERE lead_id = ${leadId} AND channel = 'crm' RETURNING id`;
    // Routed, accepted (the touch) and converted.
    expect(entries.length).toBe(3);
    await eventually(async () => {
      const [row] = await service.sql<{ pending: number }[]>`
        SELECT count(*) FILTER (WHERE status <> 'sent')::int AS pending FROM notifications WHERE lead_id = ${leadId} AND channel = 'crm'`;
      expect(row!.pending).toBe(0);
    });
    // Each push read the Lead, found it converted and took its records: no convertLead call, nothing refused.
    expect(salesforce.callsTo('query').length).toBeGreaterThan(queries);
    expect(salesforce.callsTo('convertLead')).toHaveLength(1);
    expect(salesforce.conversions).toHaveLength(1);
    expect(salesforce.records.Opportunity).toHaveLength(1);
    expect(salesforce.records.Account).toHaveLength(accounts);
    // The contact pushes found the Lead converted (Salesforce refuses to edit it): done, not refused.
    expect(
      salesforce
        .callsTo('Lead')
        .slice(-2)
        .map((c) => c.status),
    ).toEqual([400, 400]);
    expect((await timeline(leadId)).filter((e) => e.type === 'crm_sync_failed')).toEqual([]);
    expect(alerts.filter((a) => a.kind === 'crm_sync_failed')).toEqual([]);
  });

  it('converts once when the answer to convertLead is lost after Salesforce converted the Lead, with a new Account when none matches', async () => {
    const other = `globex-${suffix}.io`;
    const id = await routedLead(`cto@${other}`, `Globex ${suffix}`);
    await eventually(async () => expect(salesforce.lead(id)).toBeDefined());
    const accounts = salesforce.records.Account.length;
    salesforce.fail('convertLead', { status: 500, afterPerforming: true });
    const synced = await convertedLead(id, { name: 'Globex rollout', amount: 9000 });

    const calls = salesforce.callsTo('convertLead').filter((c) => c.body.leadId === salesforce.lead(id)!.Id);
    expect(calls.map((c) => c.status)).toEqual([500]);
    const conversions = salesforce.conversions.filter((c) => c.leadId === salesforce.lead(id)!.Id);
    expect(conversions).toHaveLength(1);
    expect(conversions[0]!.request.accountId).toBeUndefined();
    expect(salesforce.records.Account).toHaveLength(accounts + 1);
    const opportunity = salesforce.records.Opportunity.find((o) => o.Id === conversions[0]!.opportunityId)!;
    expect(salesforce.records.Opportunity.filter((o) => o.fields.AccountId === conversions[0]!.accountId)).toEqual([opportunity]);
    expect(opportunity.fields).toMatchObject({
      Name: 'Globex rollout',
      Amount: 9000,
      Lead_Orchestration_Handoff_Id__c: salesforceHandoffId(await dealKey(id)),
    });
    expect(String(opportunity.fields.Description)).toContain(`Handoff of lead ${id}`);
    expect(synced.data).toMatchObject({
      recordId: opportunity.Id,
      contactId: conversions[0]!.contactId,
      accountId: conversions[0]!.accountId,
    });
    // The lost answer was retried, not quarantined.
    expect((await timeline(id)).filter((e) => e.type === 'crm_sync_failed')).toEqual([]);
    expect(alerts.filter((a) => a.kind === 'crm_sync_failed')).toEqual([]);
  });

  it('gives up on a convertLead Salesforce does not answer (the timeout) and converts the Lead once after', async () => {
    const id = await routedLead(`vp@initech-${suffix}.io`, `Initech ${suffix}`);
    await eventually(async () => expect(salesforce.lead(id)).toBeDefined());
    salesforce.fail('convertLead', { status: 0, hang: true });
    const synced = await convertedLead(id, { name: 'Initech seats', amount: 1200 });
    const leadRecordId = salesforce.lead(id)!.Id;
    expect(
      salesforce
        .callsTo('convertLead')
        .filter((c) => c.body.leadId === leadRecordId)
        .map((c) => c.status),
    ).toEqual([0, 200]);
    const conversions = salesforce.conversions.filter((c) => c.leadId === leadRecordId);
    expect(conversions).toHaveLength(1);
    expect(synced.data.recordId).toBe(conversions[0]!.opportunityId);
  });
});
