import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, startService, type ServiceUnderTest } from '../support/helpers';
import { alwaysOpen as hours, salesReadyDemoRequests } from '../support/fixtures';

// GET /leads: the list view, from Postgres (not Temporal visibility).
let service: ServiceUnderTest;
const ops = { key: 'ops-dev' };
let rep: { id: string; apiKey: string };
let routed: string[] = [];
let nurtured: string;

beforeAll(async () => {
  // Demo requests from a made-up country score 40: sales-ready with this threshold, routed to the only rep covering it.
  service = await startService({ config: salesReadyDemoRequests });
  const suffix = randomUUID().slice(0, 6);
  await service.request('POST', '/teams', {
    ...ops,
    body: { id: `team-${suffix}`, name: 'List', countries: ['XK'], businessHours: hours },
  });
  rep = (
    await service.request('POST', '/reps', {
      ...ops,
      body: { id: `rep-${suffix}`, name: 'Lister', email: `lister-${suffix}@example.com`, teamId: `team-${suffix}` },
    })
  ).body;
  for (let i = 0; i < 3; i++) {
    const email = `list.${i}.${suffix}@prospect-${suffix}.com`;
    // The second comes from a webinar (+30) with a CEO title (+20): 40 as well.
    const fields = i === 1 ? { source: 'webinar', title: 'CEO' } : { source: 'demo_request' };
    const { leadId } = (await service.request('POST', '/leads', { body: { email, country: 'XK', ...fields } })).body;
    routed.push(leadId);
    // One at a time, so they are created in this order.
    await eventually(async () => expect((await service.request('GET', `/leads/${leadId}`, ops)).body.ownerId).toBe(rep.id));
  }
  // A webinar (+30) from there is 20: an mql lead, nurtured in mql-nurture.
  nurtured = (
    await service.request('POST', '/leads', {
      body: { email: `nurtured.${suffix}@prospect-${suffix}.com`, source: 'webinar', country: 'XK', consent: { email: 'opted_in' } },
    })
  ).body.leadId;
  await eventually(async () => {
    const { body } = await service.request('GET', `/leads?ownerId=${rep.id}`, ops);
    expect(body.leads).toHaveLength(3);
    expect((await service.request('GET', `/leads/${nurtured}`, ops)).body.cadence).toMatchObject({ name: 'mql-nurture' });
  });
  routed = routed.reverse(); // newest first
});
afterAll(async () => {
  await service?.close();
});

describe('GET /leads', () => {
  it('lists a rep’s leads newest first, a page at a time, with the full lead view', async () => {
    const first = await service.request('GET', `/leads?ownerId=${rep.id}&limit=2`, ops);
    expect(first.status).toBe(200);
    expect(first.body.leads.map((l: { leadId: string }) => l.leadId)).toEqual(routed.slice(0, 2));
    expect(first.body.leads[0]).toMatchObject({
      status: 'sql',
      ownerId: rep.id,
      sla: { breaches: 0 },
      temporalUiUrl: expect.stringContaining(routed[0]!),
    });
    expect(first.body.nextCursor).toEqual(expect.any(String));
    const second = await service.request('GET', `/leads?ownerId=${rep.id}&limit=2&cursor=${first.body.nextCursor}`, ops);
    expect(second.body.leads.map((l: { leadId: string }) => l.leadId)).toEqual(routed.slice(2));
    expect(second.body.nextCursor).toBeNull();
  });

  it('filters by status, source and cadence (name or name@version)', async () => {
    const ids = async (query: string) =>
      ((await service.request('GET', `/leads?${query}`, ops)).body.leads as { leadId: string }[]).map((l) => l.leadId);
    expect(await ids(`ownerId=${rep.id}&source=webinar`)).toEqual([routed[1]]);
    expect(await ids(`ownerId=${rep.id}&status=mql`)).toEqual([]);
    const { body: lead } = await service.request('GET', `/leads/${nurtured}`, ops);
    expect(await ids(`cadence=mql-nurture&limit=200`)).toContain(nurtured);
    expect(await ids(`cadence=mql-nurture@${lead.cadence.version}&status=mql&limit=200`)).toContain(nurtured);
    expect(await ids(`cadence=mql-nurture@${lead.cadence.version + 1}&limit=200`)).not.toContain(nurtured);
    expect(await ids(`cadence=marketing-pool&limit=200`)).not.toContain(nurtured);
  });

  it('gives a rep key its own leads only', async () => {
    const own = await service.request('GET', '/leads', { key: rep.apiKey });
    expect(own.status).toBe(200);
    expect(own.body.leads.map((l: { leadId: string }) => l.leadId)).toEqual(routed);
    const other = await service.request('GET', '/leads?ownerId=someone-else', { key: rep.apiKey });
    expect(other.status).toBe(403);
    expect(other.body.error.code).toBe('forbidden');
    expect((await service.request('GET', '/leads', { key: 'capture-dev' })).status).toBe(403);
    expect((await service.request('GET', '/leads', { key: null })).status).toBe(401);
  });

  it.each([
    ['limit=0', 'limit'],
    ['limit=many', 'limit'],
    ['status=hot', 'status'],
    ['source=fax', 'source'],
    ['cadence=Bad Name', 'cadence'],
    ['cursor=not-a-cursor', 'cursor'],
  ])('answers 400 naming the parameter for %s', async (query, path) => {
    const response = await service.request('GET', `/leads?${query}`, ops);
    expect(response.status).toBe(400);
    expect(response.body.error).toMatchObject({ code: 'validation_failed', details: [expect.objectContaining({ path })] });
  });
});
