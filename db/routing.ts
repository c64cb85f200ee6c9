import type { Assignment } from '../domain/lead-record';
import type { TerritoryTeam } from '../domain/routing';
import {
  decideRouting,
  type RoundRobinMove,
  type RoutingDecision,
  type RoutingOutcome,
  type RoutingReads,
  type RoutingRep,
  type RoutingRequest,
  type RoutingStep,
  type RoutingTeam,
} from '../domain/routing-decision';
import type { Db, Sql, Tx } from './client';
import type { RepRow, TeamRow } from './rows';

// The reads and writes of one routing decision, each inside the caller's transaction. What is
// locked here (`FOR UPDATE`) stays locked until that transaction ends, so concurrent routings of
// one team queue up instead of both taking the same rep. A statement reads what was committed when
// it started, also when it then waits for a lock (rows it locks excepted: it gets their newest
// version), so what must see a previous holder's writes is read in a statement after the lock
// (https://www.postgresql.org/docs/current/transaction-iso.html#XACT-READ-COMMITTED).

/** A rep as routing reads it; `open_leads` is what counts against capacity (migration 0023). */
export type RoutableRep = Pick<
  RepRow,
  | 'id'
  | 'team_id'
  | 'weight'
  | 'capacity'
  | 'active'
  | 'out_of_office_until'
  | 'manager_id'
  | 'virtual_time'
  | 'last_assignment'
  | 'open_leads'
>;

/** The columns of `RoutableRep`. */
const routableRep = 'id, team_id, weight, capacity, active, out_of_office_until, manager_id, virtual_time, last_assignment, open_leads';

/** What a routing decision starts from, read in one statement. */
export interface RoutingContext {
  /** The assignment already taken under the routing key, or null (none, or no key asked for). */
  taken: Assignment | null;
  /** The account of the lead's email domain, with its owner's team (null: none, or an unknown owner). */
  account: { name: string; owner_id: string | null; owner_team_id: string | null } | null;
  /** Every team in routing order (the order they were added), with what territory matching reads and its name (for a preview). */
  teams: (TerritoryTeam & { name: string })[];
}

/** The decision's request (domain/routing-decision.ts) from its context and the lead's profile. */
export function routingRequest(
  { account, teams }: RoutingContext,
  lead: Pick<RoutingRequest, 'country' | 'segment' | 'source' | 'sla' | 'now'> & { domain: string; exclude?: string[] },
): RoutingRequest {
  return {
    account: account && { name: account.name, domain: lead.domain, ownerId: account.owner_id, ownerTeamId: account.owner_team_id },
    teams,
    country: lead.country,
    segment: lead.segment,
    source: lead.source,
    sla: lead.sla,
    exclude: lead.exclude ?? [],
    now: lead.now,
  };
}

/** The routing order of teams (the order they were added): `routingContext` reads it so too. */
const teamOrder = 'created_at, id';

/** Every team in routing order, with what territory matching reads: for the wake-ups (db/wake-ups.ts). */
export function teamsInOrder(db: Db): Promise<TerritoryTeam[]> {
  return db<TerritoryTeam[]>`SELECT id, countries, segments FROM teams ORDER BY ${db.unsafe(teamOrder)}`;
}

/**
 * The assignment taken before under `routingKey` (when given), the account of `domain` and the teams
 * in routing order, in one statement. The caller holds the lead's row lock (`lockLead`, or the save
 * just made), so the decision read here is what an attempt that held the lock before committed.
 */
export async function routingContext(tx: Tx, request: { leadId?: string; routingKey?: string; domain: string }): Promise<RoutingContext> {
  const { leadId, routingKey, domain } = request;
  const [row] = await tx<RoutingContext[]>`
    SELECT
      ${routingKey === undefined || leadId === undefined ? tx`NULL::jsonb` : tx`(SELECT assignment FROM routing_decisions WHERE lead_id = ${leadId} AND routing_key = ${routingKey})`} AS taken,
      (SELECT json_build_object('name', a.name, 'owner_id', a.owner_id, 'owner_team_id', r.team_id)
       FROM accounts a LEFT JOIN reps r ON r.id = a.owner_id WHERE a.domain = ${domain}) AS account,
      (SELECT COALESCE(json_agg(json_build_object('id', id, 'name', name, 'countries', countries, 'segments', segments) ORDER BY ${tx.unsafe(teamOrder)}), '[]')
       FROM teams) AS teams`;
  return row!;
}

/**
 * Locks the lead's row (so two attempts of one routing decision queue up); false when the lead has
 * no row. `routingContext`, a statement after it, then reads what an attempt that held it committed.
 * FOR NO KEY UPDATE, as the lead's saves and updates lock it: it does not wait on the key share
 * locks of foreign-key checks and of the report's fold.
 */
export async function lockLead(tx: Tx, leadId: string): Promise<boolean> {
  const [lead] = await tx`SELECT 1 FROM leads WHERE lead_id = ${leadId} FOR NO KEY UPDATE`;
  return lead !== undefined;
}

/** The columns of `TeamRow`. */
const teamColumns = 'id, name, countries, segments, business_hours, manager_id, virtual_time, assignments';

const routingRep = (rep: RoutableRep): RoutingRep => ({
  id: rep.id,
  teamId: rep.team_id,
  managerId: rep.manager_id,
  weight: rep.weight,
  active: rep.active,
  outOfOfficeUntil: rep.out_of_office_until,
  openLeads: rep.open_leads,
  capacity: rep.capacity,
  virtualTime: rep.virtual_time,
  lastAssignment: Number(rep.last_assignment),
});

const routingTeam = (team: TeamRow): RoutingTeam => ({
  id: team.id,
  name: team.name,
  countries: team.countries,
  segments: team.segments,
  businessHours: team.business_hours,
  managerId: team.manager_id,
  virtualTime: team.virtual_time,
  assignments: Number(team.assignments),
});

/**
 * The teams and reps a routing decision reads (domain/routing-decision.ts), in the caller's
 * transaction. `lock`: the real routing, which locks what it reads (`FOR UPDATE`) until its
 * transaction ends; without it (the preview, in a read-only transaction) the same statements read
 * without locking, so a preview neither waits for a routing nor holds one up.
 *
 * A team is read with its reps, the team first, as every routing does (its round-robin clock is
 * about to move), with the reps' open-lead counts. The counts are the locked rows' own (kept by
 * migration 0023's trigger), so they are the newest committed, also when the statement waited for
 * the lock: concurrent routing never takes a rep past capacity.
 */
export function routingReads(tx: Tx, { lock }: { lock: boolean }): RoutingReads {
  const forUpdate = tx.unsafe(lock ? 'FOR UPDATE' : '');
  return {
    async team(teamId) {
      // The reps' condition reads the (locked) team, so the team is locked before any rep.
      const rows = await tx<(Omit<RoutableRep, 'id'> & { id: string | null; team: TeamRow | null })[]>`
        WITH team AS (SELECT ${tx.unsafe(teamColumns)} FROM teams WHERE id = ${teamId} ${forUpdate})
        SELECT (SELECT to_json(team) FROM team) AS team, r.*
        FROM (SELECT) one LEFT JOIN (
          SELECT ${tx.unsafe(routableRep)} FROM reps WHERE team_id = (SELECT id FROM team) ORDER BY id ${forUpdate}) r ON true
        ORDER BY r.id`;
      const team = rows[0]?.team ?? undefined;
      const reps = rows.filter((r): r is typeof r & { id: string } => r.id !== null).map(({ team: _, ...rep }) => routingRep(rep));
      return { team: team && routingTeam(team), reps };
    },
    async owner(repId) {
      const [rep] = await tx<RoutableRep[]>`SELECT ${tx.unsafe(routableRep)} FROM reps WHERE id = ${repId} ${forUpdate}`;
      return rep && routingRep(rep);
    },
  };
}

/** A rep, locked, for an assignment by name (whatever the rep's load), or undefined for an unknown rep. */
export async function lockRep(tx: Tx, repId: string): Promise<{ manager_id: string | null; team_id: string | null } | undefined> {
  const [rep] = await tx<
    { manager_id: string | null; team_id: string | null }[]
  >`SELECT manager_id, team_id FROM reps WHERE id = ${repId} FOR UPDATE`;
  return rep;
}

/** A decision as remembered under its routing key, and as the routing log shows it (migration 0029). */
export interface RecordedDecision {
  routingKey: string;
  assignment: Assignment;
  outcome: RoutingOutcome;
  path: RoutingStep[];
}

/**
 * Gives the lead to its owner (null: the unassigned queue) as a sales-ready lead, in one statement
 * with what else the decision writes: the round robin's clocks moved past `pick`, and the assignment
 * remembered under `decision.routingKey` for another attempt of the same decision to find. Written at
 * once, ahead of the workflow's next save, so the next routing counts this lead against the rep's
 * capacity; the lead is marked changed for the funnel report (migration 0019).
 */
export async function assignLead(
  tx: Tx,
  leadId: string,
  owner: { ownerId: string | null; teamId: string | null; reason: string },
  also: { pick?: RoundRobinMove; decision?: RecordedDecision } = {},
): Promise<void> {
  const { pick, decision } = also;
  await tx`
    WITH assigned AS (
      UPDATE leads SET owner_id = ${owner.ownerId}, team_id = ${owner.teamId}, routing_reason = ${owner.reason}, status = 'sql',
                       assigned_at = ${owner.ownerId ? tx`clock_timestamp()` : null}, updated_at = now()
      WHERE lead_id = ${leadId}
      RETURNING lead_id),
    changed AS (INSERT INTO lead_changes (lead_id) SELECT lead_id FROM assigned)
    ${
      pick
        ? tx`, rep_clock AS (UPDATE reps SET virtual_time = ${pick.repVirtualTime}, last_assignment = ${pick.assignment} WHERE id = ${pick.repId}),
             team_clock AS (UPDATE teams SET virtual_time = ${pick.teamVirtualTime}, assignments = ${pick.assignment} WHERE id = ${pick.teamId})`
        : tx``
    }
    ${
      decision
        ? tx`, remembered AS (INSERT INTO routing_decisions (lead_id, routing_key, assignment, rep_id, team_id, outcome, path)
                             VALUES (${leadId}, ${decision.routingKey}, ${tx.json(decision.assignment as never)}, ${decision.assignment.ownerId},
                                     ${decision.assignment.teamId}, ${decision.outcome}, ${tx.json(decision.path as never)}))`
        : tx``
    }
    SELECT 1`;
}

/**
 * What routing would decide now for a lead of this profile (docs/features/routing.md, "Preview"):
 * the same context and reads as the real routing, in one read-only transaction that locks nothing
 * and writes nothing, so no round-robin clock moves and no routing waits for it. Repeatable read,
 * so that the account, the teams and the reps read are one snapshot.
 */
export async function previewRouting(
  sql: Sql,
  lead: Parameters<typeof routingRequest>[1],
): Promise<{ context: RoutingContext; decision: RoutingDecision }> {
  return sql.begin('isolation level repeatable read read only', async (tx) => {
    const context = await routingContext(tx, { domain: lead.domain });
    return { context, decision: await decideRouting(routingRequest(context, lead), routingReads(tx, { lock: false })) };
  });
}

/** A page position of the routing log: decided_at (as text, microseconds kept), lead id, routing key. */
export type DecisionPosition = [string, string, string];

export interface DecisionFilter {
  leadId?: string;
  repId?: string;
  teamId?: string;
  outcome?: RoutingOutcome;
  /** [from, to): decided at or after `from`, before `to`. */
  from: string;
  to: string;
  after?: DecisionPosition;
  limit: number;
}

export interface LoggedDecision {
  leadId: string;
  decidedAt: string;
  outcome: RoutingOutcome;
  repId: string | null;
  teamId: string | null;
  assignment: Assignment;
  /** Null for decisions from before migration 0029. */
  path: RoutingStep[] | null;
}

/**
 * The routing log, newest first, a page at a time (keyset pagination on decided_at, then lead and
 * routing key): through routing_decisions_rep_idx or _team_idx for a rep or a team, the primary key
 * for a lead, routing_decisions_decided_idx otherwise. `next` is null on the last page.
 */
export async function listRoutingDecisions(
  sql: Sql,
  filter: DecisionFilter,
): Promise<{ decisions: LoggedDecision[]; next: DecisionPosition | null }> {
  const { after } = filter;
  // Times go in and out as text: through a JS Date they would lose their microseconds (db/leads.ts listLeads).
  const rows = await sql<
    (Omit<LoggedDecision, 'leadId' | 'decidedAt'> & { lead_id: string; decided_at: Date; cursor_at: string; routing_key: string })[]
  >`
    SELECT lead_id, routing_key, decided_at, decided_at::text AS cursor_at, outcome, rep_id AS "repId", team_id AS "teamId", assignment, path
    FROM routing_decisions
    WHERE decided_at >= ${filter.from}::text::timestamptz AND decided_at < ${filter.to}::text::timestamptz
      ${filter.leadId ? sql`AND lead_id = ${filter.leadId}` : sql``}
      ${filter.repId ? sql`AND rep_id = ${filter.repId}` : sql``}
      ${filter.teamId ? sql`AND team_id = ${filter.teamId}` : sql``}
      ${filter.outcome ? sql`AND outcome = ${filter.outcome}` : sql``}
      ${after ? sql`AND (decided_at, lead_id, routing_key) < (${after[0]}::text::timestamptz, ${after[1]}, ${after[2]})` : sql``}
    ORDER BY decided_at DESC, lead_id DESC, routing_key DESC
    LIMIT ${filter.limit + 1}`;
  const page = rows.slice(0, filter.limit);
  const last = page.at(-1);
  return {
    decisions: page.map(({ lead_id, decided_at, cursor_at: _at, routing_key: _key, ...row }) => ({
      leadId: lead_id,
      decidedAt: decided_at.toISOString(),
      ...row,
    })),
    next: rows.length > filter.limit && last ? [last.cursor_at, last.lead_id, last.routing_key] : null,
  };
}
