import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { workflowTier } from '../support/workflow-tier';

// Nurture, recycling and aging on the workflow tier: months pass in seconds on the time-skipping
// server, and what the lead was sent is read from the in-memory outbox.
const tier = workflowTier();
const day = 24 * 60 * 60 * 1000;

const email = () => `nurtured.${randomUUID().slice(0, 8)}@prospect-${randomUUID().slice(0, 6)}.com`;
/**
 * An mql lead that stays mql through decay: demo request +50, US +15, 250 employees +5 = 70
 * (−10 after 30 quiet days, −30 after 90: never below 40).
 */
const mql = (consent: 'opted_in' | 'unknown' = 'opted_in') => ({
  email: email(),
  source: 'demo_request' as const,
  country: 'US',
  employees: 250,
  consent: { email: consent },
});
const days = (from: string, to: string) => (Date.parse(to) - Date.parse(from)) / day;
/** Days to the minute: a workflow task runs a second or so after its timer fires. */
const about = (d: number) => Math.round(d * 24 * 60) / (24 * 60);

describe('mql-nurture', () => {
  it('sends its ten steps at their offsets, recycles the exhausted lead, re-engages it at 30/60/90 days and archives it', async () => {
    const lead = mql();
    const leadId = await tier.capture(lead);
    expect(tier.store.lead(leadId)).toMatchObject({
      status: 'mql',
      score: { score: 70 },
      cadence: { name: 'mql-nurture', version: 1, step: 0 },
    });
    const [enrolled] = tier.store.timeline(leadId, 'cadence_enrolled');
    expect(enrolled!.data).toMatchObject({ cadence: 'mql-nurture', version: 1, steps: 10 });

    await tier.sleep('181 days');
    // The default cadence (config/defaults.json): 3, 7, 14, 14, 21, 21, 21, 21, 28 and 30 days apart.
    const offsets = [3, 10, 24, 38, 59, 80, 101, 122, 150, 180];
    const steps = tier.store.timeline(leadId, 'cadence_step');
    expect(steps.map((s) => days(enrolled!.at, s.data.dueAt as string))).toEqual(offsets);
    expect(steps.map((s) => about(days(enrolled!.at, s.at)))).toEqual(offsets);
    expect(steps.map((s) => [s.data.step, s.data.sent])).toEqual(offsets.map((_, i) => [i + 1, true]));
    const sent = tier.store.outbox(leadId, 'cadence_step');
    expect(sent.map((n) => n.recipient)).toEqual(offsets.map(() => lead.email));
    expect(sent.map((n) => n.data.template)).toEqual(tier.config.cadences['mql-nurture']!.map((s) => s.template));

    // Exhausted at day 180: recycled, out of the cadence.
    const [recycled] = tier.store.timeline(leadId, 'recycled');
    expect(recycled!.data).toMatchObject({ reason: 'no_response', by: 'system' });
    expect(about(days(enrolled!.at, recycled!.at))).toBe(180);
    expect(tier.store.lead(leadId)).toMatchObject({ status: 'recycled', statusReason: 'no_response' });
    expect(tier.store.lead(leadId)!.cadence).toBeUndefined();
    expect(tier.store.timeline(leadId, 'cadence_exited')[0]!.data).toMatchObject({
      cadence: 'mql-nurture',
      step: 10,
      reason: 'lead is recycled',
    });

    // Re-engaged at 30, 60 and 90 days, archived as unresponsive with the last call.
    await expect(tier.outcome(leadId)).resolves.toEqual({ status: 'archived', reason: 'unresponsive' });
    const reengagements = tier.store.timeline(leadId, 'reengagement');
    expect(reengagements.map((r) => [about(days(recycled!.at, r.at)), r.data.sent])).toEqual([
      [30, true],
      [60, true],
      [90, true],
    ]);
    expect(tier.store.outbox(leadId, 'reengagement').map((n) => [n.recipient, n.data.template])).toEqual([
      [lead.email, 'recycled-checkin-30d'],
      [lead.email, 'recycled-checkin-60d'],
      [lead.email, 'recycled-last-call-90d'],
    ]);
    const archived = tier.store.timeline(leadId, 'status_changed').at(-1)!;
    expect(archived.data).toMatchObject({ status: 'archived', previous: 'recycled', reason: 'unresponsive' });
    expect(about(days(recycled!.at, archived.at))).toBe(90);
    expect(tier.store.lead(leadId)!.status).toBe('archived');
    // Only the lead was written to: no rep, manager or ops alert in six months of nurture.
    expect(new Set(tier.store.outbox(leadId).map((n) => n.kind))).toEqual(new Set(['cadence_step', 'reengagement']));
  });

  it('records steps as skipped without email consent; 90 days without activity then close the lead', async () => {
    const lead = mql('unknown');
    const leadId = await tier.capture(lead);
    const captured = tier.store.timeline(leadId, 'captured')[0]!.at;
    await expect(tier.outcome(leadId)).resolves.toEqual({ status: 'disqualified', reason: 'unresponsive' });

    // Six steps fell due before day 90; none was sent, so none counted as activity.
    const steps = tier.store.timeline(leadId, 'cadence_step');
    expect(steps.map((s) => [s.data.step, s.data.sent, s.data.skipped])).toEqual(
      [1, 2, 3, 4, 5, 6].map((step) => [step, false, 'email consent is unknown']),
    );
    expect(tier.store.outbox(leadId)).toEqual([]);
    const closed = tier.store.timeline(leadId, 'status_changed').at(-1)!;
    expect(closed.data).toMatchObject({ status: 'disqualified', previous: 'mql', reason: 'unresponsive' });
    expect(about(days(captured, closed.at))).toBe(90);
    expect(tier.store.lead(leadId)).toMatchObject({ status: 'disqualified', statusReason: 'unresponsive' });

    // A new capture of the closed lead starts a new run from the stored lead: reactivated, nurtured again.
    await tier.capture({ email: lead.email, source: 'newsletter', consent: { email: 'opted_in' } });
    expect(tier.store.timeline(leadId, 'reactivated').map((e) => e.data.previousStatus)).toEqual(['disqualified']);
    expect(tier.store.timeline(leadId, 'captured').map((e) => [e.data.source, e.data.merged])).toEqual([
      ['demo_request', false],
      ['newsletter', false],
    ]);
    expect(tier.store.lead(leadId)).toMatchObject({
      status: 'mql',
      profile: { source: 'demo_request' },
      cadence: { name: 'mql-nurture', step: 0 },
    });
  });

  it('an engagement restarts the 90 days', async () => {
    const leadId = await tier.capture(mql('unknown'));
    const captured = tier.store.timeline(leadId, 'captured')[0]!.at;
    await tier.sleep('60 days');
    await tier.engage(leadId, 'opened_email'); // engagement without points: the lead stays mql
    await tier.sleep('89 days');
    expect(tier.store.lead(leadId)!.status).toBe('mql');
    await expect(tier.outcome(leadId)).resolves.toEqual({ status: 'disqualified', reason: 'unresponsive' });
    const closed = tier.store.timeline(leadId, 'status_changed').at(-1)!;
    expect(about(days(captured, closed.at))).toBe(150);
  });
});

describe('engagement', () => {
  it('re-scores once per reported activity (deduplicated by activity id) and routes the lead that crosses 75', async () => {
    tier.store.addTeam({ id: 'team-us', countries: ['US'] }).addRep({ id: 'rep-a', teamId: 'team-us' });
    const leadId = await tier.capture(mql());
    await tier.sleep('4 days'); // the first step is sent
    expect(tier.store.outbox(leadId, 'cadence_step')).toHaveLength(1);

    await tier.engage(leadId, 'visited_pricing_page', 'evt-1'); // +15 = 85
    await tier.engage(leadId, 'visited_pricing_page', 'evt-1'); // the same report again: ignored
    await tier.engage(leadId, 'visited_pricing_page', 'evt-2'); // another visit: recorded, but the rule fires once per lead

    expect(tier.store.timeline(leadId, 'activity').map((e) => e.key)).toEqual(['activity:evt-1', 'activity:evt-2']);
    expect(tier.store.timeline(leadId, 'score_changed').map((e) => [e.data.score, e.data.reason])).toEqual([
      [70, 'captured via demo_request'],
      [85, 'activity visited_pricing_page'],
    ]);
    expect(tier.store.timeline(leadId, 'status_changed').map((e) => [e.data.previous, e.data.status])).toEqual([
      ['new', 'mql'],
      ['mql', 'sql'],
    ]);
    expect(tier.store.timeline(leadId, 'cadence_exited')[0]!.data).toMatchObject({
      cadence: 'mql-nurture',
      step: 1,
      reason: 'lead is sql',
    });
    expect(tier.store.lead(leadId)).toMatchObject({ status: 'sql', score: { score: 85 }, routing: { ownerId: 'rep-a', priority: 'P1' } });
    expect(tier.store.lead(leadId)!.cadence).toBeUndefined();
    expect(tier.store.outbox(leadId).map((n) => n.kind)).toEqual(['cadence_step', 'assignment']);

    // Out of the cadence: no more steps once the rep has it.
    await tier.act(leadId, 'accept', {}, { role: 'rep', repId: 'rep-a' });
    await tier.sleep('20 days');
    expect(tier.store.outbox(leadId, 'cadence_step')).toHaveLength(1);
  });

  it('an unsubscribe withdraws email consent: later steps are skipped and the score drops', async () => {
    const leadId = await tier.capture(mql());
    await tier.engage(leadId, 'unsubscribed');
    expect(tier.store.lead(leadId)).toMatchObject({ status: 'mql', score: { score: 55 }, consent: { email: { status: 'opted_out' } } });
    expect(tier.store.timeline(leadId, 'consent_changed').map((e) => [e.data.from, e.data.to])).toEqual([
      ['unknown', 'opted_in'],
      ['opted_in', 'opted_out'],
    ]);
    await tier.sleep('11 days');
    expect(tier.store.timeline(leadId, 'cadence_step').map((s) => [s.data.sent, s.data.skipped])).toEqual([
      [false, 'email consent is opted_out'],
      [false, 'email consent is opted_out'],
    ]);
    expect(tier.store.outbox(leadId)).toEqual([]);
  });
});
