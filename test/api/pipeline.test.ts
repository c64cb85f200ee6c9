import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EngagementType } from '../../domain/engagement';
import { leadIdFor } from '../support/lead-ids';
import type { LeadSource } from '../../domain/lead';
import { eventually, startService, uniqueEmail, type ServiceUnderTest } from '../support/helpers';
import { captureLead } from '../support/fixtures';

let service: ServiceUnderTest;
beforeAll(async () => {
  service = await startService();
});
afterAll(async () => {
  await service?.close();
});

const asOps = { key: 'ops-dev' };
const getLead = async (leadId: string) => (await service.request('GET', `/leads/${leadId}`, asOps)).body;
const timeline = async (leadId: string) =>
  (await service.request('GET', `/leads/${leadId}/timeline`, asOps)).body.events as {
    type: string;
    actor: string;
    at: string;
    data: any;
  }[];

const capture = (body: Record<string, unknown>, headers?: Record<string, string>) => captureLead(service, body, headers);

/**
 * Waits until the workflow has applied everything (the timeline holds `count` events of `type`, and
 * the lead is scored: right after its first capture's 202 a lead is read, unscored, from the capture
 * its workflow has taken but not applied yet), then reads the lead.
 */
async function settled(leadId: string, type: string, count: number) {
  return eventually(async () => {
    expect((await timeline(leadId)).filter((e) => e.type === type)).toHaveLength(count);
    const lead = await getLead(leadId);
    expect(lead.score).not.toBeNull();
    return lead;
  });
}

async function report(leadId: string, type: EngagementType, extra: Record<string, unknown> = {}) {
  return service.request('POST', `/leads/${leadId}/activities`, { body: { type, ...extra } });
}

describe('scoring model v1 through the API, the workflow and Postgres', () => {
  // A business address at a domain the dataset does not know, no country: the baseline scores 0.
  const person = () => `p.${randomUUID().slice(0, 8)}@unlisted-${randomUUID().slice(0, 6)}.com`;

  it.each<[LeadSource, string, number]>([
    ['demo_request', 'requested_demo', 50],
    ['contact_form', 'submitted_contact_form', 20],
    ['webinar', 'attended_webinar', 30],
    ['content_download', 'downloaded_content', 10],
  ])('a capture from %s counts as rule %s: +%i', async (source, rule, points) => {
    const { leadId } = await capture({ email: person(), source });
    const lead = await settled(leadId, 'score_changed', 1);
    expect(lead.score).toBe(points);
    expect(lead.scoreBreakdown).toEqual([expect.objectContaining({ rule, points })]);
  });

  it.each<[EngagementType, number, string, number]>([
    ['visited_pricing_page', 1, 'visited_pricing_page', 15],
    ['submitted_contact_form', 1, 'submitted_contact_form', 20],
    ['clicked_email_link', 1, 'clicked_email_link', 10],
    ['opened_email', 3, 'opened_emails', 8],
    ['attended_webinar', 1, 'attended_webinar', 30],
    ['downloaded_content', 1, 'downloaded_content', 10],
    ['requested_demo', 1, 'requested_demo', 50],
  ])('activity %s (×%i) scores rule %s: +%i', async (type, times, rule, points) => {
    const { leadId } = await capture({ email: person(), source: 'newsletter' });
    await settled(leadId, 'captured', 1);
    for (let i = 0; i < times; i++) expect((await report(leadId, type)).status).toBe(202);
    const lead = await settled(leadId, 'activity', times);
    expect(lead.score).toBe(points);
    expect(lead.scoreBreakdown).toEqual([expect.objectContaining({ rule, points })]);
  });

  it.each<[string, Record<string, unknown>, string, number]>([
    ['C-level title', { title: 'Chief Marketing Officer' }, 'c_level_title', 20],
    ['manager/director title', { title: 'Director, Demand Generation' }, 'manager_title', 10],
    ['target industry', { industry: 'fintech' }, 'target_industry', 15],
    ['company size in the ICP range', { employees: 1200 }, 'icp_company_size', 5],
    ['target geography', { country: 'gb' }, 'target_geography', 15],
  ])('captured fit: %s scores %s: +%i', async (_name, fields, rule, points) => {
    const { leadId } = await capture({ email: person(), source: 'newsletter', ...fields });
    const lead = await settled(leadId, 'captured', 1);
    expect(lead.score).toBe(points);
    expect(lead.scoreBreakdown).toEqual([expect.objectContaining({ rule, points })]);
  });

  it('enriched fit: the relevant tech stack (+10) and the rest of the firmographics come from the dataset', async () => {
    const { leadId } = await capture({ email: `p.${randomUUID().slice(0, 8)}@acme.io`, source: 'newsletter' });
    const lead = await settled(leadId, 'enriched', 1);
    expect(lead.scoreBreakdown.map((l: { rule: string; points: number }) => [l.rule, l.points])).toEqual([
      ['target_industry', 15],
      ['target_geography', 15],
      ['relevant_tech_stack', 10],
      ['icp_company_size', 5],
    ]);
    expect(lead).toMatchObject({ score: 45, grade: 'B', enrichment: 'enriched', company: 'Acme', techStack: ['salesforce', 'slack'] });
  });

  it.each<[string, Record<string, unknown>, EngagementType | undefined, string, number]>([
    ['personal email domain', { email: `jane.${randomUUID().slice(0, 8)}@yahoo.com` }, undefined, 'personal_email_domain', -10],
    ['visited careers page', {}, 'visited_careers_page', 'visited_careers_page', -15],
    ['country outside the target region', { country: 'BR' }, undefined, 'outside_target_region', -10],
    ['student or intern title', { title: 'Sales Intern' }, undefined, 'student_title', -10],
    ['unsubscribed', {}, 'unsubscribed', 'unsubscribed', -15],
    ['competitor domain', { email: `spy.${randomUUID().slice(0, 8)}@chilipiper.com` }, undefined, 'competitor_domain', -20],
  ])('negative: %s scores %s: %i (after a demo request, +50)', async (_name, fields, activity, rule, points) => {
    const { leadId } = await capture({ email: person(), source: 'demo_request', ...fields });
    if (activity) {
      await settled(leadId, 'captured', 1);
      expect((await report(leadId, activity)).status).toBe(202);
    }
    const lead = await settled(leadId, activity ? 'activity' : 'captured', 1);
    expect(lead.score).toBe(50 + points);
    expect(lead.scoreBreakdown).toContainEqual(expect.objectContaining({ rule, points }));
  });

  it('explains a sales-ready score and qualifies the lead as sql; 0–100 clamp', async () => {
    const { leadId } = await capture({ email: person(), source: 'demo_request', title: 'CEO', industry: 'software', country: 'US' });
    const lead = await settled(leadId, 'captured', 1);
    expect(lead).toMatchObject({ score: 100, grade: 'A', status: 'sql', scoreModelVersion: 1 });
    const scored = (await timeline(leadId)).find((e) => e.type === 'score_changed')!;
    expect(scored.data.explanation).toBe(
      '100 = requested a demo +50, title "CEO" is C-level +20, industry "software" is a target industry +15, country US is in the target region +15',
    );
  });
});

describe('qualification', () => {
  it('moves a lead between bands as engagement re-scores it: not_ready → mql → sql, and search attributes follow', async () => {
    const { leadId } = await capture({ email: uniqueEmail('bands'), source: 'newsletter' });
    expect((await settled(leadId, 'captured', 1)).status).toBe('not_ready');
    await report(leadId, 'attended_webinar'); // 30
    await report(leadId, 'downloaded_content'); // 40
    expect((await settled(leadId, 'activity', 2)).status).toBe('mql');
    await report(leadId, 'requested_demo'); // 90
    expect(await settled(leadId, 'activity', 3)).toMatchObject({ status: 'sql', score: 90 });
    const statuses = (await timeline(leadId)).filter((e) => e.type === 'status_changed').map((e) => e.data.status);
    expect(statuses).toEqual(['not_ready', 'mql', 'sql']);
    await eventually(async () =>
      expect((await service.client.workflow.getHandle(leadId).describe()).searchAttributes).toMatchObject({
        LeadStatus: ['sql'],
        LeadScore: [90],
      }),
    );
  });

  it('a sales-ready lead is not un-routed by a lower score', async () => {
    const { leadId } = await capture({ email: uniqueEmail('sticky'), source: 'demo_request', country: 'US', title: 'VP Sales' }); // 75
    expect((await settled(leadId, 'captured', 1)).status).toBe('sql');
    await report(leadId, 'visited_careers_page'); // 60
    expect(await settled(leadId, 'activity', 1)).toMatchObject({ status: 'sql', score: 60 });
  });
});

describe('dedupe and merge', () => {
  it('50 concurrent captures of one person, spelled differently, make exactly one lead and one workflow, and exactly one answer says it made it', async () => {
    const local = `jane.doe.${randomUUID().slice(0, 8)}`;
    const spellings = Array.from({ length: 50 }, (_, i) => {
      const variants = [
        `${local}@gmail.com`,
        `${local.toUpperCase()}@GMAIL.COM`,
        `${local.replaceAll('.', '')}+promo${i}@gmail.com`,
        `  ${local}+x@googlemail.com `,
      ];
      return variants[i % variants.length]!;
    });
    const answers = await Promise.all(spellings.map((email, i) => capture({ email, source: i % 2 ? 'webinar' : 'content_download' })));
    const leadId = leadIdFor(spellings[0]!);
    expect(new Set(answers.map((a) => a.leadId))).toEqual(new Set([leadId]));

    const lead = await settled(leadId, 'captured', 50);
    const rows = await service.sql`SELECT count(*)::int AS n FROM leads WHERE identity_key = ${`${local.replaceAll('.', '')}@gmail.com`}`;
    expect(rows[0]!.n).toBe(1);
    const runs = [];
    for await (const run of service.client.workflow.list({ query: `WorkflowId = "${leadId}"` })) runs.push(run);
    expect(runs).toHaveLength(1);
    const captured = (await timeline(leadId)).filter((e) => e.type === 'captured');
    const firstTouch = captured.filter((e) => !e.data.merged);
    expect(firstTouch).toHaveLength(1);
    expect(lead.source).toBe(firstTouch[0]!.data.source); // first touch: whichever capture the workflow applied first
    // The answers come from the workflow: the one capture that made the lead, and it is the first touch.
    const made = answers.flatMap((answer, i) => (answer.duplicate ? [] : [i]));
    expect(made).toHaveLength(1);
    expect(made[0]! % 2 ? 'webinar' : 'content_download').toBe(lead.source);
    expect(captured.map((e) => e.data.source).sort()).toEqual([...Array(25).fill('content_download'), ...Array(25).fill('webinar')]);
  });

  it('keeps the first-touch source and records every capture as a touch with its own source', async () => {
    const email = uniqueEmail('touches');
    const { leadId } = await capture({ email, source: 'content_download', sourceDetail: 'ebook-2026' });
    await settled(leadId, 'captured', 1);
    await capture({ email, source: 'webinar', sourceDetail: 'webinar-nov' });
    const lead = await settled(leadId, 'captured', 2);
    expect(lead).toMatchObject({ source: 'content_download', sourceDetail: 'ebook-2026' });
    const touches = (await timeline(leadId)).filter((e) => e.type === 'captured').map((e) => [e.actor, e.data.sourceDetail]);
    expect(touches).toEqual([
      ['capture:content_download', 'ebook-2026'],
      ['capture:webinar', 'webinar-nov'],
    ]);
    expect(lead.score).toBe(40); // downloaded content +10, attended webinar +30
  });
});

describe('Idempotency-Key', () => {
  it('replays the first answer for the same key and body, and records nothing new', async () => {
    const body = { email: uniqueEmail('idem'), source: 'chat' };
    const key = randomUUID();
    const first = await service.request('POST', '/leads', { body, headers: { 'idempotency-key': key } });
    await settled(first.body.leadId, 'captured', 1);
    const again = await service.request('POST', '/leads', { body, headers: { 'idempotency-key': key } });
    expect(again.status).toBe(first.status);
    expect(again.body).toEqual(first.body);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect((await timeline(first.body.leadId)).filter((e) => e.type === 'captured')).toHaveLength(1);
  });

  it('answers 422 when the key comes back with a different body', async () => {
    const key = randomUUID();
    const email = uniqueEmail('idem2');
    expect((await service.request('POST', '/leads', { body: { email, source: 'chat' }, headers: { 'idempotency-key': key } })).status).toBe(
      202,
    );
    const reused = await service.request('POST', '/leads', { body: { email, source: 'referral' }, headers: { 'idempotency-key': key } });
    expect(reused.status).toBe(422);
    expect(reused.body.error.code).toBe('idempotency_key_reused');
  });

  it('scopes keys to the API key that used them', async () => {
    const key = randomUUID();
    const body = { email: uniqueEmail('scope'), source: 'chat' };
    await service.request('POST', '/leads', { body, headers: { 'idempotency-key': key } });
    const other = await service.request('POST', `/leads/${leadIdFor(body.email)}/activities`, {
      key: 'ops-dev',
      body: { type: 'opened_email' },
      headers: { 'idempotency-key': key },
    });
    expect(other.status).not.toBe(422);
  });
});

describe('POST /leads/{id}/activities', () => {
  it('records the same eventId once', async () => {
    const { leadId } = await capture({ email: uniqueEmail('events'), source: 'newsletter' });
    await settled(leadId, 'captured', 1);
    const eventId = `evt-${randomUUID()}`;
    const answers = await Promise.all([1, 2, 3].map(() => report(leadId, 'visited_pricing_page', { eventId })));
    expect(answers.map((a) => a.status)).toEqual([202, 202, 202]);
    await report(leadId, 'clicked_email_link'); // a later event, so we know the duplicates were handled
    const lead = await settled(leadId, 'activity', 2);
    expect(lead.score).toBe(25);
    expect((await timeline(leadId)).filter((e) => e.data.eventId === eventId)).toHaveLength(1);
  });

  it('rejects an unknown type (400 naming the field), an unknown lead (404), a closed lead (409 naming its status)', async () => {
    const { leadId } = await capture({ email: uniqueEmail('acts'), source: 'newsletter' });
    await settled(leadId, 'captured', 1);
    const unknownType = await report(leadId, 'sneezed' as EngagementType);
    expect(unknownType.status).toBe(400);
    expect(unknownType.body.error.details).toContainEqual({ path: 'type', message: expect.any(String) });

    const unknownLead = await report(leadIdFor(uniqueEmail()), 'opened_email');
    expect(unknownLead.status).toBe(404);
    expect(unknownLead.body.error.code).toBe('not_found');

    expect((await service.request('POST', `/leads/${leadId}/disqualify`, { key: 'ops-dev', body: { reason: 'spam' } })).status).toBe(200);
    await service.client.workflow.getHandle(leadId).result(); // closed: the workflow has ended
    const closed = await report(leadId, 'opened_email');
    expect(closed.status).toBe(409);
    expect(closed.body.error).toMatchObject({ code: 'invalid_state', message: expect.stringContaining('disqualified') });
  });

  it('is open to capture and ops keys only', async () => {
    const { leadId } = await capture({ email: uniqueEmail('roles'), source: 'newsletter' });
    expect(
      (await service.request('POST', `/leads/${leadId}/activities`, { key: 'marketing-dev', body: { type: 'opened_email' } })).status,
    ).toBe(403);
  });
});

describe('consent', () => {
  it('records consent per channel timed by the service, with the time the client states, source and text, and withdraws email consent on unsubscribe (−15)', async () => {
    const sent = Date.now();
    const { leadId } = await capture({
      email: uniqueEmail('consent'),
      source: 'demo_request',
      sourceDetail: 'pricing-form',
      consent: { email: 'opted_in', phone: 'opted_out', capturedAt: '2026-11-22T10:00:00Z', text: 'Send me product news' },
    });
    const lead = await settled(leadId, 'captured', 1);
    expect(lead.consent).toEqual({ email: 'opted_in', phone: 'opted_out' });
    const changes = (await timeline(leadId)).filter((e) => e.type === 'consent_changed');
    expect(changes.map((e) => e.data)).toEqual([
      {
        channel: 'email',
        from: 'unknown',
        to: 'opted_in',
        source: 'capture:demo_request/pricing-form',
        text: 'Send me product news',
        statedAt: '2026-11-22T10:00:00Z',
      },
      {
        channel: 'phone',
        from: 'unknown',
        to: 'opted_out',
        source: 'capture:demo_request/pricing-form',
        text: 'Send me product news',
        statedAt: '2026-11-22T10:00:00Z',
      },
    ]);
    // Ordered by when the service took it, not by the date the client gives.
    expect(Date.parse(changes[0]!.at)).toBeGreaterThanOrEqual(sent - 1000);

    await report(leadId, 'unsubscribed', { occurredAt: '2026-11-23T08:00:00Z' });
    const after = await settled(leadId, 'consent_changed', 3);
    expect(after.consent).toEqual({ email: 'opted_out', phone: 'opted_out' });
    expect(after.score).toBe(35);
    const withdrawn = (await timeline(leadId)).filter((e) => e.type === 'consent_changed').at(-1)!;
    expect(withdrawn).toMatchObject({
      data: { channel: 'email', from: 'opted_in', to: 'opted_out', source: 'activity:unsubscribed', statedAt: '2026-11-23T08:00:00Z' },
    });
    expect(Date.parse(withdrawn.at)).toBeGreaterThanOrEqual(sent - 1000);
  });

  it('records no change when a later capture repeats the same consent', async () => {
    const email = uniqueEmail('consent2');
    const { leadId } = await capture({ email, source: 'newsletter', consent: { email: 'opted_in' } });
    await settled(leadId, 'captured', 1);
    await capture({ email, source: 'webinar', consent: { email: 'opted_in' } });
    await settled(leadId, 'captured', 2);
    expect((await timeline(leadId)).filter((e) => e.type === 'consent_changed')).toHaveLength(1);
  });
});
