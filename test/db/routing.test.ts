import { randomUUID } from 'node:crypto';
import { MockActivityEnvironment } from '@temporalio/testing';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it, inject } from 'vitest';
import { routingActivities, type RouteRequest } from '../../activities/routing';
import type { Assignment } from '../../domain/lead-record';
import { resolveLeadConfig } from '../../config/load';
import { createSql, type Sql } from '../../db/client';
import { leadStore } from '../../db/lead-store';

// Routing against real Postgres, through the activity the workflow calls. Each test has teams
// of its own in a user-assigned country code (X…), so tests running beside it never meet them.
let sql: Sql;
let activities: ReturnType<typeof routingActivities>;
const env = new MockActivityEnvironment();
const config = resolveLeadConfig({});
const { sla } = config;
const at = '2026-11-23T15:00:00.000Z'; // a Monday, 10:00 in New York
const allWeek = { timeZone: 'America/New_York', days: [1, 2, 3, 4, 5, 6, 7], start: '00:00', end: '24:00' };

beforeAll(() => {
  sql = createSql(inject('databaseUrl'), { max: 20 });
  activities = routingActivities(leadStore(sql, config));
});
afterAll(async () => {
  await sql?.end({ timeout: 5 });
});

const unique = () => randomUUID().slice(0, 8);

async function team(country: string, options: { segments?: string[]; hours?: object; managerId?: string } = {}) {
  const id = `team-${unique()}`;
  await sql`INSERT INTO teams (id, name, countries, segments, business_hours, manager_id)
            VALUES (${id}, ${id}, ${[country]}, ${options.segments ?? []}, ${sql.json((options.hours ?? allWeek) as never)}, ${options.managerId ?? null})`;
  return id;
}

async function rep(
  teamId: string | null,
  options: { weight?: number; capacity?: number; active?: boolean; outOfOfficeUntil?: string; managerId?: string } = {},
) {
  const id = `rep-${unique()}`;
  await sql`INSERT INTO reps (id, name, email, team_id, weight, capacity, active, out_of_office_until, manager_id)
            VALUES (${id}, ${id}, ${`${id}@example.com`}, ${teamId}, ${options.weight ?? 1}, ${options.capacity ?? 10_000},
                    ${options.active ?? true}, ${options.outOfOfficeUntil ?? null}, ${options.managerId ?? null})`;
  return id;
}

async function leads(count: number): Promise<string[]> {
  const ids = Array.from({ length: count }, () => `lead-${randomUUID().replaceAll('-', '').slice(0, 24)}`);
  await sql`INSERT INTO leads ${sql(ids.map((id) => ({ lead_id: id, identity_key: `${id}@example.com`, email: `${id}@example.com`, source: 'demo_request', status: 'mql' })))}`;
  return ids;
}

const route = (leadId: string, request: Partial<RouteRequest> = {}): Promise<Assignment> =>
  env.run(activities.routeLead, { leadId, email: `${leadId}@example.com`, source: 'demo_request' as const, sla, at, ...request });

describe('routing in Postgres', () => {
  it('gives each rep a share within ±5% of its weight over 1,000 assignments', async () => {
    const teamId = await team('XA');
    const reps = await Promise.all([1, 2, 3, 4].map((weight) => rep(teamId, { weight })));
    const owners: string[] = [];
    for (const leadId of await leads(1000)) owners.push((await route(leadId, { country: 'XA' })).ownerId!);
    reps.forEach((id, i) => {
      const share = owners.filter((o) => o === id).length / 1000;
      const expected = (i + 1) / 10;
      expect(Math.abs(share - expected)).toBeLessThanOrEqual(0.05 * expected);
    });
  });

  it('gives a rep back from out of office no burst of catch-up leads', async () => {
    const teamId = await team('XB');
    const [a, b] = [await rep(teamId), await rep(teamId)];
    const away = await rep(teamId, { outOfOfficeUntil: '2026-12-01T00:00:00Z' });
    const before = [];
    for (const leadId of await leads(60)) before.push((await route(leadId, { country: 'XB' })).ownerId);
    expect(before).not.toContain(away);
    expect(new Set(before)).toEqual(new Set([a, b]));

    const back = [];
    for (const leadId of await leads(30)) back.push((await route(leadId, { country: 'XB', at: '2026-12-02T15:00:00Z' })).ownerId);
    // Its fair third from the start (one lead in each round of three), never the backlog it "missed".
    for (let round = 0; round < 10; round++) expect(back.slice(round * 3, round * 3 + 3).filter((o) => o === away)).toHaveLength(1);
    expect(back.filter((o) => o === away)).toHaveLength(10);
  });

  it('never takes a rep past capacity, with 200 routings at once', async () => {
    const teamId = await team('XC');
    const reps = await Promise.all([
      rep(teamId, { capacity: 20 }),
      rep(teamId, { capacity: 20, weight: 3 }),
      rep(teamId, { capacity: 15 }),
    ]);
    const ids = await leads(200);
    const results = await Promise.all(ids.map((leadId) => route(leadId, { country: 'XC' })));
    const load = await sql<{ owner_id: string; n: number }[]>`
      SELECT owner_id, count(*)::int AS n FROM leads WHERE owner_id IN ${sql(reps)} AND status IN ('sql', 'accepted') GROUP BY owner_id`;
    expect(Object.fromEntries(load.map((r) => [r.owner_id, r.n]))).toEqual({ [reps[0]]: 20, [reps[1]]: 20, [reps[2]]: 15 });
    expect(results.filter((r) => r.ownerId === null)).toHaveLength(145);
    expect(results.find((r) => r.ownerId === null)!.reason).toMatch(/nobody eligible \(.*at capacity.*\): unassigned queue/);
  });

  it("keeps each rep's open-lead count exact through assignment, accept, reassignment, close, erasure and a rep's clock", async () => {
    const teamId = await team('XJ');
    const [a, b] = [await rep(teamId), await rep(teamId)];
    const counted = async () => {
      const rows = await sql<{ id: string; open_leads: number; counted: number }[]>`
        SELECT r.id, r.open_leads, (SELECT count(*)::int FROM leads l WHERE l.owner_id = r.id AND l.status IN ('sql', 'accepted')) AS counted
        FROM reps r WHERE r.id IN ${sql([a, b])}`;
      for (const row of rows) expect(row.open_leads, row.id).toBe(row.counted);
      return Object.fromEntries(rows.map((r) => [r.id, r.open_leads]));
    };
    const ids = await leads(6);
    for (const leadId of ids) await route(leadId, { country: 'XJ' });
    expect(await counted()).toEqual({ [a]: 3, [b]: 3 });
    // The round robin's clock moved in the same statement as the count: both kept.
    expect((await sql`SELECT count(DISTINCT last_assignment)::int AS n FROM reps WHERE id IN ${sql([a, b])}`)[0]!.n).toBe(2);

    const ownerOf = async (id: string) =>
      (await sql<{ owner_id: string }[]>`SELECT owner_id FROM leads WHERE lead_id = ${id}`)[0]!.owner_id;
    const [accepted, reassigned, converted, erased, recycled] = ids;
    await sql`UPDATE leads SET status = 'accepted' WHERE lead_id = ${accepted!}`;
    const from = await ownerOf(reassigned!);
    await route(reassigned!, { country: 'XJ', exclude: [from] });
    expect(await ownerOf(reassigned!)).not.toBe(from);
    await sql`UPDATE leads SET status = 'converted' WHERE lead_id = ${converted!}`;
    await sql`DELETE FROM leads WHERE lead_id = ${erased!}`;
    await sql`UPDATE leads SET status = 'recycled', owner_id = NULL WHERE lead_id = ${recycled!}`;
    const after = await counted();
    expect(after[a]! + after[b]!).toBe(3);
    // A rep is created with the leads it already owns counted in: none.
    expect((await sql`SELECT open_leads FROM reps WHERE id = ${await rep(teamId)}`)[0]!.open_leads).toBe(0);
  });

  it('routes to the account owner first, and to the owner’s team when the owner is away', async () => {
    const teamId = await team('XD');
    const owner = await rep(teamId);
    const colleague = await rep(teamId);
    const domain = `account-${unique()}.com`;
    await sql`INSERT INTO accounts (domain, name, owner_id) VALUES (${domain}, 'Big Account', ${owner})`;
    const [first, second] = await leads(2);
    const direct = await route(first!, { email: `cfo@${domain}` });
    expect(direct).toMatchObject({ ownerId: owner, teamId, reason: `account Big Account (${domain}) is owned by ${owner}` });

    await sql`UPDATE reps SET out_of_office_until = '2027-01-01' WHERE id = ${owner}`;
    const viaTeam = await route(second!, { email: `cto@${domain}` });
    expect(viaTeam.ownerId).toBe(colleague);
    expect(viaTeam.reason).toContain(`account owner ${owner} is out of office`);
  });

  it('matches territory and segment in team order, and queues what no team covers', async () => {
    const enterprise = await team('XE', { segments: ['enterprise'] });
    const general = await team('XE');
    const [big, small, elsewhere] = await leads(3);
    await rep(enterprise);
    await rep(general);
    expect((await route(big!, { country: 'XE', employees: 5000 })).teamId).toBe(enterprise);
    expect((await route(small!, { country: 'XE', employees: 20 })).teamId).toBe(general);
    const none = await route(elsewhere!, { country: 'XZ' });
    expect(none).toMatchObject({ ownerId: null, teamId: null, reason: 'no team covers XZ, smb' });
    const [row] = await sql`SELECT owner_id, routing_reason, status FROM leads WHERE lead_id = ${elsewhere!}`;
    expect(row).toEqual({ owner_id: null, routing_reason: 'no team covers XZ, smb', status: 'sql' });
  });

  it('skips the rep who just breached the SLA, and explains every choice', async () => {
    const teamId = await team('XF');
    const [a, b] = [await rep(teamId), await rep(teamId)];
    const [leadId] = await leads(1);
    const first = await route(leadId!, { country: 'XF' });
    const again = await route(leadId!, { country: 'XF', exclude: [first.ownerId!] });
    expect(again.ownerId).toBe(first.ownerId === a ? b : a);
    expect(again.reason).toContain(`skipped ${first.ownerId} just breached the SLA`);
  });

  it('sets the SLA by intent, segment and the team’s business hours', async () => {
    const closed = await team('XG', { hours: { timeZone: 'America/New_York', days: [6, 7], start: '09:00', end: '17:00' } });
    await rep(closed);
    const [demo, webinar] = await leads(2);
    expect(await route(demo!, { country: 'XG' })).toMatchObject({
      priority: 'P1',
      sla: 'PT30M',
      slaReason: 'demo_request is P1, outside business hours',
    });
    expect(await route(webinar!, { country: 'XG', source: 'webinar', employees: 2000 })).toMatchObject({ priority: 'P1', sla: 'PT30M' });
  });

  it('takes each routing decision once per routing key: a retried attempt keeps the owner, a new key picks again', async () => {
    const teamId = await team('XY');
    const [a, b] = [await rep(teamId), await rep(teamId)];
    const [leadId, other] = await leads(2);
    const clocks = async () => ({
      team: (await sql`SELECT virtual_time, assignments FROM teams WHERE id = ${teamId}`)[0],
      reps: await sql`SELECT id, virtual_time, last_assignment FROM reps WHERE team_id = ${teamId} ORDER BY id`,
    });
    const ownerOf = async (id: string) =>
      (await sql<{ owner_id: string | null }[]>`SELECT owner_id FROM leads WHERE lead_id = ${id}`)[0]!.owner_id;

    const first = await route(leadId!, { country: 'XY', routingKey: 'run-1:1' });
    expect([a, b]).toContain(first.ownerId);
    const afterFirst = await clocks();
    expect(Number(afterFirst.team!.assignments)).toBe(1);

    // The worker died before its workflow task completed: the task runs again on another worker,
    // later by the workflow's clock, and its save of the lead (not routed yet) went first.
    await sql`UPDATE leads SET owner_id = NULL, routing_reason = NULL WHERE lead_id = ${leadId!}`;
    const retried = await route(leadId!, { country: 'XY', routingKey: 'run-1:1', at: '2026-11-23T15:00:07.000Z' });
    expect(retried).toEqual(first);
    expect(await ownerOf(leadId!)).toBe(first.ownerId);
    expect(await clocks()).toEqual(afterFirst);

    // Two attempts of one decision at once (a local activity retried while its first try still runs) take one rep.
    const [one, two] = await Promise.all([
      route(other!, { country: 'XY', routingKey: 'run-2:1' }),
      route(other!, { country: 'XY', routingKey: 'run-2:1' }),
    ]);
    expect(one).toEqual(two);
    expect(one.ownerId).toBe(first.ownerId === a ? b : a);
    expect(Number((await clocks()).team!.assignments)).toBe(2);

    // A new decision for the first lead (say, a routing retry) has a new key: the round robin moves on.
    const next = await route(leadId!, { country: 'XY', routingKey: 'run-1:2' });
    expect(next.ownerId).toBe(first.ownerId);
    expect(Number((await clocks()).team!.assignments)).toBe(3);
    // After a breach the new key re-picks, skipping the owner who breached.
    const reassigned = await route(leadId!, { country: 'XY', routingKey: 'run-1:3', exclude: [first.ownerId!] });
    expect(reassigned.ownerId).toBe(one.ownerId);
    expect(await ownerOf(leadId!)).toBe(one.ownerId);
    expect(Number((await clocks()).team!.assignments)).toBe(4);
  });

  it('routes a keyed decision in four statements, its log row written by the statement that assigns', async () => {
    const teamId = await team('XI');
    const owner = await rep(teamId);
    const [leadId] = await leads(1);
    const statements: string[] = [];
    const counting = postgres(inject('databaseUrl'), { max: 1, onnotice: () => {}, debug: (_connection, query) => statements.push(query) });
    try {
      // A new connection first reads Postgres's array types: not routing's.
      await counting`SELECT 1`;
      statements.length = 0;
      const assignment: Assignment = await env.run(routingActivities(leadStore(counting, config)).routeLead, {
        leadId: leadId!,
        email: `${leadId}@example.com`,
        source: 'demo_request' as const,
        sla,
        at,
        country: 'XI',
        routingKey: 'run-x:1',
      });
      expect(assignment.ownerId).toBe(owner);
    } finally {
      await counting.end({ timeout: 5 });
    }
    // The lead's lock, the context (taken decision, account, teams), the team with its reps, the assignment with its decision.
    expect(statements.filter((q) => !/^\s*(begin|commit)\b/i.test(q))).toHaveLength(4);
    const [logged] = await sql`SELECT rep_id, team_id, outcome, path FROM routing_decisions WHERE lead_id = ${leadId!}`;
    expect(logged).toMatchObject({
      rep_id: owner,
      team_id: teamId,
      outcome: 'round_robin',
      path: [
        { step: 'territory', teamId },
        { step: 'round_robin', pick: owner },
      ],
    });
  });
});
