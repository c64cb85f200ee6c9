import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ActionName } from '../../domain/actions';
import { eventually, startService, type ServiceUnderTest } from '../support/helpers';
import { alwaysOpen as hours, salesReadyDemoRequests } from '../support/fixtures';

let service: ServiceUnderTest;
// Made-up countries score −10 (outside the target region): a demo request (+50) is 40, sales-ready here.
beforeAll(async () => {
  service = await startService({ config: salesReadyDemoRequests });
});
afterAll(async () => {
  await service?.close();
});

const ops = { key: 'ops-dev' };

async function teamWithReps(country: string, count = 2) {
  const suffix = randomUUID().slice(0, 6);
  const team = await service.request('POST', '/teams', {
    ...ops,
    body: { id: `team-${suffix}`, name: `Team ${country}`, countries: [country], businessHours: hours },
  });
  expect(team.status).toBe(201);
  const reps: { id: string; apiKey: string }[] = [];
  for (let i = 0; i < count; i++) {
    const rep = await service.request('POST', '/reps', {
      ...ops,
      body: { id: `rep-${i}-${suffix}`, name: `Rep ${i}`, email: `rep${i}-${suffix}@example.com`, teamId: team.body.id },
    });
    expect(rep.status).toBe(201);
    reps.push(rep.body);
  }
  return { teamId: team.body.id as string, reps };
}

/** Captures a lead and waits until the workflow has it in `status` (sql leads: until routed). */
async function lead(country: string, source: string, status: string) {
  const { body } = await service.request('POST', '/leads', {
    body: { email: `buyer.${randomUUID().slice(0, 8)}@prospect-${randomUUID().slice(0, 6)}.com`, source, country },
  });
  return eventually(async () => {
    const view = await service.request('GET', `/leads/${body.leadId}`, ops);
    expect(view.body.status).toBe(status);
    if (status === 'sql') expect(view.body.routingReason).toEqual(expect.any(String));
    return view.body as { leadId: string; ownerId: string | null; status: string };
  });
}

const act = (leadId: string, action: ActionName, body: unknown, key: string | null) =>
  service.request('POST', `/leads/${leadId}/${action}`, { body, key });

const bodies: Record<ActionName, unknown> = {
  accept: {},
  touches: { channel: 'call' },
  disqualify: { reason: 'no_budget' },
  convert: { opportunity: { name: 'Deal', amount: 12000 } },
  recycle: { reason: 'timing' },
  reassign: { ownerId: 'nobody-yet' },
};

describe('rep and ops actions: who may act, and on what', () => {
  let routed: { leadId: string; ownerId: string | null };
  let otherRepKey: string;
  let ownerKey: string;
  let nurtured: { leadId: string };
  beforeAll(async () => {
    const { reps } = await teamWithReps('XP');
    routed = await lead('XP', 'demo_request', 'sql');
    ownerKey = reps.find((r) => r.id === routed.ownerId)!.apiKey;
    otherRepKey = reps.find((r) => r.id !== routed.ownerId)!.apiKey;
    nurtured = await lead('XP', 'webinar', 'mql'); // webinar +30, outside region −10 = 20
    bodies.reassign = { ownerId: reps.find((r) => r.id !== routed.ownerId)!.id };
  });

  for (const action of Object.keys(bodies) as ActionName[]) {
    it(`${action}: 401 without a key or with an unknown one`, async () => {
      expect((await act(routed.leadId, action, bodies[action], null)).status).toBe(401);
      expect((await act(routed.leadId, action, bodies[action], 'rk_not-a-key')).status).toBe(401);
    });

    it(`${action}: 403 for a capture key; a rep who does not own the lead is answered as for no lead at all`, async () => {
      const capture = await act(routed.leadId, action, bodies[action], 'capture-dev');
      expect(capture.status).toBe(403);
      const notOwner = await act(routed.leadId, action, bodies[action], otherRepKey);
      const unknownId = `${routed.leadId.slice(0, -1)}${routed.leadId.endsWith('0') ? '1' : '0'}`;
      const unknown = await act(unknownId, action, bodies[action], otherRepKey);
      // reassign is refused to every rep key by role (403 whatever the lead); the others answer 404.
      expect(notOwner.status).toBe(action === 'reassign' ? 403 : 404);
      expect(unknown.status).toBe(notOwner.status);
      expect(notOwner.body.error.code).toBe(unknown.body.error.code);
      expect(notOwner.body.error.message.replace(routed.leadId, 'ID')).toBe(unknown.body.error.message.replace(unknownId, 'ID'));
    });

    it(`${action}: 409 naming the status when it does not fit the lead`, async () => {
      const target = action === 'disqualify' ? routed : nurtured; // disqualify fits an mql lead
      if (action === 'disqualify') {
        const converted = await lead('XP', 'demo_request', 'sql');
        expect((await act(converted.leadId, 'convert', {}, 'ops-dev')).status).toBe(200);
        const rejected = await act(converted.leadId, action, bodies[action], 'ops-dev');
        expect(rejected.status).toBe(409);
        expect(rejected.body.error).toMatchObject({ code: 'invalid_state', message: expect.stringContaining('converted') });
        return;
      }
      const rejected = await act(target.leadId, action, bodies[action], 'ops-dev');
      expect(rejected.status).toBe(409);
      expect(rejected.body.error).toMatchObject({ code: 'invalid_state', message: expect.stringContaining('mql') });
    });
  }

  it('reassign is for ops alone, even for the owner', async () => {
    expect((await act(routed.leadId, 'reassign', bodies.reassign, ownerKey)).status).toBe(403);
  });
});

describe('rep and ops actions: what they do', () => {
  let reps: { id: string; apiKey: string }[];
  beforeAll(async () => {
    ({ reps } = await teamWithReps('XQ'));
  });
  const keyOf = (ownerId: string | null) => reps.find((r) => r.id === ownerId)!.apiKey;
  const timeline = async (leadId: string) =>
    (await service.request('GET', `/leads/${leadId}/timeline`, ops)).body.events as { type: string; data: any; actor: string }[];

  it('accept: sql → accepted, stops the SLA clock and records the response time', async () => {
    const routed = await lead('XQ', 'demo_request', 'sql');
    const response = await act(routed.leadId, 'accept', {}, keyOf(routed.ownerId));
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({ status: 'accepted', ownerId: routed.ownerId });
    const responded = (await timeline(routed.leadId)).find((e) => e.type === 'responded')!;
    expect(responded).toMatchObject({ actor: `rep:${routed.ownerId}`, data: { how: 'accept', withinSla: true } });
    expect(responded.data.responseMs).toBeGreaterThanOrEqual(0);
  });

  it('touches: logged with the channel; the first one stops the clock and accepts', async () => {
    const routed = await lead('XQ', 'demo_request', 'sql');
    expect((await act(routed.leadId, 'touches', { channel: 'email', note: 'sent deck' }, keyOf(routed.ownerId))).body.status).toBe(
      'accepted',
    );
    expect((await act(routed.leadId, 'touches', { channel: 'call' }, keyOf(routed.ownerId))).status).toBe(200);
    const events = await timeline(routed.leadId);
    expect(events.filter((e) => e.type === 'touch').map((e) => e.data)).toEqual([
      { channel: 'email', note: 'sent deck' },
      { channel: 'call', note: null },
    ]);
    expect(events.filter((e) => e.type === 'responded')).toHaveLength(1);
  });

  it('disqualify: needs a standard reason, and a note for "other"; the workflow completes', async () => {
    const routed = await lead('XQ', 'demo_request', 'sql');
    const bad = await act(routed.leadId, 'disqualify', { reason: 'bored' }, keyOf(routed.ownerId));
    expect(bad.status).toBe(400);
    expect(bad.body.error.details).toContainEqual({ path: 'reason', message: expect.any(String) });
    const noNote = await act(routed.leadId, 'disqualify', { reason: 'other' }, keyOf(routed.ownerId));
    expect(noNote.status).toBe(400);
    expect(noNote.body.error.details).toEqual([{ path: 'note', message: 'is required when reason is "other"' }]);
    const done = await act(routed.leadId, 'disqualify', { reason: 'other', note: 'acquired by a customer' }, keyOf(routed.ownerId));
    expect(done.body).toMatchObject({ status: 'disqualified', statusReason: 'other' });
    await eventually(async () => expect((await service.client.workflow.getHandle(routed.leadId).describe()).status.name).toBe('COMPLETED'));
  });

  it('convert: the workflow completes, and later actions are refused with the status', async () => {
    const routed = await lead('XQ', 'demo_request', 'sql');
    const converted = await act(
      routed.leadId,
      'convert',
      { opportunity: { name: 'Acme expansion', amount: 50_000 } },
      keyOf(routed.ownerId),
    );
    expect(converted.body.status).toBe('converted');
    expect(await service.client.workflow.getHandle(routed.leadId).result()).toEqual({
      status: 'converted',
      reason: 'became an opportunity',
    });
    const late = await act(routed.leadId, 'accept', {}, keyOf(routed.ownerId));
    expect(late.status).toBe(409);
    expect(late.body.error.message).toContain('converted');
  });

  it('recycle: back to marketing with a reason, freeing the rep', async () => {
    const routed = await lead('XQ', 'demo_request', 'sql');
    const recycled = await act(routed.leadId, 'recycle', { reason: 'budget' }, keyOf(routed.ownerId));
    expect(recycled.body).toMatchObject({ status: 'recycled', statusReason: 'budget', ownerId: null });
    expect((await timeline(routed.leadId)).find((e) => e.type === 'recycled')!.data).toMatchObject({
      reason: 'budget',
      previousOwner: routed.ownerId,
    });
  });

  it('reassign (ops): a new owner with a fresh SLA clock; an unknown rep is a 400 naming ownerId', async () => {
    const routed = await lead('XQ', 'demo_request', 'sql');
    const other = reps.find((r) => r.id !== routed.ownerId)!.id;
    const unknown = await act(routed.leadId, 'reassign', { ownerId: 'rep-nobody' }, 'ops-dev');
    expect(unknown.status).toBe(400);
    expect(unknown.body.error.details).toEqual([{ path: 'ownerId', message: 'no rep with id rep-nobody' }]);
    const before = (await service.request('GET', `/leads/${routed.leadId}`, ops)).body;
    const moved = await act(routed.leadId, 'reassign', { ownerId: other }, 'ops-dev');
    expect(moved.body).toMatchObject({ ownerId: other, status: 'sql' });
    expect(new Date(moved.body.sla.dueAt).getTime()).toBeGreaterThan(new Date(before.sla.dueAt).getTime());
    const events = await timeline(routed.leadId);
    expect(events.find((e) => e.type === 'reassigned')!.data).toEqual({ from: routed.ownerId, to: other, by: 'ops' });
  });
});

describe('the unassigned queue', () => {
  it('alerts ops, and assigns the lead as soon as a rep becomes eligible', async () => {
    const suffix = randomUUID().slice(0, 6);
    const team = await service.request('POST', '/teams', {
      ...ops,
      body: { id: `team-${suffix}`, name: 'Empty team', countries: ['XR'], businessHours: hours },
    });
    const waiting = await lead('XR', 'demo_request', 'sql');
    expect(waiting.ownerId).toBeNull();
    await eventually(async () =>
      expect(await service.sql`SELECT kind, recipient FROM notifications WHERE lead_id = ${waiting.leadId}`).toEqual([
        { kind: 'unassigned', recipient: 'ops' },
      ]),
    );

    const rep = await service.request('POST', '/reps', {
      ...ops,
      body: { id: `rep-late-${suffix}`, name: 'Late', email: `late-${suffix}@example.com`, teamId: team.body.id },
    });
    expect(rep.status).toBe(201);
    await eventually(async () =>
      expect((await service.request('GET', `/leads/${waiting.leadId}`, ops)).body.ownerId).toBe(`rep-late-${suffix}`),
    );
  });
});

describe('reps, teams and accounts (ops)', () => {
  it('returns a rep’s API key once, at creation, and stores only its hash', async () => {
    const created = await service.request('POST', '/reps', { ...ops, body: { name: 'Kim', email: 'kim@example.com' } });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      id: expect.stringMatching(/^rep-/),
      weight: 1,
      capacity: 50,
      active: true,
      apiKey: expect.stringMatching(/^rk_/),
    });
    const listed = (await service.request('GET', '/reps', ops)).body.reps.find((r: { id: string }) => r.id === created.body.id);
    expect(listed).not.toHaveProperty('apiKey');
    const [stored] = await service.sql`SELECT api_key_hash FROM reps WHERE id = ${created.body.id}`;
    expect(stored!.api_key_hash).not.toContain(created.body.apiKey);
    // The key works as a rep key: a rep may not manage reps.
    expect((await service.request('GET', '/reps', { key: created.body.apiKey })).status).toBe(403);
  });

  it('patches a rep, and names bad fields', async () => {
    const created = await service.request('POST', '/reps', { ...ops, body: { name: 'Lee', email: 'lee@example.com' } });
    const patched = await service.request('PATCH', `/reps/${created.body.id}`, {
      ...ops,
      body: { outOfOfficeUntil: '2026-12-24T00:00:00Z', weight: 3 },
    });
    expect(patched.body).toMatchObject({ outOfOfficeUntil: '2026-12-24T00:00:00.000Z', weight: 3 });
    expect((await service.request('PATCH', '/reps/rep-missing', { ...ops, body: { weight: 2 } })).status).toBe(404);
    const badTeam = await service.request('PATCH', `/reps/${created.body.id}`, { ...ops, body: { teamId: 'team-missing' } });
    expect(badTeam.status).toBe(400);
    expect(badTeam.body.error.details).toEqual([{ path: 'teamId', message: 'no team with id team-missing' }]);
    const badWeight = await service.request('PATCH', `/reps/${created.body.id}`, { ...ops, body: { weight: 0 } });
    expect(badWeight.body.error.details).toContainEqual({ path: 'weight', message: expect.any(String) });
    expect(
      (await service.request('POST', '/reps', { ...ops, body: { id: created.body.id, name: 'Dup', email: 'dup@example.com' } })).status,
    ).toBe(409);
  });

  describe('PATCH /reps/{id} changes exactly the fields it names', () => {
    // Every field away from its default, so that a default filled in by the patch would show.
    async function unusualRep() {
      const suffix = randomUUID().slice(0, 6);
      const team = await service.request('POST', '/teams', {
        ...ops,
        body: { name: 'Patch team', countries: ['AQ'], businessHours: hours },
      });
      const body = {
        name: 'Noor',
        email: `noor-${suffix}@example.com`,
        teamId: team.body.id,
        weight: 3,
        capacity: 7,
        active: false,
        outOfOfficeUntil: '2026-01-05T00:00:00.000Z',
        managerId: 'mgr-1',
      };
      const created = await service.request('POST', '/reps', { ...ops, body });
      expect(created.status).toBe(201);
      const { apiKey: _, ...rep } = created.body;
      return rep as Record<string, unknown> & { id: string };
    }
    const read = async (id: string) => (await service.request('GET', '/reps', ops)).body.reps.find((r: { id: string }) => r.id === id);

    const changes: Record<string, unknown> = {
      name: 'Noor B.',
      email: 'noor.b@example.com',
      weight: 5,
      capacity: 9,
      active: true,
      outOfOfficeUntil: '2026-02-01T00:00:00.000Z',
      managerId: 'mgr-2',
      teamId: null,
    };
    for (const [field, value] of Object.entries(changes)) {
      it(`${field} alone`, async () => {
        const rep = await unusualRep();
        const patched = await service.request('PATCH', `/reps/${rep.id}`, { ...ops, body: { [field]: value } });
        expect(patched.status).toBe(200);
        expect(patched.body).toEqual({ ...rep, [field]: value });
        expect(await read(rep.id)).toEqual({ ...rep, [field]: value });
      });
    }

    it('null clears the nullable fields alone, and is refused for the others', async () => {
      const rep = await unusualRep();
      let expected = rep;
      for (const field of ['teamId', 'outOfOfficeUntil', 'managerId']) {
        expect((await service.request('PATCH', `/reps/${rep.id}`, { ...ops, body: { [field]: null } })).status).toBe(200);
        expected = { ...expected, [field]: null };
        expect(await read(rep.id)).toEqual(expected);
      }
      for (const field of ['name', 'email', 'weight', 'capacity', 'active']) {
        const refused = await service.request('PATCH', `/reps/${rep.id}`, { ...ops, body: { [field]: null } });
        expect(refused.status).toBe(400);
        expect(refused.body.error.details).toContainEqual({ path: field, message: expect.any(String) });
      }
      expect(await read(rep.id)).toEqual(expected);
    });

    it('keeps weight and capacity when deactivating, and stays inactive when renamed', async () => {
      const rep = await unusualRep();
      await service.request('PATCH', `/reps/${rep.id}`, { ...ops, body: { active: true } });
      await service.request('PATCH', `/reps/${rep.id}`, { ...ops, body: { active: false } });
      expect(await read(rep.id)).toMatchObject({ weight: 3, capacity: 7, active: false });
      await service.request('PATCH', `/reps/${rep.id}`, { ...ops, body: { name: 'Noor C.' } });
      expect(await read(rep.id)).toEqual({ ...rep, name: 'Noor C.' });
    });
  });

  it('validates teams (time zone, weekdays, hours) and accounts (domain, owner)', async () => {
    const badTeam = await service.request('POST', '/teams', {
      ...ops,
      body: { name: 'T', businessHours: { timeZone: 'Mars/Olympus', days: [9], start: '9am', end: '17:00' } },
    });
    expect(badTeam.status).toBe(400);
    expect(badTeam.body.error.details.map((d: { path: string }) => d.path).sort()).toEqual([
      'businessHours.days.0',
      'businessHours.start',
      'businessHours.timeZone',
    ]);
    // 24:00 ends a day that has no closed minute; nothing later does, and no day starts at 24:00.
    const hours = (start: string, end: string) => ({
      name: 'T',
      countries: ['AQ'],
      businessHours: { timeZone: 'UTC', days: [1], start, end },
    });
    expect((await service.request('POST', '/teams', { ...ops, body: hours('00:00', '24:00') })).status).toBe(201);
    for (const [start, end, path] of [
      ['00:00', '24:01', 'businessHours.end'],
      ['24:00', '24:00', 'businessHours.start'],
    ]) {
      const refused = await service.request('POST', '/teams', { ...ops, body: hours(start!, end!) });
      expect(refused.body.error.details.map((d: { path: string }) => d.path)).toEqual([path]);
    }
    const badAccount = await service.request('POST', '/accounts', {
      ...ops,
      body: { domain: 'not a domain', name: 'X', ownerId: 'rep-missing' },
    });
    expect(badAccount.body.error.details).toContainEqual({ path: 'domain', message: expect.any(String) });
    const account = await service.request('POST', '/accounts', { ...ops, body: { domain: 'Globex.COM', name: 'Globex' } });
    expect(account.body).toEqual({ domain: 'globex.com', name: 'Globex', ownerId: null });
  });
});
