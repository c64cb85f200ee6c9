import type { Segment } from '../domain/routing';
import type { BusinessHours } from '../domain/sla';
import type { Sql } from './client';
import type { RepRow, TeamRow } from './rows';

// Reps, teams and accounts as ops manage them. Routing reads and locks them in db/routing.ts.

export interface Rep {
  id: string;
  name: string;
  email: string;
  teamId: string | null;
  weight: number;
  capacity: number;
  active: boolean;
  outOfOfficeUntil: string | null;
  managerId: string | null;
  /** Slack member id for Slack alerts; null: no Slack. */
  slackUserId: string | null;
  /** The rep's user in the CRM (HubSpot owner id, Salesforce user id), the owner of what is pushed there; null: none. */
  crmUserId: string | null;
}

export interface Team {
  id: string;
  name: string;
  /** Empty: any country. */
  countries: string[];
  /** Empty: any segment. */
  segments: Segment[];
  businessHours: BusinessHours;
  managerId: string | null;
}

export interface Account {
  domain: string;
  name: string;
  ownerId: string | null;
}

const repFromRow = (r: RepRow): Rep => ({
  id: r.id,
  name: r.name,
  email: r.email,
  teamId: r.team_id,
  weight: r.weight,
  capacity: r.capacity,
  active: r.active,
  outOfOfficeUntil: r.out_of_office_until?.toISOString() ?? null,
  managerId: r.manager_id,
  slackUserId: r.slack_user_id ?? null,
  crmUserId: r.crm_user_id ?? null,
});

/** A write that hit a unique key: the id is taken. */
const isUniqueViolation = (error: unknown) => (error as { code?: string }).code === '23505';
const undefinedWhenTaken = (error: unknown) => {
  if (isUniqueViolation(error)) return undefined;
  throw error;
};

export async function listReps(sql: Sql): Promise<Rep[]> {
  return (await sql<RepRow[]>`SELECT * FROM reps ORDER BY id`).map(repFromRow);
}

export async function repExists(sql: Sql, id: string): Promise<boolean> {
  const [row] = await sql`SELECT 1 FROM reps WHERE id = ${id}`;
  return row !== undefined;
}

/** The active rep whose API key has this hash (keys are stored hashed): a deactivated rep's key stops working. */
export async function repIdByKeyHash(sql: Sql, hash: string): Promise<string | undefined> {
  const [rep] = await sql<{ id: string }[]>`SELECT id FROM reps WHERE api_key_hash = ${hash} AND active`;
  return rep?.id;
}

/** Replaces a rep's API key (its hash), so the old key stops working at once; undefined when there is no such rep. */
export async function rotateRepKey(sql: Sql, id: string, apiKeyHash: string): Promise<Rep | undefined> {
  const [row] = await sql<RepRow[]>`UPDATE reps SET api_key_hash = ${apiKeyHash} WHERE id = ${id} RETURNING *`;
  return row && repFromRow(row);
}

/** Adds a rep; undefined when the id is taken. */
export async function insertRep(sql: Sql, rep: Rep & { apiKeyHash: string }): Promise<Rep | undefined> {
  const [row] =
    (await sql<RepRow[]>`
    INSERT INTO reps (id, name, email, team_id, weight, capacity, active, out_of_office_until, manager_id, slack_user_id, crm_user_id, api_key_hash)
    VALUES (${rep.id}, ${rep.name}, ${rep.email}, ${rep.teamId}, ${rep.weight}, ${rep.capacity},
            ${rep.active}, ${rep.outOfOfficeUntil}, ${rep.managerId}, ${rep.slackUserId ?? null}, ${rep.crmUserId ?? null}, ${rep.apiKeyHash})
    RETURNING *`.catch(undefinedWhenTaken)) ?? [];
  return row && repFromRow(row);
}

/** A change to a rep: a field left out stays as stored, `null` clears a nullable one. */
export type RepPatch = Partial<Omit<Rep, 'id'>>;

/** Writes exactly the columns the patch names (a column absent from SET keeps its value); undefined when there is no such rep. */
export async function updateRep(sql: Sql, id: string, patch: RepPatch): Promise<Rep | undefined> {
  const columns = {
    name: patch.name,
    email: patch.email,
    team_id: patch.teamId,
    weight: patch.weight,
    capacity: patch.capacity,
    active: patch.active,
    out_of_office_until: patch.outOfOfficeUntil,
    manager_id: patch.managerId,
    slack_user_id: patch.slackUserId,
    crm_user_id: patch.crmUserId,
  };
  const changed = Object.fromEntries(Object.entries(columns).filter(([, value]) => value !== undefined));
  const [row] = Object.keys(changed).length
    ? await sql<RepRow[]>`UPDATE reps SET ${sql(changed)} WHERE id = ${id} RETURNING *`
    : await sql<RepRow[]>`SELECT * FROM reps WHERE id = ${id}`;
  return row && repFromRow(row);
}

/** Every team in routing order: the order they were added. */
export async function listTeams(sql: Sql): Promise<Team[]> {
  const rows = await sql<
    RosterTeamRow[]
  >`SELECT id, name, countries, segments, business_hours, manager_id FROM teams ORDER BY created_at, id`;
  return rows.map(teamFromRow);
}

export async function teamExists(sql: Sql, id: string): Promise<boolean> {
  const [row] = await sql`SELECT 1 FROM teams WHERE id = ${id}`;
  return row !== undefined;
}

/** What the roster reads of a team: not the round robin's clock. */
type RosterTeamRow = Omit<TeamRow, 'virtual_time' | 'assignments'>;
const teamFromRow = (t: RosterTeamRow): Team => ({
  id: t.id,
  name: t.name,
  countries: t.countries,
  segments: t.segments,
  businessHours: t.business_hours,
  managerId: t.manager_id,
});

/** Writes exactly the columns the patch names, as `updateRep`; undefined when there is no such team. */
export async function updateTeam(sql: Sql, id: string, patch: Partial<Omit<Team, 'id'>>): Promise<Team | undefined> {
  const columns = {
    name: patch.name,
    countries: patch.countries,
    segments: patch.segments,
    business_hours: patch.businessHours && sql.json(patch.businessHours as never),
    manager_id: patch.managerId,
  };
  const changed = Object.fromEntries(Object.entries(columns).filter(([, value]) => value !== undefined));
  const [row] = Object.keys(changed).length
    ? await sql<
        RosterTeamRow[]
      >`UPDATE teams SET ${sql(changed)} WHERE id = ${id} RETURNING id, name, countries, segments, business_hours, manager_id`
    : await sql<RosterTeamRow[]>`SELECT id, name, countries, segments, business_hours, manager_id FROM teams WHERE id = ${id}`;
  return row && teamFromRow(row);
}

/** Adds a team; false when the id is taken. */
export async function insertTeam(sql: Sql, team: Team): Promise<boolean> {
  const inserted = await sql`
    INSERT INTO teams (id, name, countries, segments, business_hours, manager_id)
    VALUES (${team.id}, ${team.name}, ${team.countries}, ${team.segments}, ${sql.json(team.businessHours as never)}, ${team.managerId})
    RETURNING id`.catch(undefinedWhenTaken);
  return inserted !== undefined;
}

export async function listAccounts(sql: Sql): Promise<Account[]> {
  const rows = await sql<
    { domain: string; name: string; owner_id: string | null }[]
  >`SELECT domain, name, owner_id FROM accounts ORDER BY domain`;
  return rows.map((a) => ({ domain: a.domain, name: a.name, ownerId: a.owner_id }));
}

/** Adds the account of a domain, or replaces its name and owner. */
export async function upsertAccount(sql: Sql, account: Account): Promise<void> {
  await sql`INSERT INTO accounts (domain, name, owner_id) VALUES (${account.domain}, ${account.name}, ${account.ownerId})
            ON CONFLICT (domain) DO UPDATE SET name = EXCLUDED.name, owner_id = EXCLUDED.owner_id`;
}
