import { matchTeam, segmentOf, type TerritoryTeam } from './routing';
import { emailDomainOf } from './scoring';

/**
 * Which leads in the unassigned queue a change to reps, teams or accounts could serve (docs/design.md,
 * "Routing"): only they are woken to route again. The rule mirrors `decide()` in
 * activities/routing.ts: the account owner of the email's domain first, then the owner's team if
 * the owner has one, else the first team in order whose territory and segments cover the lead. A
 * lead whose owner and team the change does not touch would be routed to the same nobody again, so
 * it is left to its own backoff.
 */

/** What changed since the last wake-up: reps by id, teams by id, accounts by domain. */
export interface RoutingChanges {
  reps: Set<string>;
  teams: Set<string>;
  domains: Set<string>;
}

export const noChanges = (): RoutingChanges => ({ reps: new Set(), teams: new Set(), domains: new Set() });

/** Adds `more` to `into` (in place): a lead is woken if any one of the changes could serve it. */
export function mergeChanges(into: RoutingChanges, more: Partial<Record<keyof RoutingChanges, Iterable<string>>>): RoutingChanges {
  for (const key of ['reps', 'teams', 'domains'] as const) for (const value of more[key] ?? []) into[key].add(value);
  return into;
}

export const hasChanges = (changes: RoutingChanges) => changes.reps.size + changes.teams.size + changes.domains.size > 0;

/** A lead in the unassigned queue, as routing reads it. */
export interface WaitingLead {
  leadId: string;
  email: string;
  country?: string;
  employees?: number;
}

/** The account of the lead's email domain, when it has an owner: the owner and the owner's team (null: none). */
export interface AccountOwner {
  ownerId: string;
  ownerTeamId: string | null;
}

/** Where routing looks for the lead's owner: the account owner (null: none) and the team whose round robin it falls back on (null: none). */
export interface RoutingTarget {
  accountOwnerId: string | null;
  teamId: string | null;
}

/** Where routing would look for the lead's owner now, given every team in routing order and its account's owner. */
export function routingTarget(lead: WaitingLead, teamsInOrder: TerritoryTeam[], account: AccountOwner | undefined): RoutingTarget {
  const accountOwnerId = account?.ownerId ?? null;
  // decide(): an owner with a team falls back on that team's round robin, never on the territory.
  if (account?.ownerTeamId) return { accountOwnerId, teamId: account.ownerTeamId };
  return { accountOwnerId, teamId: matchTeam(teamsInOrder, lead.country, segmentOf(lead.employees))?.id ?? null };
}

/**
 * Whether routing the lead again could come out differently after `changes`: its account changed,
 * its account owner changed, or the team it falls back on (or a rep of it: `changes.teams` holds the
 * changed reps' teams) changed.
 */
export function couldServe(changes: RoutingChanges, lead: WaitingLead, target: RoutingTarget): boolean {
  return (
    changes.domains.has(emailDomainOf(lead.email)) ||
    (target.accountOwnerId !== null && changes.reps.has(target.accountOwnerId)) ||
    (target.teamId !== null && changes.teams.has(target.teamId))
  );
}
