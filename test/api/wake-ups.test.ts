import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sameLeadAfterMs } from '../../api/wake-ups';
import { eventually, freshDatabase, startService, type ServiceUnderTest } from '../support/helpers';
import { alwaysOpen as hours, salesReadyDemoRequests } from '../support/fixtures';

// The unassigned queue's wake-ups against the real worker, Temporal dev server and Postgres: a change
// to reps, teams or accounts signals `retryRouting` only to the waiting leads it could serve, in
// the background, and a run of edits signals each of them a bounded number of times. A database of
// its own: a team of another test covering any country would take this file's "nobody covers" leads.

let service: ServiceUnderTest;
// Made-up countries score −10 (outside the target region): a demo request (+50) is 40, sales-ready here.
beforeAll(async () => {
  service = await startService({ databaseUrl: await freshDatabase('wake_ups'), config: salesReadyDemoRequests });
});
afterAll(async () => {
  await service?.close();
});

const ops = { key: 'ops-dev' };
const suffix = randomUUID().slice(0, 6);
const repA = `rep-a-${suffix}`;
const repB = `rep-b-${suffix}`;

async function post(path: string, body: unknown) {
  const answer = await service.request('POST', path, { ...ops, body });
  expect(answer.status).toBe(201);
  return answer.body;
}

/** Captures a lead and waits until it waits in the unassigned queue. */
async function waiting(country: string, domain = `prospect-${randomUUID().slice(0, 6)}.com`) {
  const { status, body } = await service.request('POST', '/leads', {
    body: { email: `buyer.${randomUUID().slice(0, 8)}@${domain}`, source: 'demo_request', country },
  });
  expect(status).toBe(202);
  await eventually(async () => {
    const view = await service.request('GET', `/leads/${body.leadId}`, ops);
    expect(view.body).toMatchObject({ status: 'sql', ownerId: null, routingReason: expect.any(String) });
  });
  return body.leadId as string;
}

/** `retryRouting` signals in the lead's history. */
async function wakeUpsOf(leadId: string): Promise<number> {
  const history = await service.client.workflow.getHandle(leadId).fetchHistory();
  return history.events!.filter((e) => e.workflowExecutionSignaledEventAttributes?.signalName === 'retryRouting').length;
}

const ownerOf = async (leadId: string) => (await service.request('GET', `/leads/${leadId}`, ops)).body.ownerId as string | null;

describe('wake-ups of the unassigned queue', () => {
  // Team A's country (its one rep at capacity 0), team B's (its one rep inactive), and one no team covers.
  let inA: string;
  let inB: string;
  let nobodys: string;
  const nobodysDomain = `nobody-${suffix}.io`;
  beforeAll(async () => {
    await post('/teams', { id: `team-a-${suffix}`, name: 'A', countries: ['WA'], businessHours: hours });
    await post('/teams', { id: `team-b-${suffix}`, name: 'B', countries: ['WB'], businessHours: hours });
    await post('/reps', { id: repA, name: 'A', email: `a-${suffix}@example.com`, teamId: `team-a-${suffix}`, capacity: 0 });
    await post('/reps', { id: repB, name: 'B', email: `b-${suffix}@example.com`, teamId: `team-b-${suffix}`, active: false });
    [inA, inB, nobodys] = await Promise.all([waiting('WA'), waiting('WB'), waiting('WZ', nobodysDomain)]);
    await service.wakeUps.settled();
  });

  it("wake the waiting leads a rep's change could serve, and no lead of another territory", async () => {
    expect(await Promise.all([inA, inB, nobodys].map(wakeUpsOf))).toEqual([0, 0, 0]);

    const patched = await service.request('PATCH', `/reps/${repA}`, { ...ops, body: { capacity: 5 } });
    expect(patched.status).toBe(200);
    await eventually(async () => expect(await ownerOf(inA)).toBe(repA));
    await service.wakeUps.settled();

    expect(await wakeUpsOf(inA)).toBe(1);
    expect(await wakeUpsOf(inB)).toBe(0);
    expect(await wakeUpsOf(nobodys)).toBe(0);
    expect(await ownerOf(inB)).toBeNull();
    expect(await ownerOf(nobodys)).toBeNull();
  });

  it('signal each lead a bounded number of times for 50 edits in a row, and nobody else', async () => {
    const before = { inB: await wakeUpsOf(inB), nobodys: await wakeUpsOf(nobodys) };
    const started = Date.now();
    // An import script: the rep stays inactive, so team B's lead stays waiting through all of it.
    for (let weight = 1; weight <= 50; weight++) {
      expect((await service.request('PATCH', `/reps/${repB}`, { ...ops, body: { weight } })).status).toBe(200);
    }
    const edits = Date.now() - started;
    await service.wakeUps.settled();

    // Once at the first edit, then at most once per `sameLeadAfterMs` while the edits go on.
    const signalled = (await wakeUpsOf(inB)) - before.inB;
    expect(signalled).toBeGreaterThanOrEqual(1);
    expect(signalled).toBeLessThanOrEqual(1 + Math.ceil(edits / sameLeadAfterMs));
    expect(await wakeUpsOf(nobodys)).toBe(before.nobodys);
    expect(await ownerOf(inB)).toBeNull();
  });

  it('wake the leads of an account’s domain when the account changes', async () => {
    // Rep A, now with room, owns the account of the lead no team covers: account owners come first.
    await post('/accounts', { domain: nobodysDomain, name: 'Nobody Inc', ownerId: repA });
    await eventually(async () => expect(await ownerOf(nobodys)).toBe(repA));
    await service.wakeUps.settled();
    expect(await wakeUpsOf(nobodys)).toBe(1);
    expect(await ownerOf(inB)).toBeNull();
  });

  it('wake, for a new team and its first rep, the leads it takes in routing order, not those an earlier team takes', async () => {
    const uncovered = await waiting('WY');
    const before = await wakeUpsOf(inB);
    // Team B, added earlier, keeps WB: only the WY lead now falls to team C (no reps yet: it stays waiting).
    await post('/teams', { id: `team-c-${suffix}`, name: 'C', countries: ['WB', 'WY'], businessHours: hours });
    await service.wakeUps.settled();
    await eventually(async () => expect(await wakeUpsOf(uncovered)).toBe(1));
    expect(await wakeUpsOf(inB)).toBe(before);

    // Its first rep takes the lead at once, not at the lead's next backoff.
    await post('/reps', { id: `rep-c-${suffix}`, name: 'C', email: `c-${suffix}@example.com`, teamId: `team-c-${suffix}` });
    await eventually(async () => expect(await ownerOf(uncovered)).toBe(`rep-c-${suffix}`));
    await service.wakeUps.settled();
    expect(await wakeUpsOf(inB)).toBe(before);
  });
});
