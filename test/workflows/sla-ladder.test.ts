import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { storedTimeline, timeSkippingSuite } from '../support/helpers';
import { salesReadyDemoRequests } from '../support/fixtures';

// The speed-to-lead ladder on the time-skipping server: minutes and hours pass in milliseconds.
// Leads from made-up countries score "outside the target region" (−10): a demo request (+50) is 40, sales-ready here.
const suite = timeSkippingSuite('ladder', { config: salesReadyDemoRequests });

const call = (method: string, path: string, body: unknown, key = 'ops-dev') => suite.service.request(method, path, body, key);

/** A team in its own made-up country, two reps with managers, and a team manager outside the rotation. */
async function setUpTeam(country: string, days: number[] = [1, 2, 3, 4, 5, 6, 7]) {
  const suffix = randomUUID().slice(0, 6);
  const manager = (await call('POST', '/reps', { id: `mgr-${suffix}`, name: 'Team Manager', email: `mgr-${suffix}@example.com` })).body;
  const team = (
    await call('POST', '/teams', {
      id: `team-${suffix}`,
      name: `Team ${country}`,
      countries: [country],
      managerId: manager.id,
      businessHours: { timeZone: 'UTC', days, start: '00:00', end: '24:00' },
    })
  ).body;
  const reps = [];
  for (const name of ['a', 'b']) {
    const created = await call('POST', '/reps', {
      id: `rep-${name}-${suffix}`,
      name,
      email: `${name}-${suffix}@example.com`,
      teamId: team.id,
      managerId: `boss-of-${name}-${suffix}`,
    });
    expect(created.status).toBe(201);
    reps.push(created.body as { id: string; apiKey: string });
  }
  return { team, manager, reps };
}

async function capture(country: string, source = 'demo_request', extra: Record<string, unknown> = {}) {
  const response = await call(
    'POST',
    '/leads',
    { email: `buyer.${randomUUID().slice(0, 8)}@prospect-${randomUUID().slice(0, 6)}.com`, source, country, ...extra },
    'capture-dev',
  );
  expect(response.status).toBe(202);
  suite.started.push(response.body.leadId);
  return response.body.leadId as string;
}

const timeline = (leadId: string) => storedTimeline(suite.sql, leadId);
/** The lead's first `assigned` event, once routing has recorded it. */
async function firstAssignment(leadId: string) {
  await expect.poll(async () => (await timeline(leadId)).some((e) => e.type === 'assigned')).toBe(true);
  return (await timeline(leadId)).find((e) => e.type === 'assigned')!.data;
}
// The alerts themselves (webhook channel); a rep with an email also gets each as an email entry (test/api/email.test.ts).
const notifications = (leadId: string) =>
  suite.sql<
    { kind: string; recipient: string }[]
  >`SELECT kind, recipient FROM notifications WHERE lead_id = ${leadId} AND channel = 'webhook' ORDER BY id`;
const minutes = (from: number, to: Date) => (to.getTime() - from) / 60_000;

/** The ladder's steps as [type, minutes after capture], rounded to the half minute. */
async function ladderOf(leadId: string, start: number) {
  return (await timeline(leadId))
    .filter((e) => ['assigned', 'sla_reminder', 'sla_breached', 'escalated'].includes(e.type))
    .map((e) => [e.type, Math.round(minutes(start, e.at) * 2) / 2]);
}

describe('speed-to-lead SLA and escalation ladder', () => {
  it('P1 in business hours: reminder at 2.5 min, reassignment at 5, team manager at the second breach', async () => {
    const { team, manager, reps } = await setUpTeam('XL');
    const start = await suite.env.currentTimeMs();
    const leadId = await capture('XL');
    const firstOwner = (await firstAssignment(leadId)).ownerId;
    const secondOwner = reps.map((r) => r.id).find((id) => id !== firstOwner);
    const [assignedRow] = await suite.sql`SELECT owner_id, priority, sla_due_at FROM leads WHERE lead_id = ${leadId}`;
    expect(assignedRow).toMatchObject({ owner_id: firstOwner, priority: 'P1' });
    expect(minutes(start, assignedRow!.sla_due_at)).toBeCloseTo(5, 0);

    await suite.sleep('12 minutes');
    const events = await timeline(leadId);
    const ladder = events.filter((e) => ['assigned', 'sla_reminder', 'sla_breached', 'escalated'].includes(e.type));
    expect(ladder.map((e) => [e.type, e.data.ownerId ?? e.data.to ?? null])).toEqual([
      ['assigned', firstOwner],
      ['sla_reminder', firstOwner],
      ['sla_breached', firstOwner],
      ['assigned', secondOwner],
      ['sla_reminder', secondOwner],
      ['sla_breached', secondOwner],
      ['escalated', manager.id],
      ['assigned', manager.id],
    ]);
    expect(ladder.map((e) => Math.round(minutes(start, e.at) * 2) / 2)).toEqual([0, 2.5, 5, 5, 7.5, 10, 10, 10]);
    expect(events.find((e) => e.type === 'assigned' && e.data.ownerId === secondOwner)!.data.reason).toContain(
      `skipped ${firstOwner} just breached the SLA`,
    );

    const [lead] = await suite.sql`SELECT owner_id, sla_breaches, status FROM leads WHERE lead_id = ${leadId}`;
    expect(lead).toEqual({ owner_id: manager.id, sla_breaches: 2, status: 'sql' });
    expect(await notifications(leadId)).toEqual([
      { kind: 'assignment', recipient: firstOwner },
      { kind: 'sla_reminder', recipient: firstOwner },
      { kind: 'sla_breach', recipient: `boss-of-${firstOwner.split('-')[1]}-${team.id.split('-')[1]}` },
      { kind: 'assignment', recipient: secondOwner },
      { kind: 'sla_reminder', recipient: secondOwner },
      { kind: 'escalation', recipient: 'ops' },
      { kind: 'assignment', recipient: manager.id },
    ]);
    const attributes = (await suite.env.client.workflow.getHandle(leadId).describe()).searchAttributes;
    expect(attributes).toMatchObject({ LeadOwner: [manager.id], LeadPriority: ['P1'], LeadStatus: ['sql'] });
  });

  it('P1 outside business hours gets 30 minutes: reminder at 15, breach at 30, manager at 60', async () => {
    // The ladder spans an hour, so it may cross midnight: the team works neither today nor tomorrow.
    const today = ((new Date(await suite.env.currentTimeMs()).getUTCDay() + 6) % 7) + 1;
    const tomorrow = (today % 7) + 1;
    await setUpTeam(
      'XM',
      [1, 2, 3, 4, 5, 6, 7].filter((d) => d !== today && d !== tomorrow),
    );
    const start = await suite.env.currentTimeMs();
    const leadId = await capture('XM');
    expect(await firstAssignment(leadId)).toMatchObject({
      priority: 'P1',
      sla: 'PT30M',
      slaReason: 'demo_request is P1, outside business hours',
    });
    await suite.sleep('61 minutes');
    // The next rep also gets the off-hours 30 minutes; the team manager takes it at the second breach.
    expect(await ladderOf(leadId, start)).toEqual([
      ['assigned', 0],
      ['sla_reminder', 15],
      ['sla_breached', 30],
      ['assigned', 30],
      ['sla_reminder', 45],
      ['sla_breached', 60],
      ['escalated', 60],
      ['assigned', 60],
    ]);
  });

  it('an enterprise webinar attendee moves up from P2 (4 h) to P1 (5 min), through the whole ladder', async () => {
    await setUpTeam('XN');
    const start = await suite.env.currentTimeMs();
    const leadId = await capture('XN', 'webinar', { employees: 5000, title: 'CEO' }); // webinar +30, CEO +20, outside region −10
    expect(await firstAssignment(leadId)).toMatchObject({
      priority: 'P1',
      sla: 'PT5M',
      slaReason: 'webinar is P2, enterprise moves it up to P1',
    });
    await suite.sleep('11 minutes');
    expect(await ladderOf(leadId, start)).toEqual([
      ['assigned', 0],
      ['sla_reminder', 2.5],
      ['sla_breached', 5],
      ['assigned', 5],
      ['sla_reminder', 7.5],
      ['sla_breached', 10],
      ['escalated', 10],
      ['assigned', 10],
    ]);
  });

  it('the owner’s accept stops the clock and records the response time', async () => {
    const { reps } = await setUpTeam('XO');
    const leadId = await capture('XO');
    await expect.poll(async () => (await suite.sql`SELECT owner_id FROM leads WHERE lead_id = ${leadId}`)[0]?.owner_id).toBeTruthy();
    const [{ owner_id: owner }] = (await suite.sql`SELECT owner_id FROM leads WHERE lead_id = ${leadId}`) as any;
    await suite.sleep('1 minute');
    const key = reps.find((r) => r.id === owner)!.apiKey;
    const accepted = await call('POST', `/leads/${leadId}/accept`, {}, key);
    expect(accepted.status).toBe(200);
    expect(accepted.body).toMatchObject({ status: 'accepted', ownerId: owner });
    await suite.sleep('30 minutes');
    const types = (await timeline(leadId)).map((e) => e.type);
    expect(types).not.toContain('sla_reminder');
    expect(types).not.toContain('sla_breached');
    const [row] = await suite.sql`SELECT responded_at, response_ms, sla_due_at FROM leads WHERE lead_id = ${leadId}`;
    expect(Number(row!.response_ms)).toBeGreaterThanOrEqual(60_000);
    expect(Number(row!.response_ms)).toBeLessThan(65_000);
    expect(row!.sla_due_at).toBeNull();
  });
});
