import { randomUUID } from 'node:crypto';
import { ApplicationFailure, WorkflowUpdateFailedError } from '@temporalio/client';
import { describe, expect, it } from 'vitest';
import { actionFailureTypes } from '../../contracts/failures';
import { workflowTier } from '../support/workflow-tier';

// Speed-to-lead on the workflow tier: the real lead workflow on the time-skipping server, the real
// activities over a lead store in memory. A demo request (+50) from a US (+15) CEO (+20) scores 85: sales-ready.
const tier = workflowTier();

const email = () => `buyer.${randomUUID().slice(0, 8)}@prospect-${randomUUID().slice(0, 6)}.com`;
const salesReady = () => ({ email: email(), source: 'demo_request' as const, country: 'US', title: 'CEO', company: 'Prospect' });
/** An mql lead: demo request +50, US +15, 250 employees +5 = 70. */
const mql = () => ({ email: email(), source: 'demo_request' as const, country: 'US', employees: 250 });

/** One US team of two reps (each with a manager of their own) and a team manager outside the rotation. */
function usTeam() {
  tier.store
    .addTeam({ id: 'team-us', countries: ['US'], managerId: 'mgr' })
    .addRep({ id: 'rep-a', teamId: 'team-us', managerId: 'boss-a' })
    .addRep({ id: 'rep-b', teamId: 'team-us', managerId: 'boss-b' })
    .addRep({ id: 'mgr', teamId: null });
}

const minutesSince = (start: number, at: string) => Math.round(((Date.parse(at) - start) / 60_000) * 2) / 2;
const ladder = ['assigned', 'sla_reminder', 'sla_breached', 'escalated'];

/** The update's failure: its type (NotOwner, InvalidState, UnknownRep) and message. */
async function rejection(action: Promise<unknown>): Promise<{ type: string | undefined; message: string }> {
  const error = await action.then(
    () => expect.unreachable('the action was applied'),
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(WorkflowUpdateFailedError);
  const cause = (error as WorkflowUpdateFailedError).cause;
  expect(cause).toBeInstanceOf(ApplicationFailure);
  return { type: (cause as ApplicationFailure).type ?? undefined, message: (cause as ApplicationFailure).message };
}

describe('capture, scoring, routing and the SLA ladder', () => {
  it('routes by the real decision: the account owner first, then the round robin, which skips a rep at capacity', async () => {
    tier.store
      .addTeam({ id: 'team-us', countries: ['US'] })
      .addRep({ id: 'rep-a', teamId: 'team-us', capacity: 1 })
      .addRep({ id: 'rep-b', teamId: 'team-us' })
      .addRep({ id: 'owner', teamId: null })
      .addAccount({ domain: 'acme.example', name: 'Acme', ownerId: 'owner' });
    const owners: [string | null | undefined, string | undefined][] = [];
    for (const address of [`cto.${randomUUID().slice(0, 8)}@acme.example`, email(), email(), email()]) {
      const leadId = await tier.capture({ ...salesReady(), email: address });
      const routing = tier.store.lead(leadId)!.routing;
      owners.push([routing?.ownerId, routing?.reason]);
    }
    expect(owners).toEqual([
      ['owner', 'account Acme (acme.example) is owned by owner'],
      ['rep-a', 'territory: team team-us covers US, smb; weighted round robin → rep-a'],
      // rep-a now holds one open lead, its capacity: the round robin passes it over.
      ['rep-b', 'territory: team team-us covers US, smb; weighted round robin → rep-b (skipped rep-a at capacity)'],
      ['rep-b', 'territory: team team-us covers US, smb; weighted round robin → rep-b (skipped rep-a at capacity)'],
    ]);
  });

  it('scores a captured lead sales-ready, routes it, reminds at 50%, reassigns at the breach and escalates at the next', async () => {
    usTeam();
    const start = await tier.now();
    const leadId = await tier.capture(salesReady());

    // Captured, scored 85, sales-ready, routed to the first rep in one go.
    expect(tier.store.timeline(leadId).map((e) => e.type)).toEqual([
      'captured',
      'enrichment_not_found',
      'score_changed',
      'status_changed',
      'assigned',
    ]);
    expect(tier.store.timeline(leadId, 'score_changed')[0]!.data).toMatchObject({
      score: 85,
      previousScore: null,
      reason: 'captured via demo_request',
    });
    expect(tier.store.timeline(leadId, 'status_changed')[0]!.data).toMatchObject({ status: 'sql', previous: 'new' });
    expect(tier.store.timeline(leadId, 'assigned')[0]!.data).toMatchObject({
      ownerId: 'rep-a',
      teamId: 'team-us',
      priority: 'P1',
      sla: 'PT5M',
    });
    expect(tier.store.lead(leadId)).toMatchObject({
      status: 'sql',
      score: { score: 85 },
      routing: { ownerId: 'rep-a', priority: 'P1', breaches: 0 },
    });
    expect(tier.store.lead(leadId)!.cadence).toBeUndefined();

    await tier.sleep('12 minutes');
    const steps = tier.store.timeline(leadId).filter((e) => ladder.includes(e.type));
    expect(steps.map((e) => [e.type, e.data.ownerId ?? e.data.to, minutesSince(start, e.at)])).toEqual([
      ['assigned', 'rep-a', 0],
      ['sla_reminder', 'rep-a', 2.5],
      ['sla_breached', 'rep-a', 5],
      ['assigned', 'rep-b', 5],
      ['sla_reminder', 'rep-b', 7.5],
      ['sla_breached', 'rep-b', 10],
      ['escalated', 'mgr', 10],
      ['assigned', 'mgr', 10],
    ]);
    expect(steps[3]!.data.reason).toContain('skipped rep-a just breached the SLA');
    expect(tier.store.outbox(leadId).map((n) => [n.kind, n.recipient])).toEqual([
      ['assignment', 'rep-a'],
      ['sla_reminder', 'rep-a'],
      ['sla_breach', 'boss-a'],
      ['assignment', 'rep-b'],
      ['sla_reminder', 'rep-b'],
      ['escalation', 'ops'],
      ['assignment', 'mgr'],
    ]);
    expect(tier.store.lead(leadId)).toMatchObject({ status: 'sql', routing: { ownerId: 'mgr', breaches: 2, dueAt: null } });
    const attributes = (await tier.env.client.workflow.getHandle(leadId).describe()).searchAttributes;
    expect(attributes).toMatchObject({ LeadStatus: ['sql'], LeadOwner: ['mgr'], LeadPriority: ['P1'], LeadScore: [85] });
  });

  it('the owner’s accept stops the clock and records the response time', async () => {
    usTeam();
    const leadId = await tier.capture(salesReady());
    await tier.sleep('1 minute');
    await expect(tier.act(leadId, 'accept', {}, { role: 'rep', repId: 'rep-a' })).resolves.toEqual({ status: 'accepted' });

    await tier.sleep('30 minutes');
    const types = tier.store.timeline(leadId).map((e) => e.type);
    expect(types).not.toContain('sla_reminder');
    expect(types).not.toContain('sla_breached');
    expect(tier.store.timeline(leadId, 'responded')[0]!.data).toMatchObject({ by: 'rep:rep-a', how: 'accept', withinSla: true });
    const routing = tier.store.lead(leadId)!.routing!;
    expect(routing.responseMs).toBeGreaterThanOrEqual(60_000);
    expect(routing.responseMs).toBeLessThan(65_000);
    expect(tier.store.lead(leadId)!.status).toBe('accepted');
    expect(tier.store.outbox(leadId).map((n) => [n.kind, n.recipient])).toEqual([['assignment', 'rep-a']]);
  });

  it('a lead no team covers waits in the unassigned queue and ops is told once', async () => {
    const leadId = await tier.capture(salesReady());
    expect(tier.store.lead(leadId)).toMatchObject({ status: 'sql', routing: { ownerId: null, dueAt: null } });
    expect(tier.store.timeline(leadId, 'unassigned')[0]!.data.reason).toBe('no team covers US, smb');
    // Routing is retried on a backoff (1, 2, 4 … minutes) without new alerts; a team appears and the next try takes it.
    await tier.sleep('4 minutes');
    usTeam();
    await tier.sleep('4 minutes');
    expect(tier.store.outbox(leadId).map((n) => [n.kind, n.recipient])).toEqual([
      ['unassigned', 'ops'],
      ['assignment', 'rep-a'],
    ]);
    expect(tier.store.lead(leadId)!.routing).toMatchObject({ ownerId: 'rep-a', priority: 'P1' });
  });
});

describe('rep and ops actions that do not fit', () => {
  it('are rejected with the failure the API maps to 409 / 403 / 400, and change nothing', async () => {
    usTeam();
    const nurtured = await tier.capture(mql());
    expect(tier.store.lead(nurtured)!.status).toBe('mql');
    expect(await rejection(tier.act(nurtured, 'accept', {}, { role: 'ops' }))).toEqual({
      type: actionFailureTypes.invalidState,
      message: 'cannot accept a lead that is mql',
    });
    expect(await rejection(tier.act(nurtured, 'convert', {}, { role: 'ops' }))).toEqual({
      type: actionFailureTypes.invalidState,
      message: 'cannot convert a lead that is mql',
    });

    const routed = await tier.capture(salesReady());
    expect(await rejection(tier.act(routed, 'accept', {}, { role: 'rep', repId: 'rep-b' }))).toEqual({
      type: actionFailureTypes.notOwner,
      message: "only the lead's owner (rep-a) or ops may accept this lead",
    });
    expect(await rejection(tier.act(routed, 'reassign', { ownerId: 'nobody' }, { role: 'ops' }))).toMatchObject({
      type: actionFailureTypes.unknownRep,
      message: 'no rep with id nobody',
    });
    await expect(tier.act(routed, 'accept', {}, { role: 'rep', repId: 'rep-a' })).resolves.toEqual({ status: 'accepted' });
    expect(await rejection(tier.act(routed, 'accept', {}, { role: 'rep', repId: 'rep-a' }))).toEqual({
      type: actionFailureTypes.invalidState,
      message: 'cannot accept a lead that is accepted',
    });

    // Nothing of the rejected actions reached the leads.
    expect(tier.store.lead(nurtured)!.status).toBe('mql');
    expect(tier.store.timeline(nurtured).map((e) => e.type)).not.toContain('responded');
    expect(tier.store.lead(routed)).toMatchObject({ status: 'accepted', routing: { ownerId: 'rep-a' } });
    expect(tier.store.timeline(routed, 'responded')).toHaveLength(1);
    expect(tier.store.timeline(routed, 'reassigned')).toHaveLength(0);
  });

  it('ops reassigns, the new owner converts, and the workflow ends converted', async () => {
    usTeam();
    const leadId = await tier.capture(salesReady());
    await expect(tier.act(leadId, 'reassign', { ownerId: 'rep-b' }, { role: 'ops' })).resolves.toEqual({ status: 'sql' });
    expect(tier.store.timeline(leadId, 'reassigned')[0]!.data).toMatchObject({ from: 'rep-a', to: 'rep-b', by: 'ops' });
    await expect(tier.act(leadId, 'convert', { opportunity: { name: 'Prospect deal' } }, { role: 'rep', repId: 'rep-b' })).resolves.toEqual(
      {
        status: 'converted',
      },
    );
    await expect(tier.outcome(leadId)).resolves.toEqual({ status: 'converted', reason: 'became an opportunity' });
    expect(tier.store.outbox(leadId).map((n) => [n.kind, n.recipient])).toEqual([
      ['assignment', 'rep-a'],
      ['assignment', 'rep-b'],
    ]);
  });
});
