import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { takeCapture } from '../../capture/take';
import { leadIdFor, leadIdSecret } from '../support/lead-ids';
import { retryRoutingSignal } from '../../contracts/lead';
import { eventually, startService, storedTimeline, uniqueEmail, type ServiceUnderTest } from '../support/helpers';
import { salesReadyDemoRequests } from '../support/fixtures';

// The capture path (capture/take.ts) against the real dev server, worker and Postgres: a new lead
// is a workflow start with the capture in its input, answered once the server has it; a repeat
// capture is an update that the lead's workflow answers.

let service: ServiceUnderTest;
beforeAll(async () => {
  // A demo request (+50) from a country outside the target region (−10) is sales-ready.
  service = await startService({ config: salesReadyDemoRequests });
});
afterAll(async () => {
  await service?.close();
});

const asOps = { key: 'ops-dev' };
const capturedEvents = async (leadId: string) => (await storedTimeline(service.sql, leadId)).filter((e) => e.type === 'captured');
/** The runs of a lead's workflow, from the server's visibility store. */
const runsOf = async (leadId: string) => {
  const runs: string[] = [];
  for await (const run of service.client.workflow.list({ query: `WorkflowId = "${leadId}"` })) runs.push(run.runId);
  return runs;
};
const historyOf = async (leadId: string) => (await service.client.workflow.getHandle(leadId).fetchHistory()).events ?? [];

describe('a new lead', () => {
  it('of fifty concurrent first captures of one person, exactly one makes the lead; all fifty are applied, in one run', async () => {
    const email = uniqueEmail('fifty');
    const answers = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        service.request('POST', '/leads', { body: { email, source: 'webinar', sourceDetail: `registration ${i}` } }),
      ),
    );
    expect(answers.map((a) => a.status)).toEqual(Array(50).fill(202));
    expect(answers.filter((a) => a.body.duplicate === false)).toHaveLength(1);
    expect(new Set(answers.map((a) => a.body.leadId))).toEqual(new Set([leadIdFor(email)]));
    const leadId = leadIdFor(email);
    await eventually(async () => expect(await capturedEvents(leadId)).toHaveLength(50));
    expect((await capturedEvents(leadId)).filter((e) => e.data.merged === false)).toHaveLength(1);
    await eventually(async () => expect(await runsOf(leadId)).toHaveLength(1));
  });

  it('a first capture retried with its capture id starts one run, is answered the same, and is applied once', async () => {
    const email = uniqueEmail('retried');
    const leadId = leadIdFor(email);
    const captureId = `retry-${randomUUID()}`;
    const take = () =>
      takeCapture(
        service.client,
        { taskQueue: service.taskQueue, policy: service.policy, leadIdSecret },
        { captureId, capture: { email, source: 'demo_request', country: 'XZ' } },
      );
    const first = await take();
    const retried = await take();
    expect(first).toEqual({ leadId, duplicate: false, status: 'new' });
    expect(retried).toEqual(first);
    await eventually(async () =>
      expect((await service.request('GET', `/leads/${leadId}/timeline`, asOps)).body.events.map((e: { type: string }) => e.type)).toContain(
        'unassigned',
      ),
    );
    // Also once the run has applied it: the server knows the start's request id for as long as that run runs.
    expect(await take()).toEqual(first);
    await eventually(async () => expect(await runsOf(leadId)).toHaveLength(1));
    expect(await capturedEvents(leadId)).toHaveLength(1);
  });

  it('captures are answered while the only worker is stopped, and applied once it returns', async () => {
    const emails = Array.from({ length: 10 }, (_, i) => uniqueEmail(`no-worker-${i}`));
    const first = await service.request('POST', '/leads', { body: { email: emails[0], source: 'content_download' } });
    expect(first.status).toBe(202);
    await eventually(async () => expect((await service.request('GET', `/leads/${first.body.leadId}`, asOps)).status).toBe(200));
    let answers: { status: number; body: any }[] = [];
    await service.restartWorker(async () => {
      answers = await Promise.all([
        ...emails.slice(1).map((email) => service.request('POST', '/leads', { body: { email, source: 'content_download' } })),
        // A repeat capture of a running lead: its workflow cannot answer, so it is signalled and answered a duplicate.
        service.request('POST', '/leads', { body: { email: emails[0], source: 'webinar' } }),
      ]);
    });
    expect(answers.map((a) => a.status)).toEqual(Array(10).fill(202));
    expect(answers.slice(0, 9).every((a) => a.body.duplicate === false && a.body.status === 'new')).toBe(true);
    expect(answers[9]!.body).toMatchObject({ leadId: first.body.leadId, duplicate: true });
    for (const email of emails.slice(1)) await eventually(async () => expect(await capturedEvents(leadIdFor(email))).toHaveLength(1));
    await eventually(async () => expect(await capturedEvents(first.body.leadId)).toHaveLength(2));
  });
});

describe('wake-ups of a lead in the unassigned queue', () => {
  it('a hundred queued wake-ups cause one routing attempt', async () => {
    // No team covers XZ: the demo request waits in the unassigned queue.
    const email = uniqueEmail('woken');
    const { body } = await service.request('POST', '/leads', { body: { email, source: 'demo_request', country: 'XZ' } });
    const leadId = body.leadId as string;
    const attempts = async () => (await service.sql`SELECT routing_key FROM routing_decisions WHERE lead_id = ${leadId}`).length;
    await eventually(async () => expect(await attempts()).toBe(1));
    await service.restartWorker(async () => {
      const handle = service.client.workflow.getHandle(leadId);
      await Promise.all(Array.from({ length: 100 }, () => handle.signal(retryRoutingSignal)));
    });
    // All hundred delivered and a workflow task completed after the last of them.
    await eventually(async () => {
      const events = await historyOf(leadId);
      const lastSignal = events.map((e) => Boolean(e.workflowExecutionSignaledEventAttributes)).lastIndexOf(true);
      expect(events.filter((e) => e.workflowExecutionSignaledEventAttributes)).toHaveLength(100);
      expect(events.slice(lastSignal).some((e) => e.workflowTaskCompletedEventAttributes)).toBe(true);
    });
    expect(await attempts()).toBe(2);
  });
});
