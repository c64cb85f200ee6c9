import type { Sql, Tx } from '../db/client';
import type { RepRow } from '../db/rows';
import { writeLead, type LeadSave } from './leads';
import type { LeadConfig } from '../domain/config';
import type { LeadSource } from '../domain/lead';
import { matchTeam, pickRep, segmentOf, unavailability, type Segment } from '../domain/routing';
import { emailDomainOf } from '../domain/scoring';
import type { Assignment } from '../domain/lead-record';
import { slaTerms, withinBusinessHours, type BusinessHours } from '../domain/sla';

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
}

interface TeamRow {
  id: string;
  name: string;
  countries: string[];
  segments: Segment[];
  business_hours: BusinessHours;
  manager_id: string | null;
  virtual_time: number;
  assignments: string;
}

type RoutableRep = Pick<RepRow, 'id' | 'team_id' | 'weight' | 'capacity' | 'active' | 'out_of_office_until' | 'manager_id' | 'virtual_time' | 'last_assignment'> & {
  open_leads: number;
};

/** Reps with their open-lead counts, locked so concurrent routing never takes one past capacity. */
async function lockReps(tx: Tx, where: { teamId?: string; repId?: string }): Promise<RoutableRep[]> {
  const rows = await tx<Omit<RoutableRep, 'open_leads'>[]>`
    SELECT id, team_id, weight, capacity, active, out_of_office_until, manager_id, virtual_time, last_assignment FROM reps
    WHERE ${where.teamId !== undefined ? tx`team_id = ${where.teamId}` : tx`id = ${where.repId!}`}
    ORDER BY id FOR UPDATE`;
  if (rows.length === 0) return [];
  const counts = await tx<{ owner_id: string; n: number }[]>`
    SELECT owner_id, count(*)::int AS n FROM leads
    WHERE owner_id IN ${tx(rows.map((r) => r.id))} AND status IN ('sql', 'accepted') GROUP BY owner_id`;
  const open = new Map(counts.map((c) => [c.owner_id, c.n]));
  return rows.map((r) => ({ ...r, open_leads: open.get(r.id) ?? 0 }));
}

const availability = (rep: RoutableRep) => ({ active: rep.active, outOfOfficeUntil: rep.out_of_office_until, openLeads: rep.open_leads, capacity: rep.capacity });

/** Routing in Postgres (DESIGN.md, "Routing"): account owner, then territory and segment, then weighted round robin. */
export function routingActivities(sql: Sql) {
  async function assign(tx: Tx, leadId: string, ownerId: string | null, teamId: string | null, reason: string) {
    await tx`UPDATE leads SET owner_id = ${ownerId}, team_id = ${teamId}, routing_reason = ${reason}, status = 'sql',
                              assigned_at = ${ownerId ? tx`clock_timestamp()` : null}, updated_at = now()
             WHERE lead_id = ${leadId}`;
  }

  /** Round robin within a team (locked), or undefined when nobody there is eligible. */
  async function roundRobin(tx: Tx, team: TeamRow, exclude: string[], now: Date) {
    const reps = await lockReps(tx, { teamId: team.id });
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
    if (pick) {
      const assignment = Number(team.assignments) + 1;
      await tx`UPDATE reps SET virtual_time = ${pick.repVirtualTime}, last_assignment = ${assignment} WHERE id = ${pick.repId}`;
      await tx`UPDATE teams SET virtual_time = ${pick.teamVirtualTime}, assignments = ${assignment} WHERE id = ${team.id}`;
    }
    return { rep: reps.find((r) => r.id === pick?.repId), skipped };
  }

  /** The routing decision and the assignment, inside the caller's transaction. */
  async function route(tx: Tx, request: RouteRequest): Promise<Assignment> {
    const now = new Date(request.at);
    const segment = segmentOf(request.employees);
    const exclude = request.exclude ?? [];
    const domain = emailDomainOf(request.email);
    const [account] = await tx<{ owner_id: string | null; name: string }[]>`SELECT owner_id, name FROM accounts WHERE domain = ${domain}`;
    let team: TeamRow | undefined;
    let ownerId: string | null = null;
    let ownerManagerId: string | null = null;
    const reasons: string[] = [];

    if (account?.owner_id) {
      const [owner] = await tx<{ team_id: string | null }[]>`SELECT team_id FROM reps WHERE id = ${account.owner_id}`;
      if (owner?.team_id) [team] = await tx<TeamRow[]>`SELECT * FROM teams WHERE id = ${owner.team_id} FOR UPDATE`;
      const [rep] = await lockReps(tx, { repId: account.owner_id });
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
      const teams = await tx<TeamRow[]>`SELECT * FROM teams ORDER BY created_at, id`;
      const matched = matchTeam(teams, request.country, segment);
      if (matched) {
        [team] = await tx<TeamRow[]>`SELECT * FROM teams WHERE id = ${matched.id} FOR UPDATE`;
        reasons.push(`territory: team ${team!.name} covers ${request.country ?? 'any country'}, ${segment}`);
      } else {
        reasons.push(`no team covers ${request.country ?? 'an unknown country'}, ${segment}`);
      }
    }
    if (!ownerId && team) {
      const { rep, skipped } = await roundRobin(tx, team, exclude, now);
      if (rep) {
        ownerId = rep.id;
        ownerManagerId = rep.manager_id;
        reasons.push(`weighted round robin → ${rep.id}${skipped.length ? ` (skipped ${skipped.join(', ')})` : ''}`);
      } else {
        reasons.push(`nobody eligible${skipped.length ? ` (${skipped.join(', ')})` : ''}: unassigned queue`);
      }
    }
    const reason = reasons.join('; ');
    await assign(tx, request.leadId, ownerId, team?.id ?? null, reason);
    const terms = slaTerms(request.source, segment, team ? withinBusinessHours(team.business_hours, now) : true, request.sla);
    return {
      ownerId,
      teamId: team?.id ?? null,
      reason,
      priority: terms.priority,
      sla: terms.sla,
      slaReason: terms.reason,
      ownerManagerId,
      teamManagerId: team?.manager_id ?? null,
    };
  }

  return {
    /** Chooses the owner and takes the assignment in one transaction; the SLA terms come with it. */
    async routeLead(request: RouteRequest): Promise<Assignment> {
      return sql.begin((tx) => route(tx, request));
    },

    /** Saves a lead that just became sales-ready and routes it, in one transaction (one round trip fewer at capture). */
    async saveAndRouteLead({ save, route: request }: { save: LeadSave; route: RouteRequest }): Promise<Assignment> {
      return sql.begin(async (tx) => {
        await writeLead(tx, save);
        return route(tx, request);
      });
    },

    /** Gives the lead to a named rep (ops reassignment, escalation to the team manager), whatever the rep's load. */
    async assignTo({ leadId, repId, reason }: { leadId: string; repId: string; reason: string }): Promise<{ ownerManagerId: string | null; teamId: string | null } | null> {
      return sql.begin(async (tx) => {
        const [rep] = await tx<{ manager_id: string | null; team_id: string | null }[]>`SELECT manager_id, team_id FROM reps WHERE id = ${repId} FOR UPDATE`;
        if (!rep) return null;
        await assign(tx, leadId, repId, rep.team_id, reason);
        return { ownerManagerId: rep.manager_id, teamId: rep.team_id };
      });
    },
  };
}
