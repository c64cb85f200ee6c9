import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, startService, storedTimeline, type ServiceUnderTest } from '../support/helpers';
import { postgresProxy } from '../support/postgres-proxy';

/**
 * The API answers captures from the lead's workflow, not from the read model. After a 202
 * the capture is the workflow's: an event sent next is applied to the lead, a read finds it, and
 * neither depends on Postgres having caught up (or being up).
 */

let service: ServiceUnderTest;
beforeAll(async () => {
  service = await startService();
});
afterAll(async () => {
  await service?.close();
});

const asOps = { key: 'ops-dev' };
/** A business address at a domain the dataset does not know, no country: a content download scores 10. */
const person = () => `edge.${randomUUID().slice(0, 8)}@unlisted-${randomUUID().slice(0, 6)}.com`;

describe('right after the capture is answered', () => {
  it('applies an engagement event sent at once: it is not lost, and it counts in the score', async () => {
    const captured = await service.request('POST', '/leads', { body: { email: person(), source: 'content_download' } });
    expect(captured.status).toBe(202);
    const { leadId } = captured.body;
    const event = await service.request('POST', `/leads/${leadId}/activities`, { body: { type: 'visited_pricing_page' } });
    expect(event.status).toBe(202);
    // Downloaded content +10, pricing page +15.
    await eventually(async () => expect((await service.request('GET', `/leads/${leadId}`, asOps)).body.score).toBe(25));
    const types = (await service.request('GET', `/leads/${leadId}/timeline`, asOps)).body.events.map((e: { type: string }) => e.type);
    expect(types.filter((t: string) => t === 'activity')).toHaveLength(1);
  });

  it('reads the lead and its timeline at once, with that capture in them, and never a timeline ahead of the lead', async () => {
    const email = person();
    const captured = await service.request('POST', '/leads', {
      body: { email, source: 'webinar', firstName: 'Ada', company: 'Edge Works' },
    });
    expect(captured.status).toBe(202);
    expect(captured.body).toMatchObject({ duplicate: false, status: 'new' });
    const { leadId } = captured.body;
    const [lead, timeline] = await Promise.all([
      service.request('GET', `/leads/${leadId}`, asOps),
      service.request('GET', `/leads/${leadId}/timeline`, asOps),
    ]);
    expect(lead.status).toBe(200);
    expect(lead.body).toMatchObject({ leadId, email, firstName: 'Ada', company: 'Edge Works', source: 'webinar' });
    expect(timeline.status).toBe(200);
    expect(timeline.body.events).toContainEqual(
      expect.objectContaining({ type: 'captured', data: expect.objectContaining({ source: 'webinar' }) }),
    );
    // Read in that order, the timeline is never older than the lead: once it shows the capture scored, so does the lead.
    const settled = await eventually(async () => {
      const events = (await service.request('GET', `/leads/${leadId}/timeline`, asOps)).body.events as { type: string }[];
      expect(events.map((e) => e.type)).toContain('score_changed');
      return (await service.request('GET', `/leads/${leadId}`, asOps)).body;
    });
    expect(settled.score).toBe(30);
  });

  it('records every event answered 202 while the lead closes, none after', async () => {
    const { leadId } = (await service.request('POST', '/leads', { body: { email: person(), source: 'content_download' } })).body;
    await eventually(async () => expect((await service.request('GET', `/leads/${leadId}`, asOps)).body.score).toBe(10));
    const events = Array.from({ length: 12 }, (_, i) => `closing-${i}-${randomUUID().slice(0, 6)}`);
    const [disqualified, ...answers] = await Promise.all([
      service.request('POST', `/leads/${leadId}/disqualify`, { key: 'ops-dev', body: { reason: 'wrong_fit' } }),
      ...events.map(async (eventId, i) => {
        await new Promise((resolve) => setTimeout(resolve, i * 15)); // spread over the closing
        return service.request('POST', `/leads/${leadId}/activities`, { body: { type: 'clicked_email_link', eventId } });
      }),
    ]);
    expect(disqualified!.status).toBe(200);
    expect(answers.every((a) => a.status === 202 || a.status === 409)).toBe(true);
    await service.client.workflow.getHandle(leadId).result();
    const recorded = new Set((await storedTimeline(service.sql, leadId)).filter((e) => e.type === 'activity').map((e) => e.data.eventId));
    const accepted = events.filter((_, i) => answers[i]!.status === 202);
    expect([...recorded].sort()).toEqual([...accepted].sort());
    // Once closed, an event is refused, naming the status.
    const late = await service.request('POST', `/leads/${leadId}/activities`, { body: { type: 'clicked_email_link' } });
    expect(late.status).toBe(409);
    expect(late.body.error.message).toContain('disqualified');
  });
});

describe('while Postgres is unreachable', () => {
  it(
    'accepts a capture (202 from the workflow), answers reads 503 with Retry-After, and stores and scores the lead once Postgres is back',
    { timeout: 120_000 },
    async () => {
      const proxy = await postgresProxy();
      const cut = await startService({ databaseUrl: proxy.url });
      try {
        const email = person();
        await proxy.cut();
        const started = Date.now();
        const captured = await cut.request('POST', '/leads', { body: { email, source: 'content_download', firstName: 'Grace' } });
        expect(captured.status).toBe(202);
        expect(captured.body).toMatchObject({ duplicate: false, status: 'new' });
        const { leadId } = captured.body;
        // Another capture of the person and an engagement event, to the lead that waits for Postgres.
        const again = await cut.request('POST', '/leads', { body: { email, source: 'webinar' } });
        expect(again.body).toMatchObject({ leadId, duplicate: true });
        expect((await cut.request('POST', `/leads/${leadId}/activities`, { body: { type: 'visited_pricing_page' } })).status).toBe(202);
        // Not waiting for Postgres: answered within a few seconds on a loaded machine (the data access retries for minutes).
        expect(Date.now() - started).toBeLessThan(10_000);

        // Reads through the cut connection: 503, retry later.
        const read = await cut.request('GET', `/leads/${leadId}`, asOps);
        expect(read.status).toBe(503);
        expect(read.body.error.code).toBe('unavailable');
        expect(Number(read.headers.get('retry-after'))).toBeGreaterThan(0);
        // A capture with an Idempotency-Key needs Postgres for the key: 503, and the client retries it.
        const keyed = await cut.request('POST', '/leads', {
          body: { email, source: 'chat' },
          headers: { 'idempotency-key': randomUUID() },
        });
        expect(keyed.status).toBe(503);
        expect(keyed.headers.get('retry-after')).toBeTruthy();
        // An API that reaches Postgres reads the lead from its workflow meanwhile: no row yet.
        expect((await service.sql`SELECT 1 FROM leads WHERE lead_id = ${leadId}`).length).toBe(0);
        const fromWorkflow = await service.request('GET', `/leads/${leadId}`, asOps);
        expect(fromWorkflow.status).toBe(200);
        expect(fromWorkflow.body).toMatchObject({ leadId, email, firstName: 'Grace' });
        const pending = (await service.request('GET', `/leads/${leadId}/timeline`, asOps)).body.events as { type: string }[];
        expect(pending.filter((e) => e.type === 'captured')).toHaveLength(2);

        await proxy.restore();
        // Content download +10, webinar +30, pricing page +15: everything taken during the outage is applied once.
        await eventually(async () => expect((await service.request('GET', `/leads/${leadId}`, asOps)).body.score).toBe(55));
        const stored = await storedTimeline(service.sql, leadId);
        expect(stored.filter((e) => e.type === 'captured')).toHaveLength(2);
        expect(stored.filter((e) => e.type === 'activity')).toHaveLength(1);
        expect((await cut.request('GET', `/leads/${leadId}`, asOps)).status).toBe(200);
      } finally {
        await cut.close();
        await proxy.close();
      }
    },
  );
});
