import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashKey } from '../../api/auth';
import type { LeadStatus } from '../../domain/lead';
import { eventually, freshDatabase, startService, type ServiceUnderTest } from '../support/helpers';
import { seedLead, type LeadSeed } from '../support/seed-leads';
import { alwaysOpen as hours, weekdaysNineToFive, salesReadyDemoRequests } from '../support/fixtures';

// A database of its own: aging, rep load and the unassigned queue describe every lead there is.
let service: ServiceUnderTest;
beforeAll(async () => {
  // Made-up countries score −10 (outside the target region): a demo request (+50) is 40, sales-ready here.
  service = await startService({ databaseUrl: await freshDatabase('reports'), config: salesReadyDemoRequests });
});
afterAll(async () => {
  await service?.close();
});

const ops = { key: 'ops-dev' };
const min = 60_000;
const hour = 60 * min;
const dayMs = 24 * hour;

// A window long past, of its own: leads captured by the API now never fall in it.
const from = '2004-01-01T00:00:00.000Z';
const to = '2004-02-01T00:00:00.000Z';
const d = (n: number) => Date.parse(from) + n * dayMs;
const iso = (ms: number) => new Date(ms).toISOString();

const seed = (s: LeadSeed) => seedLead(service.sql, s);

const status = (to: LeadStatus) => ({ status: to });
const report = (query: string, key = 'ops-dev') => service.request('GET', `/reports/funnel?${query}`, { key });
const inWindow = `from=${from}&to=${to}`;

describe('GET /reports/funnel over leads with known histories', () => {
  const leads: Record<string, string> = {};
  beforeAll(async () => {
    const reps = [
      { id: 'rep-a1', team: 'team-a', capacity: 10 },
      { id: 'rep-a2', team: 'team-a', capacity: 5 },
      { id: 'rep-b1', team: 'team-b', capacity: 4 },
    ];
    const hours = weekdaysNineToFive;
    // Covering a country no capture here names, so routing never picks them.
    await service.sql`INSERT INTO teams ${service.sql(['team-a', 'team-b'].map((id) => ({ id, name: id, countries: ['XQ'], business_hours: service.sql.json(hours) })))}`;
    await service.sql`INSERT INTO reps ${service.sql(reps.map((r) => ({ id: r.id, name: r.id, email: `${r.id}@example.com`, team_id: r.team, capacity: r.capacity, api_key_hash: hashKey(`key-${r.id}`) })))}`;

    // Responded in 4 min, two touches, converted with an amount.
    leads.l1 = await seed({
      createdAt: d(0),
      source: 'demo_request',
      status: 'converted',
      teamId: 'team-a',
      ownerId: 'rep-a1',
      priority: 'P1',
      events: [
        ['status_changed', 10 * min, status('sql')],
        ['assigned', 10 * min],
        ['responded', 14 * min],
        ['status_changed', 14 * min, status('accepted')],
        ['touch', 14 * min],
        ['touch', dayMs],
        ['status_changed', 3 * dayMs, status('converted')],
        ['converted', 3 * dayMs, { opportunity: { name: 'Deal', amount: 5000 } }],
      ],
    });
    // MQL, SQL 2 h later, breached once and reassigned, answered 2 h after the first assignment.
    leads.l2 = await seed({
      createdAt: d(1),
      source: 'demo_request',
      status: 'accepted',
      teamId: 'team-a',
      ownerId: 'rep-a2',
      priority: 'P1',
      breaches: 1,
      events: [
        ['status_changed', hour, status('mql')],
        ['status_changed', 3 * hour, status('sql')],
        ['assigned', 3 * hour],
        ['sla_breached', 3.5 * hour],
        ['assigned', 3.5 * hour],
        ['responded', 5 * hour],
        ['status_changed', 5 * hour, status('accepted')],
        ['touch', 5 * hour],
      ],
    });
    // Answered in 30 min, three touches, converted ten days after SQL without an amount.
    leads.l3 = await seed({
      createdAt: d(2),
      source: 'webinar',
      status: 'converted',
      teamId: 'team-b',
      ownerId: 'rep-b1',
      priority: 'P2',
      events: [
        ['status_changed', 0, status('mql')],
        ['status_changed', dayMs, status('sql')],
        ['assigned', dayMs],
        ['responded', dayMs + 30 * min],
        ['status_changed', dayMs + 30 * min, status('accepted')],
        ['touch', dayMs + 30 * min],
        ['touch', 2 * dayMs],
        ['touch', 3 * dayMs],
        ['status_changed', 11 * dayMs, status('converted')],
        ['converted', 11 * dayMs, { opportunity: null }],
      ],
    });
    leads.l4 = await seed({
      createdAt: d(3),
      source: 'content_download',
      status: 'disqualified',
      statusReason: 'no_budget',
      events: [
        ['status_changed', 2 * hour, status('mql')],
        ['status_changed', 3 * hour, status('disqualified')],
      ],
    });
    leads.l5 = await seed({ createdAt: d(4), source: 'newsletter', status: 'disqualified', statusReason: 'spam' });
    leads.l6 = await seed({ createdAt: d(5), source: 'newsletter', status: 'disqualified', statusReason: 'no_budget' });
    // In team-b's unassigned queue.
    leads.l7 = await seed({
      createdAt: d(6),
      source: 'demo_request',
      status: 'sql',
      teamId: 'team-b',
      events: [
        ['status_changed', 0, status('sql')],
        ['unassigned', 0],
      ],
    });
    // MQL, SQL an hour later, assigned, breached twice, never answered.
    leads.l8 = await seed({
      createdAt: d(7),
      source: 'webinar',
      status: 'sql',
      teamId: 'team-a',
      ownerId: 'rep-a1',
      priority: 'P2',
      breaches: 2,
      events: [
        ['status_changed', 0, status('mql')],
        ['status_changed', hour, status('sql')],
        ['assigned', hour],
        ['sla_breached', 2 * hour],
        ['sla_breached', 3 * hour],
      ],
    });
    // Just outside the window, before and at `to`.
    leads.before = await seed({
      createdAt: d(0) - 1,
      source: 'demo_request',
      status: 'converted',
      events: [
        ['status_changed', 0, status('converted')],
        ['converted', 0, { opportunity: { amount: 99 } }],
      ],
    });
    leads.atTo = await seed({ createdAt: Date.parse(to), source: 'demo_request', status: 'disqualified', statusReason: 'spam' });
    // Open leads of recent days, for aging (its buckets count days since capture, now).
    const now = Date.now();
    leads.new2 = await seed({ createdAt: now - 2 * dayMs - hour, source: 'chat', status: 'new' });
    leads.mql10 = await seed({ createdAt: now - 10 * dayMs - hour, source: 'chat', status: 'mql' });
    leads.mql40 = await seed({ createdAt: now - 40 * dayMs - hour, source: 'chat', status: 'mql' });
  });

  it('answers every figure as worked out by hand', async () => {
    const { status: code, body } = await report(inWindow);
    expect(code).toBe(200);
    expect(body).toMatchObject({ from, to, teamId: null, source: null, repId: null });

    // Responses (first assignment → first response): 4 min (P1, team-a), 2 h (P1, team-a), 30 min (P2, team-b).
    // percentile_cont interpolates: p90 of [4m, 30m, 2h] = 30m + 0.8 × 90m.
    expect(body.responseTime).toMatchObject({
      leads: 3,
      p50Ms: 30 * min,
      p90Ms: 30 * min + 0.8 * 90 * min,
      p99Ms: 30 * min + 0.98 * 90 * min,
    });
    expect(body.responseTime.byPriority).toEqual(
      expect.arrayContaining([
        { priority: 'P1', leads: 2, p50Ms: (4 * min + 2 * hour) / 2, p90Ms: 4 * min + 0.9 * 116 * min, p99Ms: 4 * min + 0.99 * 116 * min },
        { priority: 'P2', leads: 1, p50Ms: 30 * min, p90Ms: 30 * min, p99Ms: 30 * min },
      ]),
    );
    expect(body.responseTime.byPriority).toHaveLength(2);
    expect(body.responseTime.byTeam).toEqual(
      expect.arrayContaining([
        {
          teamId: 'team-a',
          leads: 2,
          p50Ms: (4 * min + 2 * hour) / 2,
          p90Ms: 4 * min + 0.9 * 116 * min,
          p99Ms: 4 * min + 0.99 * 116 * min,
        },
        { teamId: 'team-b', leads: 1, p50Ms: 30 * min, p90Ms: 30 * min, p99Ms: 30 * min },
      ]),
    );
    expect(body.responseTime.distribution).toEqual([
      { bucket: '0-5m', leads: 1 },
      { bucket: '5-15m', leads: 0 },
      { bucket: '15-60m', leads: 1 },
      { bucket: '1-4h', leads: 1 },
      { bucket: '4-24h', leads: 0 },
      { bucket: '24h+', leads: 0 },
    ]);

    // SLA: l1 and l3 within; l2 (answered after a breach) and l8 (breached twice) not.
    expect(body.sla).toEqual({
      measured: 4,
      withinSla: 2,
      breachedLeads: 2,
      breaches: 3,
      complianceRate: 0.5,
      byDay: [
        { day: '2004-01-01', measured: 1, withinSla: 1, complianceRate: 1 },
        { day: '2004-01-02', measured: 1, withinSla: 0, complianceRate: 0 },
        { day: '2004-01-04', measured: 1, withinSla: 1, complianceRate: 1 },
        { day: '2004-01-08', measured: 1, withinSla: 0, complianceRate: 0 },
      ],
    });

    // MQL: l1, l2, l3, l4, l7, l8 (l1 and l7 straight to SQL); SQL: l1, l2, l3, l7, l8; converted: l1, l3.
    // MQL→SQL times 0, 2 h, 1 d, 0, 1 h → median 1 h; SQL→converted 3 d − 10 min and 10 d → their mean.
    expect(body.funnel).toEqual({
      leads: 8,
      mql: 6,
      sql: 5,
      converted: 2,
      mqlToSqlRate: 5 / 6,
      mqlToSqlMedianMs: hour,
      sqlToConvertedRate: 2 / 5,
      sqlToConvertedMedianMs: (3 * dayMs - 10 * min + 10 * dayMs) / 2,
    });

    expect(body.disqualificationReasons).toEqual([
      { reason: 'no_budget', leads: 2, share: 2 / 3 },
      { reason: 'spam', leads: 1, share: 1 / 3 },
    ]);
    expect(body.bySource).toEqual([
      { source: 'demo_request', leads: 3, conversions: 1, amount: 5000 },
      { source: 'newsletter', leads: 2, conversions: 0, amount: 0 },
      { source: 'webinar', leads: 2, conversions: 1, amount: 0 },
      { source: 'content_download', leads: 1, conversions: 0, amount: 0 },
    ]);
    expect(body.repFollowUp).toEqual([
      { repId: 'rep-a1', acceptedLeads: 1, touches: 2, touchesPerAcceptedLead: 2 },
      { repId: 'rep-a2', acceptedLeads: 1, touches: 1, touchesPerAcceptedLead: 1 },
      { repId: 'rep-b1', acceptedLeads: 1, touches: 3, touchesPerAcceptedLead: 3 },
    ]);

    // Now, whatever the window: l2 (accepted), l7 and l8 (sql) are over 90 days old; the recent ones by age.
    const zero = { '0-7': 0, '8-30': 0, '31-90': 0, '90+': 0 };
    expect(body.aging).toEqual([
      { status: 'new', buckets: { ...zero, '0-7': 1 } },
      { status: 'mql', buckets: { ...zero, '8-30': 1, '31-90': 1 } },
      { status: 'sql', buckets: { ...zero, '90+': 2 } },
      { status: 'accepted', buckets: { ...zero, '90+': 1 } },
    ]);
    expect(body.repLoad).toEqual([
      { repId: 'rep-a1', teamId: 'team-a', active: true, openLeads: 1, capacity: 10, utilisation: 0.1 },
      { repId: 'rep-a2', teamId: 'team-a', active: true, openLeads: 1, capacity: 5, utilisation: 0.2 },
      { repId: 'rep-b1', teamId: 'team-b', active: true, openLeads: 0, capacity: 4, utilisation: 0 },
    ]);
    expect(body.unassigned).toMatchObject({ leads: 1, oldest: { leadId: leads.l7, createdAt: iso(d(6)) } });
    expect(body.unassigned.oldest.ageMs).toBeGreaterThanOrEqual(Date.now() - d(6) - 60_000);
  });

  it('filters by team and by source', async () => {
    const team = (await report(`${inWindow}&teamId=team-a`)).body;
    expect(team.teamId).toBe('team-a');
    expect(team.funnel).toMatchObject({ leads: 3, mql: 3, sql: 3, converted: 1 });
    expect(team.responseTime.byTeam.map((t: { teamId: string }) => t.teamId)).toEqual(['team-a']);
    expect(team.repLoad.map((r: { repId: string }) => r.repId)).toEqual(['rep-a1', 'rep-a2']);
    expect(team.unassigned).toEqual({ leads: 0, oldest: null });
    expect(team.aging).toEqual([
      { status: 'sql', buckets: { '0-7': 0, '8-30': 0, '31-90': 0, '90+': 1 } },
      { status: 'accepted', buckets: { '0-7': 0, '8-30': 0, '31-90': 0, '90+': 1 } },
    ]);

    const newsletter = (await report(`${inWindow}&source=newsletter`)).body;
    expect(newsletter.funnel.leads).toBe(2);
    expect(newsletter.disqualificationReasons).toEqual([
      { reason: 'no_budget', leads: 1, share: 0.5 },
      { reason: 'spam', leads: 1, share: 0.5 },
    ]);
    expect(newsletter.responseTime).toMatchObject({ leads: 0, p50Ms: null, p90Ms: null, p99Ms: null });
    expect(newsletter.sla.complianceRate).toBeNull();
  });

  it('a rep key sees its own numbers only; marketing reads it; capture keys and no key do not', async () => {
    const rep = await report(inWindow, 'key-rep-a1');
    expect(rep.status).toBe(200);
    expect(rep.body.repId).toBe('rep-a1');
    expect(rep.body.funnel).toMatchObject({ leads: 2, converted: 1 }); // l1 and l8
    expect(rep.body.sla).toMatchObject({ measured: 2, withinSla: 1, breaches: 2 });
    expect(rep.body.repLoad.map((r: { repId: string }) => r.repId)).toEqual(['rep-a1']);
    expect(rep.body.repFollowUp.map((r: { repId: string }) => r.repId)).toEqual(['rep-a1']);
    expect(rep.body.unassigned).toBeNull();
    // A rep cannot widen its view with a team filter.
    expect((await report(`${inWindow}&teamId=team-b`, 'key-rep-a1')).body.funnel.leads).toBe(0);

    const marketing = await report(inWindow, 'marketing-dev');
    expect(marketing.status).toBe(200);
    expect(marketing.body.funnel.leads).toBe(8);
    expect((await report(inWindow, 'capture-dev')).status).toBe(403);
    expect((await service.request('GET', `/reports/funnel?${inWindow}`, { key: null })).status).toBe(401);
  });

  it('refuses a window over a year, naming the field', async () => {
    const result = await service.request('GET', '/reports/funnel?from=2000-01-01T00:00:00Z&to=2026-01-01T00:00:00Z', ops);
    expect(result.status).toBe(400);
    expect(result.body.error.details).toContainEqual(expect.objectContaining({ path: 'from' }));
  });

  it('defaults to the last 30 days', async () => {
    const { body } = await report('');
    expect(Date.parse(body.to) - Date.parse(body.from)).toBe(30 * dayMs);
    expect(Math.abs(Date.parse(body.to) - Date.now())).toBeLessThan(60_000);
    expect(body.funnel.leads).toBe(2); // new2, mql10 (mql40 is older)
  });

  it.each([
    ['from=yesterday', 'from'],
    ['from=1999-12-31T00:00:00Z', 'from'],
    [`from=${to}&to=${from}`, 'to'],
    ['from=2999-01-01T00:00:00Z', 'from'],
    ['teamId=bad%20team!', 'teamId'],
    ['source=carrier_pigeon', 'source'],
  ])('400 naming the parameter for %s', async (query, field) => {
    const { status: code, body } = await report(query);
    expect(code).toBe(400);
    expect(body.error.code).toBe('validation_failed');
    expect(body.error.details.map((detail: { path: string }) => detail.path)).toContain(field);
  });

  it('is in the OpenAPI document with every figure defined', async () => {
    const doc = await service.request('GET', '/openapi.json', { key: null });
    const get = doc.body.paths['/reports/funnel'].get;
    expect(get.parameters.map((p: { name: string }) => p.name).sort()).toEqual(['from', 'source', 'teamId', 'to']);
    const schema = doc.body.components.schemas.FunnelReport;
    for (const figure of [
      'responseTime',
      'sla',
      'funnel',
      'aging',
      'disqualificationReasons',
      'bySource',
      'repFollowUp',
      'repLoad',
      'unassigned',
    ]) {
      expect(schema.properties[figure].description, figure).toMatch(/\w.*\./);
    }
  });
});

describe('GET /reports/funnel over a lead run by its workflow', () => {
  it('counts a lead captured, routed, accepted, touched and converted through the API', async () => {
    const started = new Date(Date.now() - 1000).toISOString();
    const suffix = randomUUID().slice(0, 6);
    const team = await service.request('POST', '/teams', {
      ...ops,
      body: { id: `team-${suffix}`, name: 'Team XR', countries: ['XR'], businessHours: hours },
    });
    expect(team.status).toBe(201);
    const rep = await service.request('POST', '/reps', {
      ...ops,
      body: { id: `rep-${suffix}`, name: 'Rep', email: `rep-${suffix}@example.com`, teamId: team.body.id },
    });
    expect(rep.status).toBe(201);
    const captured = await service.request('POST', '/leads', {
      body: { email: `buyer.${suffix}@prospect-${suffix}.com`, source: 'demo_request', country: 'XR' },
    });
    const leadId = captured.body.leadId as string;
    await eventually(async () => expect((await service.request('GET', `/leads/${leadId}`, ops)).body.ownerId).toBe(rep.body.id));
    const act = (action: string, body: unknown) => service.request('POST', `/leads/${leadId}/${action}`, { key: rep.body.apiKey, body });
    expect((await act('accept', {})).status).toBe(200);
    expect((await act('touches', { channel: 'call' })).status).toBe(200);
    expect((await act('convert', { opportunity: { name: 'Deal', amount: 7000 } })).status).toBe(200);

    const timeline = await eventually(async () => {
      const events = (await service.request('GET', `/leads/${leadId}/timeline`, ops)).body.events as { type: string; at: string }[];
      expect(events.map((e) => e.type)).toContain('converted');
      return events;
    });
    const at = (type: string) => Date.parse(timeline.find((e) => e.type === type)!.at);
    const { body } = await report(`from=${started}&to=${new Date(Date.now() + 60_000).toISOString()}&teamId=${team.body.id}`);
    expect(body.funnel).toMatchObject({ leads: 1, mql: 1, sql: 1, converted: 1, mqlToSqlRate: 1, sqlToConvertedRate: 1 });
    expect(body.responseTime).toMatchObject({ leads: 1, p50Ms: at('responded') - at('assigned') });
    expect(body.sla).toMatchObject({ measured: 1, withinSla: 1, complianceRate: 1 });
    expect(body.bySource).toEqual([{ source: 'demo_request', leads: 1, conversions: 1, amount: 7000 }]);
    expect(body.repFollowUp).toEqual([{ repId: rep.body.id, acceptedLeads: 1, touches: 1, touchesPerAcceptedLead: 1 }]);
    expect(body.repLoad).toEqual([{ repId: rep.body.id, teamId: team.body.id, active: true, openLeads: 0, capacity: 50, utilisation: 0 }]);
  });
});
