import { describe, expect, it } from 'vitest';
import {
  accountByWebsiteQuery,
  crmPushesFor,
  handoffNote,
  leadConversionQuery,
  hubspotContactProperties,
  retryAfterSeconds,
  salesforceLeadFields,
  salesforceOpportunityFields,
  type CrmLead,
} from './crm';
import type { TimelineEvent } from './lead-record';

const event = (type: string, data: Record<string, unknown> = {}, key = `run:${type}`): TimelineEvent => ({
  key,
  at: '2026-12-01T10:00:00.000Z',
  type,
  actor: 'system',
  data,
});

const crmLead = (overrides: Partial<CrmLead> = {}): CrmLead => ({
  lead: {
    leadId: 'lead_abc',
    status: 'accepted',
    profile: { email: 'ana@acme.test', company: 'Acme', source: 'demo_request' },
    consent: {},
    engagement: { seen: ['requested_demo'], openedEmails: 2, lastEngagementAt: '2026-12-01T10:00:00.000Z' },
    enrichment: 'enriched',
    score: {
      score: 70,
      grade: 'B',
      fitPoints: 20,
      breakdown: [{ rule: 'requested_demo', points: 50, reason: 'requested a demo' }],
      modelVersion: 1,
    },
  },
  ownerId: 'rep-1',
  ownerCrmUserId: '123',
  priority: 'P1',
  dueAt: null,
  story: [],
  ...overrides,
});

describe('crmPushesFor', () => {
  it("pushes the contact when the lead is routed to a rep and on a routed lead's accept, disqualification or recycling, and a deal on conversion", () => {
    const pushes = crmPushesFor([
      event('captured'),
      event('status_changed', { status: 'sql' }, 'k1'),
      event('assigned', { ownerId: 'rep-1' }, 'k2'),
      event('unassigned', {}, 'k3'),
      event('status_changed', { status: 'accepted', previous: 'sql' }, 'k4'),
      event('status_changed', { status: 'recycled', previous: 'accepted' }, 'k5'),
      event('status_changed', { status: 'disqualified', previous: 'sql' }, 'k6'),
      // A nurtured lead closed by aging was never handed off.
      event('status_changed', { status: 'disqualified', previous: 'mql' }, 'k8'),
      event('converted', { opportunity: { amount: 10 } }, 'k7'),
    ]);
    expect(pushes.map(({ key, push }) => [key, push])).toEqual([
      ['k2', 'contact'],
      ['k4', 'contact'],
      ['k5', 'contact'],
      ['k6', 'contact'],
      ['k7', 'deal'],
    ]);
    expect(pushes.at(-1)!.opportunity).toEqual({ amount: 10 });
  });
});

describe('retryAfterSeconds', () => {
  const now = new Date('2026-12-01T10:00:00Z');
  it('reads seconds or an HTTP date, bounded to an hour, and nothing from garbage', () => {
    expect(retryAfterSeconds('3', now)).toBe(3);
    expect(retryAfterSeconds('Tue, 01 Dec 2026 10:00:30 GMT', now)).toBe(30);
    expect(retryAfterSeconds('999999', now)).toBe(3600);
    expect(retryAfterSeconds('soon', now)).toBeUndefined();
    expect(retryAfterSeconds(undefined, now)).toBeUndefined();
  });
});

describe('hubspotContactProperties', () => {
  it("writes the owner, HubSpot's lead status and our score, and clears the SLA due once the rep has responded", () => {
    const properties = hubspotContactProperties(crmLead());
    expect(properties).toMatchObject({
      email: 'ana@acme.test',
      hubspot_owner_id: '123',
      hs_lead_status: 'IN_PROGRESS',
      lo_score: '70',
      lo_grade: 'B',
      lo_sla_due_at: '',
    });
    expect(properties.lo_score_explanation).toBe('70 = requested a demo +50');
    expect(hubspotContactProperties(crmLead({ ownerCrmUserId: null }))).not.toHaveProperty('hubspot_owner_id');
  });
});

describe('salesforceLeadFields', () => {
  it("writes the owner, Salesforce's standard status and our score; fills the required fields the lead lacks; clears the SLA", () => {
    const fields = salesforceLeadFields(crmLead({ dueAt: null }));
    expect(fields).toMatchObject({
      OwnerId: '123',
      Email: 'ana@acme.test',
      Company: 'Acme',
      LastName: '[not provided]',
      Status: 'Working - Contacted',
      LO_Status__c: 'accepted',
      LO_Score__c: 70,
      LO_Grade__c: 'B',
      LO_Source__c: 'demo_request',
      LO_Priority__c: 'P1',
      LO_SLA_Due__c: null,
    });
    expect(fields).not.toHaveProperty('FirstName');
    const converted = salesforceLeadFields(crmLead({ lead: { ...crmLead().lead, status: 'converted' } }));
    // Only Salesforce's own conversion sets a converted status: ours is in LO_Status__c alone.
    expect(converted).not.toHaveProperty('Status');
    expect(converted.LO_Status__c).toBe('converted');
  });
});

describe('salesforceOpportunityFields', () => {
  it('names and prices the conversion, closes it days after the conversion whenever pushed, and carries the note', () => {
    const fields = salesforceOpportunityFields(crmLead(), {
      opportunity: { name: 'Pilot', amount: 1200 },
      placement: { stageName: 'Prospecting', closeInDays: 30 },
      convertedAt: '2026-12-01T23:30:00.000Z',
    });
    expect(fields).toMatchObject({ Name: 'Pilot', Amount: 1200, StageName: 'Prospecting', CloseDate: '2026-12-31', OwnerId: '123' });
    expect(fields.Description).toContain('Handoff of lead lead_abc (Acme).');
    const unnamed = salesforceOpportunityFields(crmLead({ ownerCrmUserId: null }), {
      opportunity: null,
      placement: { stageName: 'Prospecting', closeInDays: 0 },
      convertedAt: '2026-12-01T10:00:00.000Z',
    });
    expect(unnamed).toMatchObject({ Name: 'Acme: handoff', CloseDate: '2026-12-01' });
    expect(unnamed).not.toHaveProperty('Amount');
    expect(unnamed).not.toHaveProperty('OwnerId');
  });
});

describe('handoffNote', () => {
  it('tells captures, engagement, touches and the score, and stays bounded however long the story', () => {
    const story = [
      { ...event('captured', { source: 'webinar', sourceDetail: 'Q4 launch' }) },
      { ...event('activity', { type: 'clicked_email_link' }) },
      { ...event('activity', { type: 'clicked_email_link' }) },
      { ...event('touch', { channel: 'call', note: 'budget approved' }), actor: 'rep:rep-1' },
    ];
    const note = handoffNote(crmLead({ story }), 'https://leads.acme.test/leads/lead_abc/timeline');
    expect(note).toContain('Captures: 2026-12-01 webinar (Q4 launch).');
    expect(note).toContain('clicked email link ×2');
    expect(note).toContain('emails opened: 2');
    expect(note).toContain('Touches: 2026-12-01 call by rep-1: budget approved.');
    expect(note).toContain('Score: 70 = requested a demo +50; grade B.');
    expect(note).toContain('Timeline: https://leads.acme.test/leads/lead_abc/timeline');
    const long = Array.from({ length: 500 }, () => ({ ...event('touch', { channel: 'email', note: 'x'.repeat(100) }), actor: 'ops' }));
    expect(handoffNote(crmLead({ story: long })).length).toBeLessThanOrEqual(8000);
  });
});

describe('the Salesforce conversion queries', () => {
  it("find a Lead's conversion by our lead id, quoted as a SOQL string", () => {
    expect(leadConversionQuery('Lead_Orchestration_Id__c', 'lead_ab12')).toBe(
      "SELECT Id, IsConverted, ConvertedOpportunityId, ConvertedContactId, ConvertedAccountId FROM Lead WHERE Lead_Orchestration_Id__c = 'lead_ab12' LIMIT 1",
    );
    expect(leadConversionQuery('X__c', "a'b\\c")).toContain("X__c = 'a\\'b\\\\c'");
  });

  it("match the company's Account by its Website as orgs write it, never a longer domain", () => {
    const query = accountByWebsiteQuery('WWW.Acme.io');
    for (const website of ["'acme.io'", "'www.acme.io'", "'https://acme.io'", "'https://www.acme.io/'", "'http://acme.io/'"])
      expect(query).toContain(website);
    expect(query).not.toContain('%');
    expect(query).toMatch(/^SELECT Id FROM Account WHERE Website IN \(.*\) LIMIT 2$/);
  });
});
