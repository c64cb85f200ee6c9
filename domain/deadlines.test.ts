import { describe, expect, it } from 'vitest';
import { resolveLeadConfig } from '../config/load';
import { leadPolicy } from './config';
import { closesAt, enrichmentRetryAt, nextDeadline, slaDeadline, waitingForOwner } from './deadlines';
import type { LeadRecord, Routing } from './lead-record';

const minute = 60_000;
const hour = 60 * minute;
const day = 24 * hour;
const t0 = Date.parse('2026-03-02T10:00:00.000Z');
const iso = (ms: number) => new Date(t0 + ms).toISOString();
const policy = leadPolicy(resolveLeadConfig({}));

const lead = (fields: Partial<LeadRecord>): LeadRecord => ({
  leadId: 'lead-1',
  status: 'mql',
  profile: { email: 'a@b.c', source: 'webinar' },
  consent: {},
  engagement: { seen: [], openedEmails: 0, lastEngagementAt: iso(0) },
  enrichment: 'enriched',
  ...fields,
});
const routing = (fields: Partial<Routing>): Routing => ({
  ownerId: 'rep-1',
  teamId: 'team-1',
  reason: 'round robin',
  priority: 'P1',
  sla: 'PT5M',
  slaReason: 'demo_request is P1',
  assignedAt: iso(0),
  reminderAt: iso(2.5 * minute),
  dueAt: iso(5 * minute),
  reminded: false,
  breaches: 0,
  respondedAt: null,
  responseMs: null,
  ownerManagerId: null,
  teamManagerId: null,
  ...fields,
});
const run = {};

describe('deadlines of an open lead', () => {
  it('closes an idle lead 90 days after its last activity, and a recycled one 90 days after recycling', () => {
    expect(closesAt(lead({}), policy)).toBe(t0 + 90 * day);
    expect(closesAt(lead({ lastTouchAt: iso(10 * day) }), policy)).toBe(t0 + 100 * day);
    const recycled = lead({ status: 'recycled', recycle: { at: iso(20 * day), reason: 'timing', reengagements: 0 } });
    expect(closesAt(recycled, policy)).toBe(t0 + 110 * day);
  });

  it('runs the SLA ladder: the reminder first, then the breach, and nothing once the owner responded', () => {
    expect(slaDeadline(lead({ status: 'sql', routing: routing({}) }))).toBe(t0 + 2.5 * minute);
    expect(slaDeadline(lead({ status: 'sql', routing: routing({ reminded: true }) }))).toBe(t0 + 5 * minute);
    expect(slaDeadline(lead({ status: 'sql', routing: routing({ respondedAt: iso(minute) }) }))).toBeUndefined();
    expect(slaDeadline(lead({ status: 'accepted', routing: routing({}) }))).toBeUndefined();
    expect(slaDeadline(lead({ status: 'sql', routing: routing({ ownerId: null, dueAt: null }) }))).toBeUndefined();
  });

  it('knows a lead waits in the unassigned queue only while it is sales-ready and routed to nobody', () => {
    expect(waitingForOwner(lead({ status: 'sql', routing: routing({ ownerId: null }) }))).toBe(true);
    expect(waitingForOwner(lead({ status: 'sql', routing: routing({}) }))).toBe(false);
    expect(waitingForOwner(lead({ status: 'sql' }))).toBe(false);
  });

  it('tries enrichment again an hour after it failed', () => {
    expect(enrichmentRetryAt(policy, iso(0))).toBe(t0 + hour);
    expect(enrichmentRetryAt(policy, undefined)).toBeUndefined();
  });

  it('wakes for the earliest of what is due', () => {
    const now = new Date(t0 + minute);
    // An mql lead in its cadence: the next step, before decay at 30 days and closing at 90.
    const nurtured = lead({
      cadence: { name: 'mql-nurture', version: 1, steps: [], step: 0, enrolledAt: iso(0), stepAt: iso(0), nextStepAt: iso(3 * day) },
    });
    expect(nextDeadline(nurtured, policy, run, now)).toBe(t0 + 3 * day);
    // Without a cadence step due, the first decay step.
    expect(nextDeadline(lead({}), policy, run, now)).toBe(t0 + 30 * day);
    // A routed lead: the SLA reminder.
    expect(nextDeadline(lead({ status: 'sql', routing: routing({}) }), policy, run, now)).toBe(t0 + 2.5 * minute);
    // In the unassigned queue: the routing retry.
    const queued = lead({ status: 'sql', routing: routing({ ownerId: null, dueAt: null, reminderAt: null }) });
    expect(nextDeadline(queued, policy, { ...run, routeRetryAt: t0 + 2 * minute }, now)).toBe(t0 + 2 * minute);
    // A routing retry is no deadline once the lead has an owner.
    expect(
      nextDeadline(
        lead({ status: 'accepted', routing: routing({ respondedAt: iso(0) }) }),
        policy,
        { ...run, routeRetryAt: t0 + 2 * minute },
        now,
      ),
    ).toBe(t0 + 30 * day);
    // A failed enrichment: its retry.
    expect(nextDeadline(lead({}), policy, { ...run, enrichmentFailedAt: iso(0) }, now)).toBe(t0 + hour);
    // An accepted lead with nothing logged: the 30-day rule (same day as the first decay step).
    expect(nextDeadline(lead({ status: 'accepted', lastTouchAt: iso(5 * day) }), policy, run, now)).toBe(t0 + 30 * day);
    // A recycled lead: its first re-engagement 30 days after recycling.
    const recycled = lead({
      status: 'recycled',
      engagement: { seen: [], openedEmails: 0, lastEngagementAt: iso(40 * day) },
      recycle: { at: iso(40 * day), reason: 'timing', reengagements: 0 },
    });
    expect(nextDeadline(recycled, policy, run, new Date(t0 + 41 * day))).toBe(t0 + 70 * day);
  });
});
