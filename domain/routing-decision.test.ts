import { describe, expect, it } from 'vitest';
import { resolveLeadConfig } from '../config/load';
import { decideRouting, reasonOf, type RoutingReads, type RoutingRep, type RoutingRequest, type RoutingTeam } from './routing-decision';

const { sla } = resolveLeadConfig({});
const now = new Date('2026-11-23T15:00:00Z'); // a Monday
const allWeek = { timeZone: 'UTC', days: [1, 2, 3, 4, 5, 6, 7], start: '00:00', end: '23:59' };

const team = (id: string, fields: Partial<RoutingTeam> = {}): RoutingTeam => ({
  id,
  name: `Team ${id}`,
  countries: ['DE'],
  segments: [],
  businessHours: allWeek,
  managerId: `mgr-${id}`,
  virtualTime: 0,
  assignments: 0,
  ...fields,
});
const rep = (id: string, teamId: string | null, fields: Partial<RoutingRep> = {}): RoutingRep => ({
  id,
  teamId,
  managerId: null,
  weight: 1,
  active: true,
  outOfOfficeUntil: null,
  openLeads: 0,
  capacity: 10,
  virtualTime: 0,
  lastAssignment: 0,
  ...fields,
});

/** Reads from fixed teams and reps, recording what the decision read (what the real routing locks). */
function reads(teams: RoutingTeam[], reps: RoutingRep[]): RoutingReads & { read: string[] } {
  const read: string[] = [];
  return {
    read,
    async team(id) {
      read.push(`team ${id}`);
      return { team: teams.find((t) => t.id === id), reps: reps.filter((r) => r.teamId === id) };
    },
    async owner(id) {
      read.push(`rep ${id}`);
      return reps.find((r) => r.id === id);
    },
  };
}

const request = (fields: Partial<RoutingRequest> = {}): RoutingRequest => ({
  account: null,
  teams: [],
  country: 'DE',
  segment: 'smb',
  source: 'demo_request',
  sla,
  exclude: [],
  now,
  ...fields,
});

describe('a routing decision', () => {
  const emea = team('emea');
  const away = new Date('2026-11-24T00:00:00Z');

  it('goes to the account owner when available, reading only their team', async () => {
    const source = reads([emea], [rep('owner', 'emea'), rep('other', 'emea')]);
    const decision = await decideRouting(
      request({ account: { name: 'Acme', domain: 'acme.io', ownerId: 'owner', ownerTeamId: 'emea' }, teams: [emea] }),
      source,
    );
    expect(decision).toMatchObject({
      outcome: 'account_owner',
      move: undefined,
      assignment: { ownerId: 'owner', teamId: 'emea', teamManagerId: 'mgr-emea' },
    });
    expect(decision.path).toEqual([
      { step: 'account', account: 'Acme', domain: 'acme.io', ownerId: 'owner', skipped: null, teamId: 'emea', teamName: 'Team emea' },
    ]);
    expect(decision.assignment.reason).toBe('account Acme (acme.io) is owned by owner');
    expect(source.read).toEqual(['team emea']);
  });

  it("falls to the owner's team round robin when the owner is away, saying why each rep was skipped", async () => {
    const reps = [
      rep('owner', 'emea', { outOfOfficeUntil: away }),
      rep('full', 'emea', { openLeads: 10 }),
      rep('off', 'emea', { active: false }),
      rep('breached', 'emea'),
      rep('free', 'emea'),
    ];
    const decision = await decideRouting(
      request({
        account: { name: 'Acme', domain: 'acme.io', ownerId: 'owner', ownerTeamId: 'emea' },
        teams: [emea],
        exclude: ['breached'],
      }),
      reads([emea], reps),
    );
    expect(decision.outcome).toBe('round_robin');
    expect(decision.path).toEqual([
      {
        step: 'account',
        account: 'Acme',
        domain: 'acme.io',
        ownerId: 'owner',
        skipped: 'out_of_office',
        teamId: 'emea',
        teamName: 'Team emea',
      },
      {
        step: 'round_robin',
        teamId: 'emea',
        eligible: ['free'],
        skipped: [
          { repId: 'owner', why: 'out_of_office' },
          { repId: 'full', why: 'at_capacity' },
          { repId: 'off', why: 'inactive' },
          { repId: 'breached', why: 'breached_sla' },
        ],
        pick: 'free',
      },
    ]);
    // The reason the timeline shows, worded as routing always has.
    expect(decision.assignment.reason).toBe(
      'account owner owner is out of office: their team Team emea; weighted round robin → free (skipped owner out of office, full at capacity, off inactive, breached just breached the SLA)',
    );
    expect(decision.move).toEqual({ repId: 'free', teamId: 'emea', repVirtualTime: 1, teamVirtualTime: 0, assignment: 1 });
  });

  it('goes by territory and segment when there is no account, and to the unassigned queue when nobody is eligible', async () => {
    const enterprise = team('ent', { segments: ['enterprise'] });
    const source = reads([enterprise, emea], [rep('only', 'emea', { openLeads: 10 })]);
    const decision = await decideRouting(request({ teams: [enterprise, emea] }), source);
    expect(decision).toMatchObject({ outcome: 'unassigned', move: undefined, assignment: { ownerId: null, teamId: 'emea' } });
    expect(decision.assignment.reason).toBe(
      'territory: team Team emea covers DE, smb; nobody eligible (only at capacity): unassigned queue',
    );
    expect(source.read).toEqual(['team emea']);

    const nowhere = await decideRouting(request({ teams: [enterprise, emea], country: 'US' }), source);
    expect(nowhere.path).toEqual([{ step: 'territory', country: 'US', segment: 'smb', teamId: null, teamName: null }]);
    expect(nowhere.assignment).toMatchObject({ ownerId: null, teamId: null, reason: 'no team covers US, smb' });
  });

  it('reads an owner outside any team, and says so when the owner is unknown', async () => {
    const solo = await decideRouting(
      request({ account: { name: 'Solo', domain: 'solo.io', ownerId: 'lone', ownerTeamId: null }, teams: [emea] }),
      reads([emea], [rep('lone', null)]),
    );
    expect(solo).toMatchObject({ outcome: 'account_owner', assignment: { ownerId: 'lone', teamId: null } });
    const gone = await decideRouting(
      request({ account: { name: 'Gone', domain: 'gone.io', ownerId: 'left', ownerTeamId: null }, teams: [emea] }),
      reads([emea], [rep('a', 'emea')]),
    );
    expect(reasonOf(gone.path)).toBe('account owner left is unknown; territory: team Team emea covers DE, smb; weighted round robin → a');
    expect(gone.outcome).toBe('round_robin');
  });

  it('gets the SLA terms of its source, segment and team hours', async () => {
    const closed = team('closed', { businessHours: { ...allWeek, days: [6, 7] } });
    const decision = await decideRouting(
      request({ teams: [closed], segment: 'enterprise', source: 'content_download' }),
      reads([closed], [rep('r', 'closed')]),
    );
    expect(decision.assignment.slaReason).toContain('enterprise moves it up');
    expect(decision.assignment.slaReason).toContain('outside business hours');
  });
});
