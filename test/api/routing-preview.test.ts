import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshDatabase, startService, type ServiceUnderTest } from '../support/helpers';
import { alwaysOpen as businessHours, salesReadyDemoRequests, captureUntil } from '../support/fixtures';

// Routing preview and the routing log through the real API, worker, Temporal and Postgres. On a
// database of its own: what the preview must not write is counted across the whole database, and
// the teams here cover made-up countries (XR, XS) that no other test's team then comes before.
let service: ServiceUnderTest;
// Made-up countries score −10 (outside the target region): a demo request (+50) is 40, sales-ready here.
beforeAll(async () => {
  service = await startService({ databaseUrl: await freshDatabase('routing_preview'), config: salesReadyDemoRequests });
});
afterAll(async () => {
  await service?.close();
});

const ops = { key: 'ops-dev' };
const unique = () => randomUUID().slice(0, 6);
const buyerDomain = () => `prospect-${randomUUID().slice(0, 8)}.com`;

async function team(country: string, options: { segments?: string[] } = {}) {
  const suffix = unique();
  const { status, body } = await service.request('POST', '/teams', {
    ...ops,
    body: {
      id: `team-${country.toLowerCase()}-${suffix}`,
      name: `Team ${country} ${suffix}`,
      countries: [country],
      segments: options.segments ?? [],
      businessHours,
    },
  });
  expect(status).toBe(201);
  return body.id as string;
}

async function rep(teamId: string, name: string, fields: Record<string, unknown> = {}) {
  const id = `rep-${name}-${unique()}`;
  const { status } = await service.request('POST', '/reps', { ...ops, body: { id, name, email: `${id}@example.com`, teamId, ...fields } });
  expect(status).toBe(201);
  return id;
}

/** Captures a sales-ready lead and waits until it is routed. */
const capture = (body: Record<string, unknown>) =>
  captureUntil<{ ownerId: string | null; teamId: string | null; routingReason: string; priority: string }>(
    service,
    { source: 'demo_request', ...body },
    { status: 'sql', routingReason: expect.any(String) },
  );

/** What routing writes: its decisions, the leads' owners, the round robin's clocks and the reps' open-lead counts. */
async function routingState() {
  const [decisions] = await service.sql<{ n: number }[]>`SELECT count(*)::int AS n FROM routing_decisions`;
  const leads = await service.sql`SELECT lead_id, owner_id, team_id, routing_reason FROM leads ORDER BY lead_id`;
  const clocks = await service.sql`SELECT id, virtual_time, assignments FROM teams ORDER BY id`;
  const reps = await service.sql`SELECT id, virtual_time, last_assignment, open_leads FROM reps ORDER BY id`;
  return { decisions: decisions!.n, leads, clocks, reps };
}

const preview = (body: unknown, key = ops.key) => service.request('POST', '/routing/preview', { key, body });

describe('routing preview', () => {
  it('says step by step who would get the lead and why the others are skipped, commits nothing, and a capture then picks that rep', async () => {
    const teamId = await team('XR', { segments: ['smb'] });
    const first = await rep(teamId, 'first');
    const second = await rep(teamId, 'second');
    const away = await rep(teamId, 'away', { outOfOfficeUntil: new Date(Date.now() + 86_400_000).toISOString() });
    const full = await rep(teamId, 'full', { capacity: 0 });
    const inactive = await rep(teamId, 'inactive', { active: false });
    // One real assignment first (a small company), so that the round robin has moved: the next turn is the other rep's.
    const earlier = await capture({ email: `a@${buyerDomain()}`, country: 'XR', employees: 40 });
    const next = earlier.ownerId === first ? second : first;

    const before = await routingState();
    const { status, body } = await preview({ lead: { emailDomain: buyerDomain(), source: 'demo_request', country: 'xr', employees: 40 } });
    expect(status).toBe(200);
    expect(body).toMatchObject({
      lead: { leadId: null, country: 'XR', segment: 'smb', source: 'demo_request' },
      account: null,
      outcome: 'round_robin',
      ownerId: next,
      teamId,
      priority: 'P1',
      sla: 'PT5M',
      path: [
        { step: 'territory', country: 'XR', segment: 'smb', teamId },
        {
          step: 'round_robin',
          teamId,
          eligible: [first, second].sort(),
          skipped: expect.arrayContaining([
            { repId: away, why: 'out_of_office' },
            { repId: full, why: 'at_capacity' },
            { repId: inactive, why: 'inactive' },
          ]),
          pick: next,
        },
      ],
    });
    expect(body.territories.teams.at(-1)).toEqual({ teamId, name: expect.any(String), matched: true, why: null });
    expect(body.reason).toContain(`weighted round robin → ${next}`);
    expect(body.reason).toContain(`${away} out of office`);
    // The SLA clock it would start now: five minutes for a demo request in business hours.
    expect(Date.parse(body.dueAt) - Date.parse(body.at)).toBe(5 * 60_000);

    // Nothing written: no decision, no round-robin clock moved, no open lead counted.
    expect(await routingState()).toEqual(before);

    // The real routing takes the rep the preview named, along the same path.
    const lead = await capture({ email: `b@${buyerDomain()}`, country: 'XR', employees: 40 });
    expect(lead.ownerId).toBe(next);
    expect(lead.routingReason).toBe(body.reason);
    const log = await service.request('GET', `/routing/decisions?leadId=${lead.leadId}`, ops);
    expect(log.status).toBe(200);
    expect(log.body.decisions).toEqual([
      expect.objectContaining({ leadId: lead.leadId, outcome: 'round_robin', repId: next, teamId, reason: body.reason, path: body.path }),
    ]);
    expect(log.body.decisions[0].links.lead).toBe(`/leads/${lead.leadId}`);

    // An existing lead is previewed from its stored profile, and that writes nothing either.
    const routed = await routingState();
    const existing = await preview({ leadId: lead.leadId });
    expect(await routingState()).toEqual(routed);
    expect(existing.status).toBe(200);
    expect(existing.body.lead).toMatchObject({ leadId: lead.leadId, status: 'sql', country: 'XR', segment: 'smb' });
    expect(existing.body.path[1]).toMatchObject({ step: 'round_robin', teamId });
  });

  it("gives the account's owner the lead, and their team's round robin when the owner is away", async () => {
    // The enterprise team comes first in routing order but does not take small companies.
    const enterprise = await team('XS', { segments: ['enterprise'] });
    const teamId = await team('XS');
    const owner = await rep(teamId, 'owner');
    const colleague = await rep(teamId, 'colleague');
    const domain = buyerDomain();
    expect(
      (await service.request('POST', '/accounts', { ...ops, body: { domain, name: `Account ${unique()}`, ownerId: owner } })).status,
    ).toBe(201);

    const owned = await preview({ lead: { email: `jane@${domain.toUpperCase()}`, source: 'pricing_inquiry', country: 'XS' } });
    expect(owned.status).toBe(200);
    expect(owned.body).toMatchObject({
      account: { domain, ownerId: owner },
      outcome: 'account_owner',
      ownerId: owner,
      teamId,
      territories: null,
      path: [{ step: 'account', domain, ownerId: owner, skipped: null, teamId }],
    });

    expect(
      (
        await service.request('PATCH', `/reps/${owner}`, {
          ...ops,
          body: { outOfOfficeUntil: new Date(Date.now() + 86_400_000).toISOString() },
        })
      ).status,
    ).toBe(200);
    const away = await preview({ lead: { emailDomain: domain, source: 'pricing_inquiry', country: 'XS' } });
    expect(away.body).toMatchObject({
      outcome: 'round_robin',
      ownerId: colleague,
      path: [
        { step: 'account', ownerId: owner, skipped: 'out_of_office', teamId },
        { step: 'round_robin', teamId, eligible: [colleague], skipped: [{ repId: owner, why: 'out_of_office' }], pick: colleague },
      ],
    });

    // Without the account, territory decides: the enterprise team is passed over for the segment.
    const small = await preview({ lead: { emailDomain: buyerDomain(), source: 'contact_form', country: 'XS', segment: 'smb' } });
    expect(small.body.territories.teams.slice(-2)).toEqual([
      { teamId: enterprise, name: expect.any(String), matched: false, why: 'not_in_segment' },
      { teamId, name: expect.any(String), matched: true, why: null },
    ]);
    const big = await preview({ lead: { emailDomain: buyerDomain(), source: 'demo_request', country: 'XS', segment: 'enterprise' } });
    // The enterprise team has no reps: the unassigned queue, at the enterprise tier's priority.
    expect(big.body).toMatchObject({ outcome: 'unassigned', ownerId: null, teamId: enterprise, dueAt: null, priority: 'P1' });
    expect(big.body.reason).toContain('unassigned queue');
  });

  it('names the field of a bad body, answers 404 for an unknown lead, and is for ops only', async () => {
    const bad = await preview({ lead: { source: 'demo_request', country: 'X1' } });
    expect(bad.status).toBe(400);
    expect(bad.body.error.details).toEqual([expect.objectContaining({ path: 'lead.country' })]);
    const both = await preview({ leadId: 'lead-0123456789abcdef01234567', lead: { source: 'demo_request' } });
    expect(both.status).toBe(400);
    expect(both.body.error.details).toEqual([expect.objectContaining({ path: 'leadId' })]);
    expect((await preview({ lead: { source: 'no_such_source' } })).body.error.details[0].path).toBe('lead.source');
    expect((await preview({ leadId: 'lead-0123456789abcdef01234567' })).status).toBe(404);
    expect((await preview({ lead: { source: 'demo_request' } }, 'marketing-dev')).status).toBe(403);
  });
});

describe('routing log', () => {
  it('pages a team’s decisions newest first, filters by rep and outcome, and bounds its query', async () => {
    // XR's mid-market leads: the preview test's XR team takes only small companies.
    const teamId = await team('XR', { segments: ['mid_market'] });
    const only = await rep(teamId, 'only', { capacity: 1 });
    const leads = [];
    for (const i of [0, 1, 2]) leads.push(await capture({ email: `l${i}@${buyerDomain()}`, country: 'XR', employees: 500 }));
    // The rep took the first lead and was then full: the others wait in the unassigned queue.
    expect(leads.map((l) => l.ownerId)).toEqual([only, null, null]);

    const pages: { leadId: string; outcome: string }[][] = [];
    let cursor: string | null = null;
    do {
      const query: string = `/routing/decisions?teamId=${teamId}&limit=2${cursor ? `&cursor=${cursor}` : ''}`;
      const { status, body } = await service.request('GET', query, ops);
      expect(status).toBe(200);
      pages.push(body.decisions);
      cursor = body.nextCursor;
    } while (cursor);
    expect(pages.map((p) => p.length)).toEqual([2, 1]);
    expect(pages.flat().map((d) => d.leadId)).toEqual(leads.map((l) => l.leadId).reverse());

    const byRep = await service.request('GET', `/routing/decisions?repId=${only}`, ops);
    expect(byRep.body.decisions.map((d: { leadId: string }) => d.leadId)).toEqual([leads[0]!.leadId]);
    const unassigned = await service.request('GET', `/routing/decisions?teamId=${teamId}&outcome=unassigned`, ops);
    expect(unassigned.body.decisions.map((d: { leadId: string }) => d.leadId)).toEqual([leads[2]!.leadId, leads[1]!.leadId]);
    expect(unassigned.body.decisions[0].path.at(-1)).toMatchObject({
      step: 'round_robin',
      pick: null,
      skipped: [{ repId: only, why: 'at_capacity' }],
    });
    const past = await service.request(
      'GET',
      `/routing/decisions?teamId=${teamId}&to=${new Date(Date.now() - 3_600_000).toISOString()}`,
      ops,
    );
    expect(past.body.decisions).toEqual([]);

    for (const [query, field] of [
      ['limit=201', 'limit'],
      ['outcome=maybe', 'outcome'],
      ['from=2025-01-01T00:00:00Z&to=2026-06-01T00:00:00Z', 'from'],
      ['cursor=bm90LWEtY3Vyc29y', 'cursor'],
      ['leadId=lead-x', 'leadId'],
    ]) {
      const { status, body } = await service.request('GET', `/routing/decisions?${query}`, ops);
      expect(status, query).toBe(400);
      expect(body.error.details.map((d: { path: string }) => d.path)).toContain(field);
    }
    expect((await service.request('GET', '/routing/decisions', { key: 'marketing-dev' })).status).toBe(403);
  });
});
