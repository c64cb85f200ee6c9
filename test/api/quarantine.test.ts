import { randomUUID } from 'node:crypto';
import { WorkflowUpdateFailedError } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { leadIdFor } from '../support/lead-ids';
import { actionUpdates, captureSignal, engagementSignal } from '../../contracts/lead';
import type { leadWorkflow } from '../../workflows/lead/workflow';
import { eventually, startService, storedTimeline, uniqueEmail, type ServiceUnderTest } from '../support/helpers';
import { postgresProxy } from '../support/postgres-proxy';
import { captureLead } from '../support/fixtures';

/**
 * Defence in depth behind the API's validation: inputs that reach a lead's workflow
 * without the API (or past a gap in its checks) and that Postgres refuses for good are quarantined,
 * and the lead goes on. These tests send such inputs straight to the workflow, as a client of
 * Temporal could.
 */

let service: ServiceUnderTest;
beforeAll(async () => {
  service = await startService();
});
afterAll(async () => {
  await service?.close();
});

const scoreOf = async (leadId: string) => (await service.request('GET', `/leads/${leadId}`, { key: 'ops-dev' })).body.score as number;

async function capturedLead(source = 'webinar') {
  const email = uniqueEmail('quarantine');
  const { leadId } = await captureLead(service, { email, source, firstName: 'Jane', country: 'XQ' });
  await eventually(async () => expect(await scoreOf(leadId)).toEqual(expect.any(Number)));
  return { leadId, email };
}

const engagement = (type: string, extra: object = {}) => ({
  activityId: `test-${randomUUID()}`,
  type,
  receivedAt: new Date().toISOString(),
  actor: 'capture',
  ...extra,
});

async function opsAlerts(leadId: string) {
  return service.sql<{ kind: string; recipient: string; message: string; data: any }[]>`
    SELECT kind, recipient, message, data FROM notifications WHERE lead_id = ${leadId} AND kind = 'rejected_input'`;
}

/** A normal engagement event through the API is still applied: the score moves. */
async function stillApplies(leadId: string) {
  const before = await scoreOf(leadId);
  const answer = await service.request('POST', `/leads/${leadId}/activities`, { body: { type: 'visited_pricing_page' } });
  expect(answer.status).toBe(202);
  await eventually(async () => expect(await scoreOf(leadId)).toBe(before + 15));
}

describe('an input Postgres refuses for good', () => {
  it('quarantines a capture with a NUL byte and keeps none of it; the lead goes on', async () => {
    const { leadId, email } = await capturedLead();
    await service.client.workflow.getHandle(leadId).signal(captureSignal, {
      captureId: `bad-${randomUUID()}`,
      receivedAt: new Date().toISOString(),
      // Merged into empty fields only: the NUL byte in lastName would be written, the company with it.
      capture: { email, source: 'webinar', lastName: 'Do\u0000e', company: 'Null Byte Inc' },
    });
    const rejected = await eventually(async () => {
      const events = (await storedTimeline(service.sql, leadId)).filter((e) => e.type === 'rejected_input');
      expect(events).toHaveLength(1);
      return events[0]!;
    });
    expect(rejected.data).toMatchObject({ input: 'capture' });
    expect(rejected.data.reason).toMatch(/SQLSTATE 22/);
    const [alert] = await opsAlerts(leadId);
    expect(alert).toMatchObject({ recipient: 'ops', data: { input: 'capture' } });
    expect(alert!.message).not.toContain(email);
    // Nothing of the refused capture was kept: not even its valid fields.
    const lead = (await service.request('GET', `/leads/${leadId}`, { key: 'ops-dev' })).body;
    expect(lead.firstName).toBe('Jane');
    expect(lead.lastName ?? null).toBeNull();
    expect(lead.company ?? null).toBeNull();
    await stillApplies(leadId);
  });

  it('quarantines an engagement event dated in year 0 and applies the next one', async () => {
    const { leadId } = await capturedLead();
    const handle = service.client.workflow.getHandle(leadId);
    const score = await scoreOf(leadId);
    await handle.signal(engagementSignal, engagement('requested_demo', { occurredAt: '0000-01-01T00:00:00Z' }) as never);
    await eventually(async () => expect((await storedTimeline(service.sql, leadId)).map((e) => e.type)).toContain('rejected_input'));
    expect(await scoreOf(leadId)).toBe(score);
    await stillApplies(leadId);
  });

  it('answers an action whose note is refused with a rejection, leaves the lead open, and goes on', async () => {
    const { leadId } = await capturedLead();
    const handle = service.client.workflow.getHandle(leadId);
    const status = (await service.request('GET', `/leads/${leadId}`, { key: 'ops-dev' })).body.status;
    const failure = await handle
      .executeUpdate(actionUpdates.disqualify, {
        args: [{ reason: 'other', note: 'bad \u0000 note', actor: { role: 'ops' }, at: new Date().toISOString() }],
      })
      .catch((error) => error);
    expect(failure).toBeInstanceOf(WorkflowUpdateFailedError);
    expect((failure as WorkflowUpdateFailedError).cause).toMatchObject({ type: 'RejectedInput' });
    expect((await service.request('GET', `/leads/${leadId}`, { key: 'ops-dev' })).body.status).toBe(status);
    expect((await storedTimeline(service.sql, leadId)).map((e) => e.type)).not.toContain('disqualified');
    await stillApplies(leadId);
    // And a proper action still works.
    const disqualified = await service.request('POST', `/leads/${leadId}/disqualify`, { key: 'ops-dev', body: { reason: 'wrong_fit' } });
    expect(disqualified.status).toBe(200);
    expect(disqualified.body.status).toBe('disqualified');
  });

  it('alerts ops about a refused first capture, and a good capture of the same person then makes the lead', async () => {
    const email = uniqueEmail('quarantine-first');
    const leadId = leadIdFor(email);
    // Past the API's validation (a client of Temporal itself): the store refuses the year 0.
    const capture = {
      captureId: `bad-${randomUUID()}`,
      receivedAt: new Date().toISOString(),
      capture: { email, source: 'webinar', occurredAt: '0000-01-01T00:00:00Z' },
    };
    await service.client.workflow.start<typeof leadWorkflow>('leadWorkflow', {
      workflowId: leadId,
      taskQueue: service.taskQueue,
      args: [{ leadId, policy: service.policy, capture: capture as never }],
    });
    await eventually(async () => expect(await opsAlerts(leadId)).toHaveLength(1));
    expect((await service.request('GET', `/leads/${leadId}`, { key: 'ops-dev' })).status).toBe(404);
    const { status } = await service.request('POST', '/leads', { body: { email, source: 'webinar', country: 'XQ' } });
    expect(status).toBe(202);
    await eventually(async () => expect(await scoreOf(leadId)).toEqual(expect.any(Number)));
    await stillApplies(leadId);
  });
});

describe('a data store that keeps failing', () => {
  it(
    'alerts ops after the retry window, keeps the lead waiting, and applies the event once Postgres is back',
    { timeout: 180_000 },
    async () => {
      const proxy = await postgresProxy();
      const cut = await startService({
        databaseUrl: proxy.url,
        config: { dataAccess: { retryFor: 'PT3S', slowRetryFirst: 'PT1S', slowRetryMax: 'PT2S' } },
      });
      try {
        const email = uniqueEmail('outage');
        const { body } = await cut.request('POST', '/leads', { body: { email, source: 'webinar', country: 'XQ' } });
        const leadId = body.leadId as string;
        // Stored before the outage (a read right after the capture may come from the workflow).
        await eventually(async () =>
          expect(await service.sql`SELECT 1 FROM leads WHERE lead_id = ${leadId} AND score IS NOT NULL`).toHaveLength(1),
        );
        await proxy.cut();
        await cut.client.workflow.getHandle(leadId).signal(engagementSignal, engagement('visited_pricing_page') as never);
        // Past the retry window the lead's save goes on as an ordinary activity, retried by the server.
        await eventually(async () => {
          const description = await cut.client.workflow.getHandle(leadId).describe();
          expect(description.raw.pendingActivities?.map((a) => a.activityType?.name)).toContain('saveLead');
        });
        await proxy.restore();
        await eventually(async () => expect((await storedTimeline(service.sql, leadId)).map((e) => e.type)).toContain('activity'));
        // Ops hear of it as soon as the store takes writes again.
        await eventually(async () => {
          const [stalled] =
            await service.sql`SELECT recipient, data FROM notifications WHERE lead_id = ${leadId} AND kind = 'data_access_stalled'`;
          expect(stalled).toMatchObject({ recipient: 'ops', data: { activity: 'saveLead' } });
        });
        expect((await service.request('GET', `/leads/${leadId}`, { key: 'ops-dev' })).body.score).toBeGreaterThan(0);
      } finally {
        await cut.close();
        await proxy.close();
      }
    },
  );
});
