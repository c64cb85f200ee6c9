import type { TerritoryTeam } from '../domain/routing';
import type { AccountOwner, RoutingChanges, WaitingLead } from '../domain/wake-ups';
import type { Sql } from './client';
import { teamsInOrder } from './routing';

export interface WaitingLeadWithAccount extends WaitingLead {
  /** The account of the lead's email domain, when it has an owner. */
  account?: AccountOwner;
}

/**
 * The leads in the unassigned queue (`owner_id IS NULL AND status = 'sql'`, the partial index
 * `leads_unassigned_idx`) that `changes` might concern, least recently routed first, at most
 * `limit`; each with its account's owner and that owner's team, and every team in routing order:
 * what `couldServe` (domain/wake-ups.ts) decides on. The filter here is coarse (a changed team's
 * countries, accounts owned by a changed rep or by a rep of a changed team, a changed domain): team
 * order and segments are left to the rule, which has `matchTeam` and `segmentOf` to hand.
 */
export async function waitingLeadsFor(
  sql: Sql,
  changes: RoutingChanges,
  limit: number,
): Promise<{ leads: WaitingLeadWithAccount[]; teams: TerritoryTeam[] }> {
  const teams = await teamsInOrder(sql);
  const changedTeams = teams.filter((t) => changes.teams.has(t.id));
  const anyCountry = changedTeams.some((t) => t.countries.length === 0);
  const countries = [...new Set(changedTeams.flatMap((t) => t.countries))];
  // The email's domain as emailDomainOf (domain/scoring.ts) takes it: after the last '@', lower-cased.
  const rows = await sql<
    {
      lead_id: string;
      email: string;
      country: string | null;
      employees: number | null;
      owner_id: string | null;
      owner_team_id: string | null;
    }[]
  >`
    SELECT l.lead_id, l.email, l.country, l.employees, a.owner_id, r.team_id AS owner_team_id
    FROM leads l
    LEFT JOIN accounts a ON a.domain = lower(substring(btrim(l.email) from '[^@]*$'))
    LEFT JOIN reps r ON r.id = a.owner_id
    WHERE l.owner_id IS NULL AND l.status = 'sql' AND (
      ${anyCountry}
      OR l.country = ANY(${countries}::text[])
      OR lower(substring(btrim(l.email) from '[^@]*$')) = ANY(${[...changes.domains]}::text[])
      OR a.owner_id = ANY(${[...changes.reps]}::text[])
      OR r.team_id = ANY(${[...changes.teams]}::text[])
    )
    ORDER BY l.updated_at
    LIMIT ${limit}`;
  return {
    leads: rows.map((r) => ({
      leadId: r.lead_id,
      email: r.email,
      ...(r.country === null ? {} : { country: r.country }),
      ...(r.employees === null ? {} : { employees: r.employees }),
      ...(r.owner_id === null ? {} : { account: { ownerId: r.owner_id, ownerTeamId: r.owner_team_id } }),
    })),
    teams: teams.map((t) => ({ id: t.id, countries: t.countries, segments: t.segments })),
  };
}
