import { describe, expect, it } from 'vitest';
import type { Segment } from './routing';
import { couldServe, hasChanges, mergeChanges, noChanges, routingTarget, type AccountOwner, type WaitingLead } from './wake-ups';

// Routing order: the order teams were added (teamsInOrder).
const teams = [
  { id: 'dach-ent', countries: ['DE', 'AT'], segments: ['enterprise'] as Segment[] },
  { id: 'dach', countries: ['DE', 'AT', 'CH'], segments: [] as Segment[] },
  { id: 'us', countries: ['US'], segments: [] as Segment[] },
];

const lead = (email: string, country?: string, employees?: number): WaitingLead => ({ leadId: `lead-${email}`, email, country, employees });
const changes = (change: Parameters<typeof mergeChanges>[1]) => mergeChanges(noChanges(), change);
/** Whether `change` wakes the lead, with every team above and the lead's account (if any). */
const wakes = (change: Parameters<typeof mergeChanges>[1], waiting: WaitingLead, account?: AccountOwner, inOrder = teams) =>
  couldServe(changes(change), waiting, routingTarget(waiting, inOrder, account));

describe('where routing looks for a waiting lead', () => {
  it('is the first team in order whose countries and segments cover it', () => {
    expect(routingTarget(lead('a@x.de', 'DE', 5000), teams, undefined)).toEqual({ accountOwnerId: null, teamId: 'dach-ent' });
    expect(routingTarget(lead('a@x.de', 'DE', 50), teams, undefined)).toEqual({ accountOwnerId: null, teamId: 'dach' });
    expect(routingTarget(lead('a@x.de', undefined, 5000), teams, undefined)).toEqual({ accountOwnerId: null, teamId: null });
    expect(routingTarget(lead('a@x.fr', 'FR'), teams, undefined)).toEqual({ accountOwnerId: null, teamId: null });
  });

  it('is the account owner, then the owner’s team rather than the territory', () => {
    expect(routingTarget(lead('a@acme.io', 'DE'), teams, { ownerId: 'rep-us', ownerTeamId: 'us' })).toEqual({
      accountOwnerId: 'rep-us',
      teamId: 'us',
    });
  });

  it('is the account owner, then the territory when the owner has no team', () => {
    expect(routingTarget(lead('a@acme.io', 'CH'), teams, { ownerId: 'rep-solo', ownerTeamId: null })).toEqual({
      accountOwnerId: 'rep-solo',
      teamId: 'dach',
    });
  });
});

describe('which waiting leads a change wakes', () => {
  it('a rep change: the leads its team would route, none of another territory or of a country no team covers', () => {
    const rep = { reps: ['rep-1'], teams: ['dach'] };
    expect(wakes(rep, lead('a@x.ch', 'CH'))).toBe(true);
    expect(wakes(rep, lead('a@x.de', 'DE', 20))).toBe(true);
    expect(wakes(rep, lead('a@x.us', 'US'))).toBe(false);
    expect(wakes(rep, lead('a@x.fr', 'FR'))).toBe(false);
    expect(wakes(rep, lead('a@x.xx'))).toBe(false);
  });

  it('a rep change: not the leads an earlier team takes, nor those of a segment its team does not cover', () => {
    // DE enterprise goes to dach-ent (first in order), not to dach.
    expect(wakes({ reps: ['rep-1'], teams: ['dach'] }, lead('a@x.de', 'DE', 5000))).toBe(false);
    expect(wakes({ reps: ['rep-2'], teams: ['dach-ent'] }, lead('a@x.de', 'DE', 5000))).toBe(true);
    expect(wakes({ reps: ['rep-2'], teams: ['dach-ent'] }, lead('a@x.de', 'DE', 500))).toBe(false);
    // Unknown size counts as smb.
    expect(wakes({ reps: ['rep-2'], teams: ['dach-ent'] }, lead('a@x.at', 'AT'))).toBe(false);
  });

  it('a rep change: the leads of accounts it owns, wherever they are, and not those its team loses to an account owner', () => {
    const owned = { ownerId: 'rep-1', ownerTeamId: 'dach' };
    expect(wakes({ reps: ['rep-1'], teams: ['dach'] }, lead('a@acme.io', 'FR'), owned)).toBe(true);
    // A rep without a team: only its accounts' leads.
    expect(wakes({ reps: ['rep-1'] }, lead('a@acme.io', 'FR'), { ownerId: 'rep-1', ownerTeamId: null })).toBe(true);
    expect(wakes({ reps: ['rep-1'] }, lead('a@x.ch', 'CH'))).toBe(false);
    // A CH lead whose account owner is in the US team falls back on the US team, not on dach.
    const usOwned = { ownerId: 'rep-us', ownerTeamId: 'us' };
    expect(wakes({ reps: ['rep-1'], teams: ['dach'] }, lead('a@acme.io', 'CH'), usOwned)).toBe(false);
    expect(wakes({ reps: ['rep-9'], teams: ['us'] }, lead('a@acme.io', 'CH'), usOwned)).toBe(true);
  });

  it('a team change: the leads its territory now takes, in routing order', () => {
    const withCatchAll = [...teams, { id: 'rest', countries: [], segments: [] as Segment[] }];
    expect(wakes({ teams: ['rest'] }, lead('a@x.fr', 'FR'), undefined, withCatchAll)).toBe(true);
    expect(wakes({ teams: ['rest'] }, lead('a@x.xx'), undefined, withCatchAll)).toBe(true);
    // An earlier team still takes CH.
    expect(wakes({ teams: ['rest'] }, lead('a@x.ch', 'CH'), undefined, withCatchAll)).toBe(false);
    const enterpriseFr = [...teams, { id: 'fr-ent', countries: ['FR'], segments: ['enterprise'] as Segment[] }];
    expect(wakes({ teams: ['fr-ent'] }, lead('a@x.fr', 'FR', 1000), undefined, enterpriseFr)).toBe(true);
    expect(wakes({ teams: ['fr-ent'] }, lead('a@x.fr', 'FR', 999), undefined, enterpriseFr)).toBe(false);
  });

  it('an account change: the leads of its domain, as routing reads the email’s domain', () => {
    expect(wakes({ domains: ['acme.io'] }, lead('Buyer@ACME.io', 'FR'))).toBe(true);
    expect(wakes({ domains: ['acme.io'] }, lead('buyer@acme.io.evil.com', 'FR'))).toBe(false);
    expect(wakes({ domains: ['acme.io'] }, lead('buyer@other.io', 'CH'))).toBe(false);
  });
});

describe('changes noted one after another', () => {
  it('merge into one set, so that a lead is woken if any of them could serve it', () => {
    const merged = mergeChanges(changes({ reps: ['rep-1'], teams: ['dach'] }), { reps: ['rep-1', 'rep-2'], domains: ['acme.io'] });
    expect(merged).toEqual({ reps: new Set(['rep-1', 'rep-2']), teams: new Set(['dach']), domains: new Set(['acme.io']) });
    expect(couldServe(merged, lead('a@acme.io', 'FR'), routingTarget(lead('a@acme.io', 'FR'), teams, undefined))).toBe(true);
    expect(hasChanges(noChanges())).toBe(false);
    expect(hasChanges(changes({ teams: [] }))).toBe(false);
    expect(hasChanges(merged)).toBe(true);
  });
});
