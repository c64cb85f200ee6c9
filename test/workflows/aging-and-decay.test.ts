import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { httpProvider } from '../../activities/enrichment/http';
import type { leadWorkflow } from '../../workflows/lead/workflow';
import { EnrichmentStub } from '../support/enrichment-stub';
import { serviceOn, storedTimeline, timeSkippingSuite, uniqueEmail, type InProcessService } from '../support/helpers';
import { salesReadyDemoRequests } from '../support/fixtures';

// Months pass in seconds on the time-skipping test server; skipped time is global to it, so these run serially.
// Sales-ready leads here may wait months in the unassigned queue: a daily retry keeps that cheap.
const suite = timeSkippingSuite('aging', { config: { routing: { unassignedRetryMax: 'P1D' } } });
const day = 24 * 60 * 60 * 1000;

/** Captures through `via` (the file's service unless a test runs its own) and ends the lead after the test. */
async function capture(email: string, source = 'contact_form', fields: Record<string, unknown> = {}, via = suite.service) {
  const response = await via.request('POST', '/leads', { email, source, ...fields });
  expect(response.status).toBe(202);
  const body = response.body as { leadId: string; duplicate: boolean; status: string };
  suite.started.push(body.leadId);
  return body;
}

const events = (leadId: string) => storedTimeline(suite.sql, leadId);

describe('aging: an open lead with no activity for 90 days is closed as unresponsive', () => {
  it('closes the lead 90 days after its capture', async () => {
    const capturedAt = await suite.env.currentTimeMs();
    const { leadId } = await capture(uniqueEmail('quiet'));
    const handle = suite.env.client.workflow.getHandle<typeof leadWorkflow>(leadId);

    // result() lets the server skip ahead to the 90-day timer.
    await expect(handle.result()).resolves.toEqual({ status: 'disqualified', reason: 'unresponsive' });

    const [lead] = await suite.sql`SELECT status, status_reason FROM leads WHERE lead_id = ${leadId}`;
    expect(lead).toEqual({ status: 'disqualified', status_reason: 'unresponsive' });
    const timeline = await events(leadId);
    const closed = timeline.find((e) => e.type === 'status_changed' && e.data.status === 'disqualified')!;
    expect(closed.data).toMatchObject({ status: 'disqualified', reason: 'unresponsive' });
    // Timeline times of the workflow's own steps come from the workflow clock, which the server skipped.
    expect((closed.at.getTime() - capturedAt) / day).toBeCloseTo(90, 1);
  });

  it('restarts the 90 days at every new capture', async () => {
    const email = uniqueEmail('engaged');
    const capturedAt = await suite.env.currentTimeMs();
    const { leadId } = await capture(email);
    const handle = suite.env.client.workflow.getHandle<typeof leadWorkflow>(leadId);
    await suite.sleep('60 days');
    const again = await capture(email, 'webinar');
    expect(again).toMatchObject({ leadId, duplicate: true });
    await suite.sleep('45 days'); // 105 days after the first capture, 45 after the second
    expect((await handle.describe()).status.name).toBe('RUNNING');

    await expect(handle.result()).resolves.toEqual({ status: 'disqualified', reason: 'unresponsive' });
    const timeline = await events(leadId);
    expect(timeline.filter((e) => e.type === 'captured')).toHaveLength(2);
    const closedAt = timeline.find((e) => e.type === 'status_changed' && e.data.status === 'disqualified')!.at.getTime();
    expect((closedAt - capturedAt) / day).toBeCloseTo(150, 1);
  });

  it('reactivates a closed lead when the person is captured again, keeping its history', async () => {
    const email = uniqueEmail('returning');
    const { leadId } = await capture(email);
    const firstRun = suite.env.client.workflow.getHandle<typeof leadWorkflow>(leadId);
    const firstRunId = (await firstRun.describe()).runId;
    await firstRun.result();

    const again = await capture(email, 'demo_request');
    expect(again).toEqual({ leadId, duplicate: false, status: 'new' });
    const secondRun = await suite.env.client.workflow.getHandle(leadId).describe();
    expect(secondRun.status.name).toBe('RUNNING');
    expect(secondRun.runId).not.toBe(firstRunId);

    // Scored again on everything known: the earlier contact form (+20, rules fire once per lead) and the demo request (+50).
    await expect
      .poll(async () => (await suite.sql`SELECT status, score FROM leads WHERE lead_id = ${leadId}`)[0])
      .toEqual({ status: 'mql', score: 70 });
    const timeline = await events(leadId);
    const milestones = timeline
      .filter((e) => e.type === 'captured' || e.type === 'reactivated' || e.data.status === 'disqualified')
      .map((e) => (e.type === 'status_changed' ? `closed:${e.data.reason}` : e.type));
    expect(milestones).toEqual(['captured', 'closed:unresponsive', 'reactivated', 'captured']);
    expect(timeline.find((e) => e.type === 'reactivated')!.data).toEqual({ previousStatus: 'disqualified' });
  });
});

describe('decay: no engagement for 30+ days costs 10 points, 90+ days 30 in total; new engagement clears it', () => {
  it('lowers the score at 30 days, restores it on engagement, and keeps a routed lead routed', async () => {
    // acme.io in the enrichment dataset: software (+15), 250 employees (+5), US (+15), uses Salesforce (+10).
    const { leadId } = await capture(`decay.${randomUUID().slice(0, 8)}@acme.io`, 'contact_form'); // +20
    const scoreNow = async () =>
      (await suite.sql<{ score: number; status: string }[]>`SELECT score, status FROM leads WHERE lead_id = ${leadId}`)[0];
    await expect.poll(scoreNow).toEqual({ score: 65, status: 'mql' });

    await suite.sleep('29 days');
    expect(await scoreNow()).toEqual({ score: 65, status: 'mql' });
    await suite.sleep('2 days');
    expect(await scoreNow()).toEqual({ score: 55, status: 'mql' });

    const response = await suite.service.request('POST', `/leads/${leadId}/activities`, { type: 'clicked_email_link' }); // +10, and decay is gone
    expect(response.status).toBe(202);
    await expect.poll(scoreNow).toEqual({ score: 75, status: 'sql' });

    await suite.sleep('31 days');
    // Decay is recorded, but once sales-ready the band no longer moves the lead.
    expect(await scoreNow()).toEqual({ score: 65, status: 'sql' });
    const decayed = (await events(leadId)).filter((e) => e.type === 'score_changed' && e.data.reason === 'time since last engagement');
    expect(decayed.map((e) => e.data.score)).toEqual([55, 65]);
    expect(decayed[0]!.data.breakdown).toContainEqual({ rule: 'decay', points: -10, reason: 'no engagement for P30D or more' });
  });

  it('takes 30 points in total after 90 days, when the idle lead is also closed', async () => {
    const { leadId } = await capture(`decay90.${randomUUID().slice(0, 8)}@acme.io`, 'webinar'); // +30 +45 = 75
    const handle = suite.env.client.workflow.getHandle<typeof leadWorkflow>(leadId);
    await expect(handle.result()).resolves.toEqual({ status: 'disqualified', reason: 'unresponsive' });
    const [lead] = await suite.sql`SELECT score, score_breakdown FROM leads WHERE lead_id = ${leadId}`;
    expect(lead!.score).toBe(45);
    expect(lead!.score_breakdown).toContainEqual({ rule: 'decay', points: -30, reason: 'no engagement for P90D or more' });
  });
});

describe('re-enrichment: a lead whose enrichment failed is enriched again later', () => {
  let stub: EnrichmentStub;
  let httpService: InProcessService;

  beforeAll(async () => {
    stub = await new EnrichmentStub().start();
    httpService = await serviceOn(suite.env, suite.sql, {
      name: 'reenrich',
      config: { enrichment: { provider: 'http', retryAfter: 'PT1H', http: { url: stub.url, timeout: 'PT0.5S', retries: 0 } } },
      enrichment: httpProvider({ url: stub.url, timeout: 'PT0.5S', retries: 0 }),
    });
  });
  afterAll(async () => {
    await httpService?.stop();
    await stub?.stop();
  });

  it('retries after retryAfter and re-scores with what it learns', async () => {
    stub.on('recovering.test', {
      kind: 'flaky',
      times: 1,
      body: { companyName: 'Recovering', industry: 'saas', employees: 800, country: 'CA' },
    });
    const { leadId } = await capture(`ops.${randomUUID().slice(0, 8)}@recovering.test`, 'demo_request', {}, httpService);
    const lead = async () =>
      (
        await suite.sql<
          { enrichment: string; score: number; company: string | null }[]
        >`SELECT enrichment, score, company FROM leads WHERE lead_id = ${leadId}`
      )[0];
    await expect.poll(lead).toEqual({ enrichment: 'failed', score: 50, company: null });

    await suite.sleep('59 minutes');
    expect(stub.countFor('recovering.test')).toBe(1);
    await suite.sleep('2 minutes');
    // saas +15, 800 employees +5, Canada +15
    await expect.poll(lead).toEqual({ enrichment: 'enriched', score: 85, company: 'Recovering' });
    expect(stub.countFor('recovering.test')).toBe(2);
    const types = (await events(leadId)).map((e) => e.type).filter((t) => t.startsWith('enrich'));
    expect(types).toEqual(['enrichment_failed', 'enriched']);
  });
});

describe('bounded history: continue-as-new carries the lead intact', () => {
  it('splits a long wait into runs under the event limit, keeping score, routing and history', async () => {
    // Leads from this made-up country find no team: they wait in the unassigned queue, retrying every few hours.
    const small = await suite.serviceFor('history', {
      history: { maxEventsPerRun: 60 },
      ...salesReadyDemoRequests,
      routing: { unassignedRetryMax: 'PT4H' },
    });
    const email = `long.${randomUUID().slice(0, 8)}@waiting-${randomUUID().slice(0, 6)}.com`;
    const { leadId } = await capture(email, 'demo_request', { country: 'XH', title: 'Founder' }, small);
    await expect.poll(async () => (await suite.sql`SELECT status FROM leads WHERE lead_id = ${leadId}`)[0]?.status).toBe('sql');
    const current = suite.env.client.workflow.getHandle(leadId);
    const firstRunId = (await current.describe()).runId;
    await suite.sleep('10 days'); // ~60 retries: several runs' worth of events

    const description = await current.describe();
    expect(description.status.name).toBe('RUNNING');
    expect(description.runId).not.toBe(firstRunId);
    expect(description.historyLength).toBeLessThanOrEqual(60 + 20);
    const state = await current.query<{ lead: { status: string; score: { score: number }; routing: { ownerId: null; reason: string } } }>(
      'leadState',
    );
    expect(state.lead).toMatchObject({ status: 'sql', score: { score: 60 }, routing: { ownerId: null, reason: 'no team covers XH, smb' } });
    // Still retrying after the hand-overs, and still answering: a team now picks it up.
    const suffix = randomUUID().slice(0, 6);
    await suite.sql`INSERT INTO teams (id, name, countries, business_hours) VALUES (${`team-${suffix}`}, 'Late team', ${['XH']}, ${suite.sql.json({ timeZone: 'UTC', days: [1, 2, 3, 4, 5, 6, 7], start: '00:00', end: '24:00' })})`;
    await suite.sql`INSERT INTO reps (id, name, email, team_id) VALUES (${`rep-${suffix}`}, 'Late', 'late@example.com', ${`team-${suffix}`})`;
    await suite.sleep('5 hours');
    await expect
      .poll(async () => (await suite.sql`SELECT owner_id FROM leads WHERE lead_id = ${leadId}`)[0]?.owner_id)
      .toBe(`rep-${suffix}`);
    expect((await events(leadId)).filter((e) => e.type === 'captured')).toHaveLength(1);
  }, 180_000); // hundreds of workflow tasks: slow when the other files' servers share the two cores
});
