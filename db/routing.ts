import type { Assignment } from '../domain/lead-record';
import type { Segment } from '../domain/routing';
import type { BusinessHours } from '../domain/sla';
import type { Tx } from './client';
import type { RepRow } from './rows';

// The reads and writes of one routing decision, each inside the caller's transaction. What is
// locked here (`FOR UPDATE`) stays locked until that transaction ends, so concurrent routings of
// one team queue up instead of both taking the same rep.

export interface TeamRow {
  id: string;
  name: string;
  countries: string[];
  segments: Segment[];
  business_hours: BusinessHours;
  manager_id: string | null;
  virtual_time: number;
  /** bigint: postgres.js returns it as a string. */
  assignments: string;
}

export type RoutableRep = Pick<RepRow, 'id' | 'team_id' | 'weight' | 'capacity' | 'active' | 'out_of_office_until' | 'manager_id' | 'virtual_time' | 'last_assignment'> & {
  /** Leads the rep owns that are `sql` or `accepted`: what counts against capacity. */
  open_leads: number;
};

/** The account of an email domain, if any. */
export async function findAccount(tx: Tx, domain: string): Promise<{ owner_id: string | null; name: string } | undefined> {
  const [account] = await tx<{ owner_id: string | null; name: string }[]>`SELECT owner_id, name FROM accounts WHERE domain = ${domain}`;
  return account;
}

/** The team a rep belongs to (null: none), or undefined for an unknown rep. */
export async function teamIdOfRep(tx: Tx, repId: string): Promise<string | null | undefined> {
  const [rep] = await tx<{ team_id: string | null }[]>`SELECT team_id FROM reps WHERE id = ${repId}`;
  return rep?.team_id;
}

/** Every team in routing order: the order they were added. */
export function teamsInOrder(tx: Tx): Promise<TeamRow[]> {
  return tx<TeamRow[]>`SELECT * FROM teams ORDER BY created_at, id`;
}

/** A team, locked: its round-robin clock is about to move. */
export async function lockTeam(tx: Tx, teamId: string): Promise<TeamRow | undefined> {
  const [team] = await tx<TeamRow[]>`SELECT * FROM teams WHERE id = ${teamId} FOR UPDATE`;
  return team;
}

/** A team's reps, or one rep, with their open-lead counts, locked so concurrent routing never takes one past capacity. */
export async function lockReps(tx: Tx, where: { teamId: string } | { repId: string }): Promise<RoutableRep[]> {
  const rows = await tx<Omit<RoutableRep, 'open_leads'>[]>`
    SELECT id, team_id, weight, capacity, active, out_of_office_until, manager_id, virtual_time, last_assignment FROM reps
    WHERE ${'teamId' in where ? tx`team_id = ${where.teamId}` : tx`id = ${where.repId}`}
    ORDER BY id FOR UPDATE`;
  if (rows.length === 0) return [];
  const counts = await tx<{ owner_id: string; n: number }[]>`
    SELECT owner_id, count(*)::int AS n FROM leads
    WHERE owner_id IN ${tx(rows.map((r) => r.id))} AND status IN ('sql', 'accepted') GROUP BY owner_id`;
  const open = new Map(counts.map((c) => [c.owner_id, c.n]));
  return rows.map((r) => ({ ...r, open_leads: open.get(r.id) ?? 0 }));
}

/** A rep, locked, for an assignment by name (whatever the rep's load), or undefined for an unknown rep. */
export async function lockRep(tx: Tx, repId: string): Promise<{ manager_id: string | null; team_id: string | null } | undefined> {
  const [rep] = await tx<{ manager_id: string | null; team_id: string | null }[]>`SELECT manager_id, team_id FROM reps WHERE id = ${repId} FOR UPDATE`;
  return rep;
}

/** Moves the weighted round robin's clocks past a pick: the rep's and the team's virtual time, and the team's pick number. */
export async function recordPick(
  tx: Tx,
  pick: { teamId: string; repId: string; repVirtualTime: number; teamVirtualTime: number; assignment: number },
): Promise<void> {
  await tx`UPDATE reps SET virtual_time = ${pick.repVirtualTime}, last_assignment = ${pick.assignment} WHERE id = ${pick.repId}`;
  await tx`UPDATE teams SET virtual_time = ${pick.teamVirtualTime}, assignments = ${pick.assignment} WHERE id = ${pick.teamId}`;
}

/**
 * Gives the lead to its owner (null: the unassigned queue) as a sales-ready lead. Written at once,
 * ahead of the workflow's next save, so the next routing counts this lead against the rep's capacity.
 */
export async function assignLead(tx: Tx, leadId: string, owner: { ownerId: string | null; teamId: string | null; reason: string }): Promise<void> {
  // Marked changed for the funnel report (migration 0019) in the same statement.
  await tx`
    WITH assigned AS (
      UPDATE leads SET owner_id = ${owner.ownerId}, team_id = ${owner.teamId}, routing_reason = ${owner.reason}, status = 'sql',
                       assigned_at = ${owner.ownerId ? tx`clock_timestamp()` : null}, updated_at = now()
      WHERE lead_id = ${leadId}
      RETURNING lead_id)
    INSERT INTO lead_changes (lead_id) SELECT lead_id FROM assigned`;
}

/**
 * Locks the lead's row (so two attempts of one routing decision queue up) and returns the
 * assignment already taken under `routingKey`: null when none, undefined when the lead has no row.
 */
export async function lockRoutingDecision(tx: Tx, leadId: string, routingKey: string): Promise<Assignment | null | undefined> {
  const [lead] = await tx`SELECT 1 FROM leads WHERE lead_id = ${leadId} FOR UPDATE`;
  if (!lead) return undefined;
  // A statement of its own, after the lock: it sees what an attempt that held the lock before committed.
  const [row] = await tx<{ assignment: Assignment }[]>`SELECT assignment FROM routing_decisions WHERE lead_id = ${leadId} AND routing_key = ${routingKey}`;
  return row?.assignment ?? null;
}

/** Remembers the assignment taken under `routingKey`, for an attempt of the same decision to find. */
export async function recordRoutingDecision(tx: Tx, leadId: string, routingKey: string, assignment: Assignment): Promise<void> {
  await tx`INSERT INTO routing_decisions (lead_id, routing_key, assignment) VALUES (${leadId}, ${routingKey}, ${tx.json(assignment as never)})`;
}
