import { describe, expect, it } from 'vitest';
import { resolveLeadConfig } from '../config/load';
import { matchTeam, pickRep, segmentOf, unavailability, type RoundRobinSlot } from './routing';
import { slaClock, slaTerms, withinBusinessHours } from './sla';

const { sla } = resolveLeadConfig({});

describe('segments', () => {
  it('are smb below 100 employees, mid_market to 999, enterprise from 1000; unknown is smb', () => {
    expect([undefined, 1, 99, 100, 999, 1000, 50_000].map(segmentOf)).toEqual([
      'smb',
      'smb',
      'smb',
      'mid_market',
      'mid_market',
      'enterprise',
      'enterprise',
    ]);
  });
});

describe('territory', () => {
  const teams = [
    { id: 'emea-ent', countries: ['DE', 'FR'], segments: ['enterprise' as const] },
    { id: 'emea', countries: ['DE', 'FR', 'GB'], segments: [] },
    { id: 'catch-all', countries: [], segments: [] },
  ];
  it('is the first team whose countries and segments match; empty lists match anything', () => {
    expect(matchTeam(teams, 'DE', 'enterprise')?.id).toBe('emea-ent');
    expect(matchTeam(teams, 'DE', 'smb')?.id).toBe('emea');
    expect(matchTeam(teams, 'US', 'smb')?.id).toBe('catch-all');
    expect(matchTeam(teams, undefined, 'smb')?.id).toBe('catch-all');
    expect(matchTeam(teams.slice(0, 2), 'US', 'smb')).toBeUndefined();
  });
});

describe('eligibility', () => {
  const now = new Date('2026-11-22T12:00:00Z');
  const rep = { active: true, outOfOfficeUntil: null, openLeads: 3, capacity: 10 };
  it('excludes inactive, out-of-office and full reps, and says why', () => {
    expect(unavailability(rep, now)).toBeUndefined();
    expect(unavailability({ ...rep, active: false }, now)).toBe('inactive');
    expect(unavailability({ ...rep, outOfOfficeUntil: new Date('2026-11-23T00:00:00Z') }, now)).toBe('out_of_office');
    expect(unavailability({ ...rep, outOfOfficeUntil: new Date('2026-11-21T00:00:00Z') }, now)).toBeUndefined();
    expect(unavailability({ ...rep, openLeads: 10 }, now)).toBe('at_capacity');
  });
});

describe('weighted round robin', () => {
  function run(reps: Omit<RoundRobinSlot, 'lastAssignment'>[], count: number, available: (id: string, i: number) => boolean = () => true) {
    let teamTime = 0;
    const slots = new Map(reps.map((r) => [r.id, { ...r, lastAssignment: 0 }]));
    const picks: string[] = [];
    for (let i = 0; i < count; i++) {
      const pick = pickRep(
        [...slots.values()].filter((r) => available(r.id, i)),
        teamTime,
      )!;
      slots.get(pick.repId)!.virtualTime = pick.repVirtualTime;
      slots.get(pick.repId)!.lastAssignment = i + 1;
      teamTime = pick.teamVirtualTime;
      picks.push(pick.repId);
    }
    return picks;
  }

  it('gives each rep its weight’s share over 1,000 assignments', () => {
    const picks = run(
      [
        { id: 'a', weight: 1, virtualTime: 0 },
        { id: 'b', weight: 2, virtualTime: 0 },
        { id: 'c', weight: 3, virtualTime: 0 },
        { id: 'd', weight: 4, virtualTime: 0 },
      ],
      1000,
    );
    const share = (id: string) => picks.filter((p) => p === id).length / 1000;
    expect(share('a')).toBeCloseTo(0.1, 2);
    expect(share('b')).toBeCloseTo(0.2, 2);
    expect(share('c')).toBeCloseTo(0.3, 2);
    expect(share('d')).toBeCloseTo(0.4, 2);
  });

  it('interleaves rather than batching a heavy rep’s leads', () => {
    const picks = run(
      [
        { id: 'a', weight: 2, virtualTime: 0 },
        { id: 'b', weight: 1, virtualTime: 0 },
      ],
      30,
    );
    for (let round = 0; round < 10; round++) expect(picks.slice(round * 3, round * 3 + 3).filter((p) => p === 'a')).toHaveLength(2);
    expect(picks.join('')).not.toMatch(/aaa|bb/);
  });

  it('gives a rep back from leave its normal share at once, not a burst of catch-up leads', () => {
    const reps = ['a', 'b', 'c'].map((id) => ({ id, weight: 1, virtualTime: 0 }));
    const picks = run(reps, 330, (id, i) => id !== 'c' || i >= 300);
    const afterReturn = picks.slice(300);
    expect(afterReturn.slice(0, 3).sort()).toEqual(['a', 'b', 'c']);
    expect(afterReturn.slice(3, 6).sort()).toEqual(['a', 'b', 'c']);
    expect(afterReturn.filter((p) => p === 'c')).toHaveLength(10);
  });

  it('picks nobody when nobody is eligible', () => {
    expect(pickRep([], 5)).toBeUndefined();
  });
});

describe('speed-to-lead SLA (docs/design.md table)', () => {
  it.each([
    ['demo_request', 'P1', 'PT5M', 'PT30M'],
    ['pricing_inquiry', 'P1', 'PT5M', 'PT30M'],
    ['chat', 'P1', 'PT5M', 'PT30M'],
    ['trial_signup', 'P1', 'PT15M', 'PT15M'],
    ['referral', 'P1', 'PT2H', 'PT2H'],
    ['webinar', 'P2', 'PT4H', 'PT4H'],
    ['event', 'P2', 'PT4H', 'PT4H'],
    ['contact_form', 'P2', 'PT4H', 'PT4H'],
    ['content_download', 'P2', 'PT24H', 'PT24H'],
    ['newsletter', 'P3', 'P5D', 'P5D'],
    ['outbound', 'P3', 'P5D', 'P5D'],
  ] as const)('%s is %s with %s in business hours and %s outside', (source, priority, inHours, offHours) => {
    expect(slaTerms(source, 'smb', true, sla)).toMatchObject({ priority, sla: inHours });
    expect(slaTerms(source, 'mid_market', false, sla)).toMatchObject({ priority, sla: offHours });
  });

  it('moves enterprise leads up one tier', () => {
    expect(slaTerms('webinar', 'enterprise', true, sla)).toEqual({
      priority: 'P1',
      sla: 'PT5M',
      reason: 'webinar is P2, enterprise moves it up to P1',
    });
    expect(slaTerms('webinar', 'enterprise', false, sla)).toMatchObject({ priority: 'P1', sla: 'PT30M' });
    expect(slaTerms('newsletter', 'enterprise', true, sla)).toMatchObject({ priority: 'P2', sla: 'PT4H' });
    expect(slaTerms('demo_request', 'enterprise', true, sla)).toMatchObject({ priority: 'P1', sla: 'PT5M' });
  });

  it('knows business hours in the team’s time zone', () => {
    const ny = { timeZone: 'America/New_York', days: [1, 2, 3, 4, 5], start: '09:00', end: '17:00' };
    expect(withinBusinessHours(ny, new Date('2026-11-23T14:00:00Z'))).toBe(true); // Monday 09:00 in New York
    expect(withinBusinessHours(ny, new Date('2026-11-23T13:59:00Z'))).toBe(false); // 08:59
    expect(withinBusinessHours(ny, new Date('2026-11-23T22:00:00Z'))).toBe(false); // 17:00
    expect(withinBusinessHours(ny, new Date('2026-11-22T15:00:00Z'))).toBe(false); // Sunday
  });

  it('judges each team in its own time zone, whichever team was asked about before', () => {
    const hours = { days: [1, 2, 3, 4, 5], start: '09:00', end: '17:00' };
    const [ny, tokyo] = [
      { ...hours, timeZone: 'America/New_York' },
      { ...hours, timeZone: 'Asia/Tokyo' },
    ];
    const at = new Date('2026-11-24T01:00:00Z'); // Monday 20:00 in New York, Tuesday 10:00 in Tokyo
    expect([ny, tokyo, ny, tokyo].map((team) => withinBusinessHours(team, at))).toEqual([false, true, false, true]);
  });

  it('keeps a team open all day when its hours end at 24:00, and one ending at 23:59 closed for the last minute', () => {
    const allDay = { timeZone: 'UTC', days: [1, 2, 3, 4, 5, 6, 7], start: '00:00', end: '24:00' };
    for (const at of ['2026-11-23T00:00:00Z', '2026-11-23T12:00:00Z', '2026-11-23T23:59:30Z'])
      expect(withinBusinessHours(allDay, new Date(at))).toBe(true);
    expect(withinBusinessHours({ ...allDay, end: '23:59' }, new Date('2026-11-23T23:59:30Z'))).toBe(false);
  });

  it('reminds at half the SLA and is due at the end', () => {
    expect(slaClock(new Date('2026-11-23T14:00:00Z'), 'PT5M', 0.5)).toEqual({
      assignedAt: '2026-11-23T14:00:00.000Z',
      reminderAt: '2026-11-23T14:02:30.000Z',
      dueAt: '2026-11-23T14:05:00.000Z',
    });
  });
});
