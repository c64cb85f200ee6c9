import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, freshDatabase, startService, uniqueEmail, type ServiceUnderTest } from '../support/helpers';
import { salesReadyDemoRequests } from '../support/fixtures';

let service: ServiceUnderTest;
beforeAll(async () => {
  service = await startService({ apiKeys: 'capture-dev=capture,ops-dev=ops,marketing-dev=marketing' });
});
afterAll(async () => {
  await service?.close();
});

const asMarketing = { key: 'marketing-dev' };
const asOps = { key: 'ops-dev' };
/** The database is shared by every test file in the run: everything published here gets a name of its own. */
const uniqueName = () => `test-${randomUUID().slice(0, 8)}`;
const steps = [
  { after: 'P3D', channel: 'email', template: 'welcome' },
  { after: 'PT12H', channel: 'phone', template: 'call-1' },
];
const isoTimestamp = expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/);

const publish = (name: string, body: unknown, options: { key?: string | null } = asMarketing) =>
  service.request('POST', `/cadences/${name}/versions`, { ...options, body });

describe('GET /cadences', () => {
  it('lists the configured default cadences, published as version 1 on first read', async () => {
    const listed = await service.request('GET', '/cadences', asMarketing);
    expect(listed.status).toBe(200);
    const byName = new Map((listed.body.cadences as { name: string }[]).map((c) => [c.name, c]));
    for (const name of ['mql-nurture', 'marketing-pool']) {
      // Other test files may have published later versions: the list shows the newest.
      expect(byName.get(name)).toMatchObject({
        name,
        version: expect.any(Number),
        versions: expect.any(Number),
        steps: expect.any(Array),
        publishedAt: isoTimestamp,
      });
    }

    const nurture = await service.request('GET', '/cadences/mql-nurture', asOps);
    expect(nurture.status).toBe(200);
    expect(nurture.body.name).toBe('mql-nurture');
    expect(nurture.body.versions[0]).toMatchObject({ name: 'mql-nurture', version: 1, migrate: 'pinned', publishedAt: isoTimestamp });
    expect(nurture.body.versions[0].steps).toHaveLength(10);
    expect(nurture.body.versions[0].steps.every((s: { channel: string }) => s.channel === 'email')).toBe(true);

    const pool = await service.request('GET', '/cadences/marketing-pool', asOps);
    expect(pool.status).toBe(200);
    expect(pool.body.versions[0]).toMatchObject({ name: 'marketing-pool', version: 1, migrate: 'pinned' });
    expect(pool.body.versions[0].steps).toHaveLength(12);
    expect(pool.body.versions[0].steps.every((s: { after: string }) => s.after === 'P30D')).toBe(true);
    for (const body of [nurture.body, pool.body]) {
      expect(byName.get(body.name)).toMatchObject({ versions: body.versions.length, version: body.versions.at(-1).version });
    }
  });
});

describe('publishing versions', () => {
  it('numbers versions 1, 2, … and keeps each as sent, oldest first', async () => {
    const name = uniqueName();
    const first = await publish(name, { steps });
    expect(first.status).toBe(201);
    expect(first.body).toEqual({ name, version: 1, publishedAt: isoTimestamp });

    const secondSteps = [{ after: 'P1D', channel: 'email', template: 'welcome-v2' }];
    const second = await publish(name, { steps: secondSteps, migrate: 'next_step' });
    expect(second.status).toBe(201);
    expect(second.body).toEqual({ name, version: 2, publishedAt: isoTimestamp });

    const history = await service.request('GET', `/cadences/${name}`, asMarketing);
    expect(history.status).toBe(200);
    expect(history.body).toEqual({
      name,
      versions: [
        { name, version: 1, steps, migrate: 'pinned', publishedAt: first.body.publishedAt, enrolledLeads: 0 },
        { name, version: 2, steps: secondSteps, migrate: 'next_step', publishedAt: second.body.publishedAt, enrolledLeads: 0 },
      ],
    });

    const listed = await service.request('GET', '/cadences', asOps);
    expect(listed.body.cadences).toContainEqual({
      name,
      version: 2,
      steps: secondSteps,
      migrate: 'next_step',
      publishedAt: second.body.publishedAt,
      versions: 2,
    });
  });

  it('numbers concurrent publications without gaps or duplicates', async () => {
    const name = uniqueName();
    const responses = await Promise.all(
      Array.from({ length: 10 }, (_, i) => publish(name, { steps: [{ after: 'P1D', channel: 'email', template: `t-${i}` }] })),
    );
    expect(responses.map((r) => r.status)).toEqual(Array(10).fill(201));
    expect(responses.map((r) => r.body.version).sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);

    const history = await service.request('GET', `/cadences/${name}`, asOps);
    expect(history.body.versions.map((v: { version: number }) => v.version)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    // Each publication kept its own steps under the version it was answered with.
    for (const response of responses) {
      const version = history.body.versions.find((v: { version: number }) => v.version === response.body.version);
      expect(version.publishedAt).toBe(response.body.publishedAt);
    }
    expect(new Set(history.body.versions.map((v: { steps: { template: string }[] }) => v.steps[0]!.template)).size).toBe(10);
  });

  it('published versions cannot change, even directly in the database', async () => {
    const name = uniqueName();
    expect((await publish(name, { steps })).status).toBe(201);
    await expect(service.sql`UPDATE cadences SET steps = '[]' WHERE name = ${name}`).rejects.toThrow(/cannot change/);
    await expect(service.sql`DELETE FROM cadences WHERE name = ${name}`).rejects.toThrow(/cannot change/);
    const history = await service.request('GET', `/cadences/${name}`, asOps);
    expect(history.body.versions).toEqual([expect.objectContaining({ version: 1, steps })]);
  });
});

describe('roles', () => {
  it('ops may read but not publish', async () => {
    const name = uniqueName();
    expect((await service.request('GET', '/cadences', asOps)).status).toBe(200);
    expect((await service.request('GET', '/cadences/mql-nurture', asOps)).status).toBe(200);
    const denied = await publish(name, { steps }, asOps);
    expect(denied.status).toBe(403);
    expect(denied.body.error.code).toBe('forbidden');
    expect((await service.request('GET', `/cadences/${name}`, asOps)).status).toBe(404);
  });

  it('a capture key may not read, and a missing key is 401', async () => {
    for (const path of ['/cadences', '/cadences/mql-nurture']) {
      const denied = await service.request('GET', path, { key: 'capture-dev' });
      expect(denied.status).toBe(403);
      expect(denied.body.error.code).toBe('forbidden');
      const anonymous = await service.request('GET', path, { key: null });
      expect(anonymous.status).toBe(401);
      expect(anonymous.body.error.code).toBe('unauthorized');
    }
    const name = uniqueName();
    expect((await publish(name, { steps }, { key: 'capture-dev' })).status).toBe(403);
    const anonymous = await publish(name, { steps }, { key: null });
    expect(anonymous.status).toBe(401);
    expect(anonymous.body.error.code).toBe('unauthorized');
    expect((await service.request('GET', `/cadences/${name}`, asOps)).status).toBe(404);
  });
});

describe('errors', () => {
  it('GET /cadences/{name} of an unknown cadence is 404', async () => {
    const response = await service.request('GET', `/cadences/${uniqueName()}`, asMarketing);
    expect(response.status).toBe(404);
    expect(response.body.error).toEqual({ code: 'not_found', message: expect.any(String) });
  });

  describe('rejects bad input with 400 validation_failed naming the field, and publishes nothing', () => {
    const cases: { name: string; body: unknown; path: string; pathName?: string }[] = [
      { name: 'empty steps', body: { steps: [] }, path: 'steps' },
      { name: 'missing steps', body: { migrate: 'pinned' }, path: 'steps' },
      { name: 'a step after "3 days"', body: { steps: [{ ...steps[0], after: '3 days' }] }, path: 'steps.0.after' },
      { name: 'a zero duration', body: { steps: [steps[0], { ...steps[1], after: 'PT0S' }] }, path: 'steps.1.after' },
      { name: 'an unknown channel', body: { steps: [{ ...steps[0], channel: 'fax' }] }, path: 'steps.0.channel' },
      { name: 'an empty template', body: { steps: [{ ...steps[0], template: ' ' }] }, path: 'steps.0.template' },
      { name: 'an unknown migrate', body: { steps, migrate: 'always' }, path: 'migrate' },
      // An unknown key is named itself, so that a client sees which field to drop.
      { name: 'an extra field', body: { steps, publishedAt: '2020-01-01T00:00:00Z' }, path: 'publishedAt' },
      { name: 'an extra field in a step', body: { steps: [{ ...steps[0], subject: 'hi' }] }, path: 'steps.0.subject' },
      { name: 'an invalid name in the path', body: { steps }, path: 'name', pathName: encodeURIComponent('Bad Name!') },
      { name: 'an upper-case name in the path', body: { steps }, path: 'name', pathName: 'Mql-Nurture' },
    ];

    for (const testCase of cases) {
      it(testCase.name, async () => {
        const name = testCase.pathName ?? uniqueName();
        const response = await publish(name, testCase.body);
        expect(response.status).toBe(400);
        expect(response.body.error.code).toBe('validation_failed');
        expect(response.body.error.details).toContainEqual({ path: testCase.path, message: expect.any(String) });
        expect(response.body.error.message).toContain(testCase.path);
        expect(JSON.stringify(response.body)).not.toMatch(/at .*\.ts:\d+/); // no stack traces, ever
        const rows = await service.sql`SELECT 1 FROM cadences WHERE name = ${decodeURIComponent(name)}`;
        expect(rows).toHaveLength(0);
      });
    }

    it('an invalid name on GET', async () => {
      const response = await service.request('GET', `/cadences/${encodeURIComponent('Bad Name!')}`, asOps);
      expect(response.status).toBe(400);
      expect(response.body.error.code).toBe('validation_failed');
      expect(response.body.error.details).toContainEqual({ path: 'name', message: expect.any(String) });
    });
  });
});

describe('GET /cadences/{name}: leads enrolled on each version', () => {
  let own: ServiceUnderTest;
  beforeAll(async () => {
    // A database of its own: every other test file enrols leads in the same cadences.
    own = await startService({ databaseUrl: await freshDatabase('cadence-enrolled'), config: salesReadyDemoRequests });
  });
  afterAll(async () => {
    await own?.close();
  });
  const enrolled = async () =>
    ((await own.request('GET', '/cadences/mql-nurture', asMarketing)).body.versions as { version: number; enrolledLeads: number }[]).map(
      ({ version, enrolledLeads }) => [version, enrolledLeads],
    );

  it('counts the leads on each version, and a lead that moves on leaves the count', async () => {
    expect(await enrolled()).toEqual([[1, 0]]);
    // A webinar from a made-up country scores 20: an mql lead, enrolled in mql-nurture's current version.
    const capture = () => own.request('POST', '/leads', { body: { email: uniqueEmail('enrolled'), source: 'webinar', country: 'XK' } });
    const [first, second] = [(await capture()).body.leadId as string, (await capture()).body.leadId as string];
    await eventually(async () => expect(await enrolled()).toEqual([[1, 2]]));

    // A pinned version 2: the two stay on version 1, a lead captured now is enrolled on 2.
    expect(
      (await own.request('POST', '/cadences/mql-nurture/versions', { ...asMarketing, body: { steps, migrate: 'pinned' } })).status,
    ).toBe(201);
    await capture();
    await eventually(async () =>
      expect(await enrolled()).toEqual([
        [1, 2],
        [2, 1],
      ]),
    );

    // Disqualified: out of nurture, out of the count.
    expect((await own.request('POST', `/leads/${first}/disqualify`, { ...asOps, body: { reason: 'no_budget' } })).status).toBe(200);
    await eventually(async () =>
      expect(await enrolled()).toEqual([
        [1, 1],
        [2, 1],
      ]),
    );
    expect((await own.request('GET', `/leads/${second}`, asOps)).body.cadence).toMatchObject({ name: 'mql-nurture', version: 1 });
  });
});
