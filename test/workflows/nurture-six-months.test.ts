import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { leadWorkflow } from '../../workflows/lead/workflow';
import { storedTimeline, timeSkippingSuite, uniqueEmail } from '../support/helpers';

// Nurture over months on the time-skipping server. The file has a database of its own: it publishes
// versions of the real cadences, which leads in other test files must not be enrolled on.
const suite = timeSkippingSuite('nurture', { ownDatabase: true });
const day = 24 * 60 * 60 * 1000;

const call = async (method: string, path: string, body: unknown, key = 'capture-dev') => {
  const response = await suite.service.request(method, path, body, key);
  expect(response.status, JSON.stringify(response.body)).toBeLessThan(300);
  return response.body;
};

/**
 * An mql lead that stays mql through decay: demo request +50, US +15, 250 employees +5 = 70
 * (−10 after 30 quiet days, −30 after 90: never below 40). Opted in to email unless told otherwise.
 */
async function captureMql(consent: 'opted_in' | 'unknown' = 'opted_in', extra: Record<string, unknown> = {}) {
  const email = uniqueEmail('nurtured');
  const { leadId } = await call('POST', '/leads', {
    email,
    source: 'demo_request',
    country: 'US',
    employees: 250,
    consent: { email: consent },
    ...extra,
  });
  suite.started.push(leadId);
  await expect.poll(async () => (await lead(leadId))?.cadence?.step, { timeout: 20_000 }).toBe(0);
  return { leadId: leadId as string, email };
}

const lead = async (leadId: string) => (await suite.service.request('GET', `/leads/${leadId}`, undefined, 'ops-dev')).body;
const timeline = (leadId: string) => storedTimeline(suite.sql, leadId);
const ofType = async (leadId: string, type: string) => (await timeline(leadId)).filter((e) => e.type === type);
const touchesSent = (leadId: string, kind: string) =>
  suite.sql<
    { recipient: string; data: any }[]
  >`SELECT recipient, data FROM notifications WHERE lead_id = ${leadId} AND kind = ${kind} ORDER BY id`;
const days = (from: Date | string, to: Date | string) => (new Date(to).getTime() - new Date(from).getTime()) / day;

/** Publishes a version of a cadence whose templates are tagged with `tag`. */
async function publish(name: string, tag: string, migrate: 'pinned' | 'next_step', afters = ['P3D', 'P7D', 'P14D', 'P14D']) {
  const steps = afters.map((after, i) => ({ after, channel: 'email', template: `${tag}/${i + 1}` }));
  return call('POST', `/cadences/${name}/versions`, { steps, migrate }, 'marketing-dev') as Promise<{ version: number }>;
}

describe('mql-nurture: six months of steps at their scheduled offsets, then recycling and archiving', () => {
  it('sends the ten default steps on schedule, recycles the exhausted lead, re-engages it at 30/60/90 days and archives it', async () => {
    const { leadId, email } = await captureMql();
    const [enrolled] = await ofType(leadId, 'cadence_enrolled');
    expect(enrolled!.data).toMatchObject({ cadence: 'mql-nurture', version: 1, steps: 10 });

    await suite.sleep('181 days');
    const steps = await ofType(leadId, 'cadence_step');
    // The default cadence (config/defaults.json): 3, 7, 14, 14, 21, 21, 21, 21, 28 and 30 days apart.
    const offsets = [3, 10, 24, 38, 59, 80, 101, 122, 150, 180];
    expect(steps.map((s) => days(enrolled!.at, s.data.dueAt))).toEqual(offsets);
    for (const step of steps) expect(Math.abs(step.at.getTime() - Date.parse(step.data.dueAt))).toBeLessThan(60_000);
    expect(steps.map((s) => [s.data.step, s.data.sent])).toEqual(offsets.map((_, i) => [i + 1, true]));
    // Each step went to the outbox, addressed to the lead, with its template.
    const sent = await touchesSent(leadId, 'cadence_step');
    expect(sent.map((n) => n.recipient)).toEqual(offsets.map(() => email));
    expect(sent[0]!.data).toMatchObject({
      cadence: 'mql-nurture',
      version: 1,
      step: 1,
      template: 'mql-nurture/01-welcome',
      channel: 'email',
    });
    expect(sent[9]!.data.template).toBe('mql-nurture/10-talk-to-sales');

    // Exhausted: recycled, never left idle in the cadence.
    const recycledAt = (await ofType(leadId, 'recycled'))[0]!;
    expect(recycledAt.data).toMatchObject({ reason: 'no_response', by: 'system' });
    expect(days(enrolled!.at, recycledAt.at)).toBeCloseTo(180, 2);
    expect(await lead(leadId)).toMatchObject({ status: 'recycled', statusReason: 'no_response', cadence: null });

    // Re-engagement at 30, 60 and 90 days after recycling, then archived as unresponsive.
    const handle = suite.env.client.workflow.getHandle<typeof leadWorkflow>(leadId);
    await expect(handle.result()).resolves.toEqual({ status: 'archived', reason: 'unresponsive' });
    const reengagements = await ofType(leadId, 'reengagement');
    expect(reengagements.map((r) => Math.round(days(recycledAt.at, r.at)))).toEqual([30, 60, 90]);
    expect(reengagements.every((r) => r.data.sent)).toBe(true);
    expect((await touchesSent(leadId, 'reengagement')).map((n) => n.data.template)).toEqual([
      'recycled-checkin-30d',
      'recycled-checkin-60d',
      'recycled-last-call-90d',
    ]);
    const archived = (await ofType(leadId, 'status_changed')).at(-1)!;
    expect(archived.data).toMatchObject({ status: 'archived', previous: 'recycled', reason: 'unresponsive' });
    expect(days(recycledAt.at, archived.at)).toBeCloseTo(90, 2);

    // A new capture reactivates the archived lead: a new run, nurtured again.
    const again = await call('POST', '/leads', { email, source: 'newsletter' });
    expect(again).toMatchObject({ leadId, duplicate: false }); // not merged into an open lead: a new run
    await expect.poll(async () => (await lead(leadId)).cadence?.name, { timeout: 20_000 }).toBe('mql-nurture');
    expect((await ofType(leadId, 'reactivated')).map((e) => e.data.previousStatus)).toEqual(['archived']);
  });

  it('re-scores on engagement and routes a lead that crosses 75, leaving the cadence', async () => {
    const suffix = randomUUID().slice(0, 6);
    await call(
      'POST',
      '/teams',
      {
        id: `team-${suffix}`,
        name: 'US',
        countries: ['US'],
        businessHours: { timeZone: 'UTC', days: [1, 2, 3, 4, 5, 6, 7], start: '00:00', end: '24:00' },
      },
      'ops-dev',
    );
    const rep = await call(
      'POST',
      '/reps',
      { id: `rep-${suffix}`, name: 'Rep', email: `rep-${suffix}@example.com`, teamId: `team-${suffix}` },
      'ops-dev',
    );
    const { leadId } = await captureMql();
    await suite.sleep('11 days'); // two steps
    await call('POST', `/leads/${leadId}/activities`, { type: 'visited_pricing_page' }); // +15 = 85

    await expect.poll(async () => (await lead(leadId)).status, { timeout: 20_000 }).toBe('sql');
    expect(await lead(leadId)).toMatchObject({ score: 85, ownerId: `rep-${suffix}`, cadence: null });
    expect((await ofType(leadId, 'cadence_exited'))[0]!.data).toMatchObject({ cadence: 'mql-nurture', step: 2, reason: 'lead is sql' });
    // The rep has it now (accepting stops the SLA ladder); no further nurture steps.
    await call('POST', `/leads/${leadId}/accept`, {}, rep.apiKey);
    await suite.sleep('20 days');
    expect(await ofType(leadId, 'cadence_step')).toHaveLength(2);
  });
});

describe('marketing-pool and band moves', () => {
  it('nurtures a not-ready lead monthly in marketing-pool', async () => {
    // Newsletter, US +15: not ready.
    const { leadId } = await call('POST', '/leads', {
      email: uniqueEmail('pool'),
      source: 'newsletter',
      country: 'US',
      consent: { email: 'opted_in' },
    });
    suite.started.push(leadId);
    await expect
      .poll(async () => (await lead(leadId))?.cadence, { timeout: 20_000 })
      .toMatchObject({ name: 'marketing-pool', version: 1, step: 0 });
    const [enrolled] = await ofType(leadId, 'cadence_enrolled');
    await suite.sleep('61 days');
    const steps = await ofType(leadId, 'cadence_step');
    expect(steps.map((s) => [days(enrolled!.at, s.data.dueAt), s.data.template, s.data.sent])).toEqual([
      [30, 'marketing-pool/newsletter-01', true],
      [60, 'marketing-pool/newsletter-02', true],
    ]);
    expect(await lead(leadId)).toMatchObject({ status: 'not_ready', cadence: { name: 'marketing-pool', step: 2 } });
  });

  it('moves a lead that decays below 40 from mql-nurture to marketing-pool', async () => {
    // Webinar +30, US +15 = 45: mql until 30 quiet days take 10 points.
    const { leadId } = await call('POST', '/leads', {
      email: uniqueEmail('cooling'),
      source: 'webinar',
      country: 'US',
      consent: { email: 'opted_in' },
    });
    suite.started.push(leadId);
    await expect.poll(async () => (await lead(leadId))?.cadence?.name, { timeout: 20_000 }).toBe('mql-nurture');
    await suite.sleep('31 days');
    expect(await lead(leadId)).toMatchObject({ status: 'not_ready', score: 35, cadence: { name: 'marketing-pool', step: 0 } });
    const moves = (await timeline(leadId)).filter((e) => e.type.startsWith('cadence_') && e.type !== 'cadence_step');
    expect(moves.map((e) => [e.type, e.data.cadence])).toEqual([
      ['cadence_enrolled', 'mql-nurture'],
      ['cadence_exited', 'mql-nurture'],
      ['cadence_enrolled', 'marketing-pool'],
    ]);
    expect((await ofType(leadId, 'cadence_step')).map((s) => s.data.step)).toEqual([1, 2, 3]); // days 3, 10, 24 of mql-nurture
  });
});

describe('consent: steps honour it', () => {
  it('sends no email step after the lead unsubscribes mid-cadence', async () => {
    const { leadId } = await captureMql();
    await suite.sleep('11 days'); // steps 1 (day 3) and 2 (day 10)
    await call('POST', `/leads/${leadId}/activities`, { type: 'unsubscribed' });
    await expect.poll(async () => (await lead(leadId)).consent.email, { timeout: 20_000 }).toBe('opted_out');
    await suite.sleep('30 days'); // steps 3 (day 24) and 4 (day 38) come due

    const steps = await ofType(leadId, 'cadence_step');
    expect(steps.map((s) => [s.data.step, s.data.sent, s.data.skipped])).toEqual([
      [1, true, null],
      [2, true, null],
      [3, false, 'email consent is opted_out'],
      [4, false, 'email consent is opted_out'],
    ]);
    expect(await touchesSent(leadId, 'cadence_step')).toHaveLength(2);
    expect((await lead(leadId)).cadence).toMatchObject({ name: 'mql-nurture', step: 4 });
  });

  it('sends nothing to a lead that never opted in', async () => {
    const { leadId } = await captureMql('unknown');
    await suite.sleep('11 days');
    expect((await ofType(leadId, 'cadence_step')).map((s) => s.data.skipped)).toEqual([
      'email consent is unknown',
      'email consent is unknown',
    ]);
    expect(await touchesSent(leadId, 'cadence_step')).toHaveLength(0);
  });
});

describe('versioned cadences: pinned leads keep their version; next_step moves them at their next step', () => {
  it('keeps v1 for a lead enrolled on it, gives v2 to a new lead, and moves both to a next_step version at their next step', async () => {
    const name = 'mql-nurture';
    const { version: v1 } = await publish(name, 'first', 'pinned');
    const early = await captureMql();
    expect((await lead(early.leadId)).cadence).toMatchObject({ name, version: v1, step: 0 });

    const { version: v2 } = await publish(name, 'second', 'pinned', ['P1D', 'P2D', 'P2D', 'P2D']);
    const late = await captureMql();
    expect((await lead(late.leadId)).cadence).toMatchObject({ name, version: v2, step: 0 });
    const search = async (leadId: string) => (await suite.env.client.workflow.getHandle(leadId).describe()).searchAttributes.CadenceVersion;
    expect(await search(early.leadId)).toEqual([`${name}@${v1}`]);
    expect(await search(late.leadId)).toEqual([`${name}@${v2}`]);

    await suite.sleep('4 days'); // early: step 1 of v1 (day 3); late: steps 1 and 2 of v2 (days 1, 3)
    const templates = async (leadId: string) => (await ofType(leadId, 'cadence_step')).map((s) => [s.data.version, s.data.template]);
    expect(await templates(early.leadId)).toEqual([[v1, 'first/1']]);
    expect(await templates(late.leadId)).toEqual([
      [v2, 'second/1'],
      [v2, 'second/2'],
    ]);

    const { version: v3 } = await publish(name, 'third', 'next_step', ['P5D', 'P5D', 'P5D', 'P5D', 'P5D']);
    // early's step 2 is due on day 10 (v1: 3 + 7) and is v3's step 2; from there v3's timing (5 days).
    // late's step 3 is due on day 5 (v2: 1 + 2 + 2) and is v3's step 3.
    await suite.sleep('12 days');
    expect(await templates(early.leadId)).toEqual([
      [v1, 'first/1'],
      [v3, 'third/2'],
      [v3, 'third/3'],
    ]);
    expect(await templates(late.leadId)).toEqual([
      [v2, 'second/1'],
      [v2, 'second/2'],
      [v3, 'third/3'],
      [v3, 'third/4'],
      [v3, 'third/5'],
    ]);
    expect((await ofType(early.leadId, 'cadence_migrated'))[0]!.data).toMatchObject({ cadence: name, from: v1, to: v3, step: 2 });
    expect((await lead(early.leadId)).cadence).toMatchObject({ name, version: v3, step: 3 });
    expect(await search(early.leadId)).toEqual([`${name}@${v3}`]);
    // late reached v3's last step: recycled.
    expect(await lead(late.leadId)).toMatchObject({ status: 'recycled', cadence: null });

    // A version published as pinned after that moves nobody.
    await publish(name, 'fourth', 'pinned');
    await suite.sleep('6 days');
    expect((await templates(early.leadId)).at(-1)).toEqual([v3, 'third/4']);
  });
});

describe('accepted leads: 30 days without logged activity escalate and recycle', () => {
  it('escalates to the owner’s manager and recycles; a logged touch restarts the 30 days', async () => {
    const suffix = randomUUID().slice(0, 6);
    await call(
      'POST',
      '/teams',
      {
        id: `team-${suffix}`,
        name: 'Accepted',
        countries: ['XQ'],
        businessHours: { timeZone: 'UTC', days: [1, 2, 3, 4, 5, 6, 7], start: '00:00', end: '24:00' },
      },
      'ops-dev',
    );
    const rep = await call(
      'POST',
      '/reps',
      { id: `rep-${suffix}`, name: 'Rep', email: `rep-${suffix}@example.com`, teamId: `team-${suffix}`, managerId: `boss-${suffix}` },
      'ops-dev',
    );
    // Demo request +50, CEO +20, outside the target region −10: 60 — sales-ready with this file's own threshold.
    const quick = await suite.serviceFor('accepted', { qualification: { sqlAt: 60, mqlAt: 40 } });
    const { leadId } = (
      await quick.request('POST', '/leads', { email: uniqueEmail('buyer'), source: 'demo_request', country: 'XQ', title: 'CEO' })
    ).body;
    suite.started.push(leadId);
    await expect.poll(async () => (await lead(leadId)).ownerId, { timeout: 20_000 }).toBe(rep.id);
    const acceptedAt = await suite.env.currentTimeMs();
    expect((await quick.request('POST', `/leads/${leadId}/accept`, {}, rep.apiKey)).status).toBe(200);
    await suite.sleep('20 days');
    expect(
      (await quick.request('POST', `/leads/${leadId}/touches`, { channel: 'call', note: 'left a voicemail' }, rep.apiKey)).status,
    ).toBe(200);
    await suite.sleep('25 days'); // 45 days after accepting, 25 after the touch: still accepted
    expect((await lead(leadId)).status).toBe('accepted');

    await suite.sleep('6 days');
    expect(await lead(leadId)).toMatchObject({ status: 'recycled', statusReason: 'no_response', ownerId: null });
    const [escalated] = await ofType(leadId, 'escalated');
    expect(escalated!.data).toMatchObject({ to: `boss-${suffix}`, ownerId: rep.id });
    expect(days(new Date(acceptedAt), escalated!.at)).toBeCloseTo(50, 1);
    const [alert] = await suite.sql`SELECT recipient FROM notifications WHERE lead_id = ${leadId} AND kind = 'escalation'`;
    expect(alert).toEqual({ recipient: `boss-${suffix}` });
    // Back with marketing: the rep no longer owns it, and is answered as for no lead at all.
    expect((await quick.request('POST', `/leads/${leadId}/touches`, { channel: 'call' }, rep.apiKey)).status).toBe(404);
  });
});
