import type { Sql, Tx } from '../db/client';
import { writeLead, type LeadSave } from '../db/leads';
import {
  assignLead,
  lockLead,
  lockOwner,
  lockRep,
  lockTeam,
  routingContext,
  type RoundRobinStep,
  type RoutableRep,
  type RoutingContext,
  type TeamRow,
} from '../db/routing';
import type { LeadConfig } from '../domain/config';
import type { LeadSource } from '../domain/lead';
import { matchTeam, pickRep, segmentOf, unavailability } from '../domain/routing';
import { emailDomainOf } from '../domain/scoring';
import type { Assignment } from '../domain/lead-record';
import { slaTerms, withinBusinessHours } from '../domain/sla';
import type { EventsWritten } from './leads';

export interface RouteRequest {
  leadId: string;
  email: string;
  country?: string;
  employees?: number;
  source: LeadSource;
  sla: LeadConfig['sla'];
  /** Reps not to pick (e.g. the owner who just breached the SLA). */
  exclude?: string[];
  /** The workflow's time: availability and business hours are judged at this moment. */
  at: string;
  /**
   * The routing decision this is, the same in every attempt of the workflow task that asks
   * (docs/features/routing.md, "Routing is keyed"): a key seen before gets the assignment taken then. Absent only in
   * calls scheduled by workflow code from before keys, which route as they did.
   */
  routingKey?: string;
}

const availability = (rep: RoutableRep) => ({
  active: rep.active,
  outOfOfficeUntil: rep.out_of_office_until,
  openLeads: rep.open_leads,
  capacity: rep.capacity,
});

/** Routing in Postgres (docs/design.md, "Routing"): account owner, then territory and segment, then weighted round robin. */
export function routingActivities(sql: Sql, eventsWritten: EventsWritten = () => {}) {
  /** Round robin over a team's reps (locked, with their counts), or no rep when nobody there is eligible. */
  function roundRobin(team: TeamRow, reps: RoutableRep[], exclude: string[], now: Date): { rep?: RoutableRep; skipped: string[]; pick?: RoundRobinStep } {
    const skipped: string[] = [];
    const eligible = reps.filter((rep) => {
      const why = exclude.includes(rep.id) ? 'just breached the SLA' : unavailability(availability(rep), now);
      if (why) skipped.push(`${rep.id} ${why}`);
      return !why;
    });
    const pick = pickRep(
      eligible.map((r) => ({ id: r.id, weight: r.weight, virtualTime: r.virtual_time, lastAssignment: Number(r.last_assignment) })),
      team.virtual_time,
    );
    if (!pick) return { skipped };
    return { rep: reps.find((r) => r.id === pick.repId), skipped, pick: { ...pick, teamId: team.id, assignment: Number(team.assignments) + 1 } };
  }

  /**
   * The routing decision and the assignment, inside the caller's transaction, once per routing key:
   * another attempt of the same decision (its workflow task ran again after a worker died, or the
   * local activity was retried after its transaction committed) gets the assignment taken the first
   * time, written again over what the attempt saved before it, and the round robin does not move.
   * `leadLocked`: the transaction already holds the lead's row (it has just saved it).
   */
  async function route(tx: Tx, request: RouteRequest, { leadLocked = false } = {}): Promise<Assignment> {
    const { leadId, routingKey } = request;
    // No row for the lead (nothing to assign either): nothing to look up or remember under the key.
    const keyed = routingKey !== undefined && (leadLocked || (await lockLead(tx, leadId)));
    const context = await routingContext(tx, { leadId, routingKey: keyed ? routingKey : undefined, domain: emailDomainOf(request.email) });
    if (context.taken) {
      const { taken } = context;
      await assignLead(tx, leadId, { ownerId: taken.ownerId, teamId: taken.teamId, reason: taken.reason });
      return taken;
    }
    return decide(tx, request, context, keyed ? routingKey : undefined);
  }

  /** Picks the owner and assigns the lead (remembering it under `routingKey` when given), the assignment's writes in one statement. */
  async function decide(tx: Tx, request: RouteRequest, { account, teams }: RoutingContext, routingKey: string | undefined): Promise<Assignment> {
    const now = new Date(request.at);
    const segment = segmentOf(request.employees);
    const exclude = request.exclude ?? [];
    const domain = emailDomainOf(request.email);
    let team: TeamRow | undefined;
    let reps: RoutableRep[] = [];
    let pick: RoundRobinStep | undefined;
    let ownerId: string | null = null;
    let ownerManagerId: string | null = null;
    const reasons: string[] = [];

    if (account?.owner_id) {
      // The owner's team and its reps, the owner among them, locked at once: the owner may be unavailable, and the round robin then picks from them.
      if (account.owner_team_id) ({ team, reps } = await lockTeam(tx, account.owner_team_id));
      // Not among them: no team, or moved to another team since the account was read.
      const rep = reps.find((r) => r.id === account.owner_id) ?? (await lockOwner(tx, account.owner_id));
      const why = !rep ? 'unknown' : exclude.includes(rep.id) ? 'just breached the SLA' : unavailability(availability(rep), now);
      if (rep && !why) {
        ownerId = rep.id;
        ownerManagerId = rep.manager_id;
        reasons.push(`account ${account.name} (${domain}) is owned by ${rep.id}`);
      } else {
        reasons.push(`account owner ${account.owner_id} is ${why}${team ? `: their team ${team.name}` : ''}`);
      }
    }
    if (!ownerId && !team) {
      const matched = matchTeam(teams, request.country, segment);
      if (matched) {
        ({ team, reps } = await lockTeam(tx, matched.id));
        reasons.push(`territory: team ${team!.name} covers ${request.country ?? 'any country'}, ${segment}`);
      } else {
        reasons.push(`no team covers ${request.country ?? 'an unknown country'}, ${segment}`);
      }
    }
    if (!ownerId && team) {
      const robin = roundRobin(team, reps, exclude, now);
      pick = robin.pick;
      const { rep, skipped } = robin;
      if (rep) {
        ownerId = rep.id;
        ownerManagerId = rep.manager_id;
        reasons.push(`weighted round robin → ${rep.id}${skipped.length ? ` (skipped ${skipped.join(', ')})` : ''}`);
      } else {
        reasons.push(`nobody eligible${skipped.length ? ` (${skipped.join(', ')})` : ''}: unassigned queue`);
      }
    }
    const reason = reasons.join('; ');
    const terms = slaTerms(request.source, segment, team ? withinBusinessHours(team.business_hours, now) : true, request.sla);
    const assignment: Assignment = {
      ownerId,
      teamId: team?.id ?? null,
      reason,
      priority: terms.priority,
      sla: terms.sla,
      slaReason: terms.reason,
      ownerManagerId,
      teamManagerId: team?.manager_id ?? null,
    };
    await assignLead(
      tx,
      request.leadId,
      { ownerId, teamId: assignment.teamId, reason },
      { pick, decision: routingKey === undefined ? undefined : { routingKey, assignment } },
    );
    return assignment;
  }

  return {
    /** Chooses the owner and takes the assignment in one transaction; the SLA terms come with it. */
    async routeLead(request: RouteRequest): Promise<Assignment> {
      return sql.begin((tx) => route(tx, request));
    },

    /**
     * Saves a lead that just became sales-ready and routes it, in one transaction (one round trip
     * fewer at capture). The save locks the lead's row (its upsert does), as routing would.
     */
    async saveAndRouteLead({ save, route: request }: { save: LeadSave; route: RouteRequest }): Promise<Assignment> {
      const { written, assignment } = await sql.begin(async (tx) => {
        const written = await writeLead(tx, save);
        return { written, assignment: await route(tx, request, { leadLocked: true }) };
      });
      eventsWritten(written);
      return assignment;
    },

    /** Gives the lead to a named rep (ops reassignment, escalation to the team manager), whatever the rep's load. */
    async assignTo({
      leadId,
      repId,
      reason,
    }: {
      leadId: string;
      repId: string;
      reason: string;
    }): Promise<{ ownerManagerId: string | null; teamId: string | null } | null> {
      return sql.begin(async (tx) => {
        const rep = await lockRep(tx, repId);
        if (!rep) return null;
        await assignLead(tx, leadId, { ownerId: repId, teamId: rep.team_id, reason });
        return { ownerManagerId: rep.manager_id, teamId: rep.team_id };
      });
    },
  };
}
