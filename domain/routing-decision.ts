import type { LeadConfig } from './config';
import type { LeadSource } from './lead';
import type { Assignment } from './lead-record';
import {
  pickRep,
  matchTeam,
  skipText,
  unavailability,
  type RepAvailability,
  type RepSkip,
  type RoundRobinPick,
  type Segment,
  type TerritoryTeam,
} from './routing';
import { slaTerms, withinBusinessHours, type BusinessHours } from './sla';

/**
 * One routing decision, step by step (docs/features/routing.md): the account's owner, then
 * territory and segment, then weighted round robin, and the SLA terms the lead gets. The real
 * routing (activities/routing.ts, reading and locking in Postgres) and its preview (the same reads,
 * read-only) share it, so a preview says what routing would do. It reads teams and reps through
 * `reads`, only those the decision needs, in the order it needs them: what routing locks.
 */

/** A rep as routing sees it. */
export interface RoutingRep extends RepAvailability {
  id: string;
  teamId: string | null;
  managerId: string | null;
  weight: number;
  /** Round-robin clock (`RoundRobinSlot`). */
  virtualTime: number;
  lastAssignment: number;
}

/** A team as routing sees it, with its round-robin clock. */
export interface RoutingTeam extends TerritoryTeam {
  name: string;
  businessHours: BusinessHours;
  managerId: string | null;
  virtualTime: number;
  /** Picks so far: the next pick is number `assignments + 1`. */
  assignments: number;
}

/** How the teams and reps a decision needs are read (and, for the real routing, locked). */
export interface RoutingReads {
  /** A team and its reps (ordered by id), or no team for an unknown id. */
  team(teamId: string): Promise<{ team: RoutingTeam | undefined; reps: RoutingRep[] }>;
  /** One rep, or undefined for an unknown id: an account owner outside the team read. */
  owner(repId: string): Promise<RoutingRep | undefined>;
}

export interface RoutingRequest {
  /** The account of the lead's email domain, with its owner's team (null: none). */
  account: { name: string; domain: string; ownerId: string | null; ownerTeamId: string | null } | null;
  /** Every team in routing order, with what territory matching reads. */
  teams: TerritoryTeam[];
  country?: string;
  segment: Segment;
  source: LeadSource;
  sla: LeadConfig['sla'];
  /** Reps not to pick (the owner who just breached the SLA). */
  exclude: string[];
  now: Date;
}

/** The words a decision's outcome is logged and filtered by. */
export const routingOutcomes = ['account_owner', 'round_robin', 'unassigned'] as const;
export type RoutingOutcome = (typeof routingOutcomes)[number];

/** One step of the reason path. */
export type RoutingStep =
  | {
      step: 'account';
      account: string;
      domain: string;
      ownerId: string;
      /** Why the owner did not get the lead; null: they did. */
      skipped: RepSkip | null;
      /** The owner's team, whose round robin then takes the lead (null: territory decides). */
      teamId: string | null;
      teamName: string | null;
    }
  | { step: 'territory'; country: string | null; segment: Segment; teamId: string | null; teamName: string | null }
  | {
      step: 'round_robin';
      teamId: string;
      eligible: string[];
      skipped: { repId: string; why: RepSkip }[];
      /** null: nobody eligible, the unassigned queue. */
      pick: string | null;
    };

/** A round-robin pick and the team's pick number: what the clocks move to. */
export interface RoundRobinMove extends RoundRobinPick {
  teamId: string;
  assignment: number;
}

export interface RoutingDecision {
  outcome: RoutingOutcome;
  path: RoutingStep[];
  /** The team whose round robin or business hours count (null: none). */
  team: RoutingTeam | undefined;
  /** Set when the round robin picked. */
  move: RoundRobinMove | undefined;
  assignment: Assignment;
}

/** Why a rep is not picked now, or undefined when it may be. */
function skipOf(rep: RoutingRep | undefined, exclude: string[], now: Date): RepSkip | undefined {
  if (!rep) return 'unknown';
  return exclude.includes(rep.id) ? 'breached_sla' : unavailability(rep, now);
}

/** The routing reason of a path, as the timeline and `routingReason` show it. */
export function reasonOf(path: RoutingStep[]): string {
  return path
    .map((step) => {
      switch (step.step) {
        case 'account':
          return step.skipped === null
            ? `account ${step.account} (${step.domain}) is owned by ${step.ownerId}`
            : `account owner ${step.ownerId} is ${skipText(step.skipped)}${step.teamName !== null ? `: their team ${step.teamName}` : ''}`;
        case 'territory':
          return step.teamName !== null
            ? `territory: team ${step.teamName} covers ${step.country ?? 'any country'}, ${step.segment}`
            : `no team covers ${step.country ?? 'an unknown country'}, ${step.segment}`;
        case 'round_robin': {
          const skipped = step.skipped.map((s) => `${s.repId} ${skipText(s.why)}`).join(', ');
          return step.pick !== null
            ? `weighted round robin → ${step.pick}${skipped ? ` (skipped ${skipped})` : ''}`
            : `nobody eligible${skipped ? ` (${skipped})` : ''}: unassigned queue`;
        }
      }
    })
    .join('; ');
}

/** Decides who gets the lead, reading the teams and reps it needs through `reads`. Moves nothing: the caller writes `move`. */
export async function decideRouting(request: RoutingRequest, reads: RoutingReads): Promise<RoutingDecision> {
  const { account, exclude, now, segment } = request;
  const path: RoutingStep[] = [];
  let team: RoutingTeam | undefined;
  let reps: RoutingRep[] = [];
  let owner: RoutingRep | undefined;
  let outcome: RoutingOutcome = 'unassigned';
  let move: RoundRobinMove | undefined;

  if (account?.ownerId) {
    // The owner's team and its reps, the owner among them, at once: the owner may be unavailable, and the round robin then picks from them.
    if (account.ownerTeamId) ({ team, reps } = await reads.team(account.ownerTeamId));
    // Not among them: no team, or moved to another team since the account was read.
    const rep = reps.find((r) => r.id === account.ownerId) ?? (await reads.owner(account.ownerId));
    const skipped = skipOf(rep, exclude, now) ?? null;
    if (skipped === null) {
      owner = rep;
      outcome = 'account_owner';
    }
    path.push({
      step: 'account',
      account: account.name,
      domain: account.domain,
      ownerId: account.ownerId,
      skipped,
      teamId: team?.id ?? null,
      teamName: team?.name ?? null,
    });
  }
  if (!owner && !team) {
    const matched = matchTeam(request.teams, request.country, segment);
    if (matched) ({ team, reps } = await reads.team(matched.id));
    path.push({ step: 'territory', country: request.country ?? null, segment, teamId: team?.id ?? null, teamName: team?.name ?? null });
  }
  if (!owner && team) {
    const skipped: { repId: string; why: RepSkip }[] = [];
    const eligible = reps.filter((rep) => {
      const why = skipOf(rep, exclude, now);
      if (why) skipped.push({ repId: rep.id, why });
      return !why;
    });
    const pick = pickRep(eligible, team.virtualTime);
    if (pick) {
      owner = reps.find((r) => r.id === pick.repId);
      outcome = 'round_robin';
      move = { ...pick, teamId: team.id, assignment: team.assignments + 1 };
    }
    path.push({ step: 'round_robin', teamId: team.id, eligible: eligible.map((r) => r.id), skipped, pick: pick?.repId ?? null });
  }

  const terms = slaTerms(request.source, segment, team ? withinBusinessHours(team.businessHours, now) : true, request.sla);
  return {
    outcome,
    path,
    team,
    move,
    assignment: {
      ownerId: owner?.id ?? null,
      teamId: team?.id ?? null,
      reason: reasonOf(path),
      priority: terms.priority,
      sla: terms.sla,
      slaReason: terms.reason,
      ownerManagerId: owner?.managerId ?? null,
      teamManagerId: team?.managerId ?? null,
    },
  };
}
