import { describe, expect, it } from 'vitest';
import { acceptedIdleUntil, archiveAt, idleSince, nextReengagementAt } from './recycling';
import type { LeadRecord } from './lead-record';

const day = 86_400_000;
const t0 = Date.parse('2026-01-01T00:00:00.000Z');
const iso = (days: number) => new Date(t0 + days * day).toISOString();
const policy = {
  acceptedIdleAfter: 'P30D',
  recycling: {
    reengagement: [
      { at: 'P30D', channel: 'email' as const, template: 'r30' },
      { at: 'P60D', channel: 'email' as const, template: 'r60' },
      { at: 'P90D', channel: 'email' as const, template: 'r90' },
    ],
    archiveAfter: 'P90D',
  },
};
const lead = (fields: Partial<LeadRecord>): LeadRecord => ({
  leadId: 'lead-1',
  status: 'recycled',
  profile: { email: 'a@b.c', source: 'webinar' },
  consent: {},
  engagement: { seen: [], openedEmails: 0, lastEngagementAt: iso(0) },
  enrichment: 'enriched',
  ...fields,
});

describe('recycling and aging', () => {
  it('re-engages a recycled lead at 30, 60 and 90 days after recycling, then stops', () => {
    const at = (reengagements: number) => nextReengagementAt(lead({ recycle: { at: iso(10), reason: 'timing', reengagements } }), policy);
    expect([0, 1, 2].map((n) => [(at(n)!.at - t0) / day, at(n)!.outreach.template, at(n)!.number])).toEqual([
      [40, 'r30', 1],
      [70, 'r60', 2],
      [100, 'r90', 3],
    ]);
    expect(at(3)).toBeUndefined();
    expect(
      nextReengagementAt(lead({ status: 'mql', recycle: { at: iso(10), reason: 'timing', reengagements: 0 } }), policy),
    ).toBeUndefined();
  });

  it('archives 90 days after recycling, or after the last engagement if that is later', () => {
    const recycle = { at: iso(10), reason: 'timing', reengagements: 0 };
    expect((archiveAt(lead({ recycle }), policy)! - t0) / day).toBe(100);
    expect((archiveAt(lead({ recycle, engagement: { seen: [], openedEmails: 0, lastEngagementAt: iso(50) } }), policy)! - t0) / day).toBe(
      140,
    );
    expect(archiveAt(lead({ status: 'accepted', recycle }), policy)).toBeUndefined();
  });

  it('counts any activity as keeping a lead from aging: engagement, a response, a touch', () => {
    expect(idleSince(lead({}))).toBe(t0);
    expect(idleSince(lead({ lastTouchAt: iso(5) }))).toBe(t0 + 5 * day);
  });

  it('recycles an accepted lead 30 days after its last activity', () => {
    expect((acceptedIdleUntil(lead({ status: 'accepted', lastTouchAt: iso(20) }), policy)! - t0) / day).toBe(50);
    expect(acceptedIdleUntil(lead({ status: 'sql' }), policy)).toBeUndefined();
  });
});
