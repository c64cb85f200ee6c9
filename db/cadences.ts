import type { CadenceMigration, CadenceStep, CadenceVersion } from '../domain/cadence';
import type { CadenceDefaults } from '../domain/config';
import type { Sql } from './client';

interface CadenceRow {
  name: string;
  version: number;
  steps: CadenceStep[];
  migrate: CadenceMigration;
  published_at: Date;
}

const fromRow = (row: CadenceRow): CadenceVersion => ({
  name: row.name,
  version: row.version,
  steps: row.steps,
  migrate: row.migrate,
  publishedAt: row.published_at.toISOString(),
});

/**
 * Published cadence versions, for the API (marketing publishes, ops reads) and the activities
 * (enrolment, migration at a step boundary). A cadence without any version gets its
 * configured default as version 1 the first time anyone looks.
 */
export function cadenceStore(sql: Sql, defaults: CadenceDefaults) {
  let seeded: Promise<void> | undefined;
  const seed = () =>
    (seeded ??= (async () => {
      for (const [name, steps] of Object.entries(defaults)) {
        await sql`
          INSERT INTO cadences (name, version, steps, migrate, published_by)
          VALUES (${name}, 1, ${sql.json(steps as never)}, 'pinned', 'defaults')
          ON CONFLICT DO NOTHING`;
      }
    })().catch((error) => {
      seeded = undefined; // try again next time
      throw error;
    }));

  return {
    /** The newest version of every cadence. */
    async list(): Promise<(CadenceVersion & { versions: number })[]> {
      await seed();
      const rows = await sql<(CadenceRow & { versions: number })[]>`
        SELECT DISTINCT ON (name) name, version, steps, migrate, published_at, count(*) OVER (PARTITION BY name)::int AS versions
        FROM cadences ORDER BY name, version DESC`;
      return rows.map((row) => ({ ...fromRow(row), versions: row.versions }));
    },

    /** Every version of one cadence, oldest first (empty when there is no such cadence). */
    async versions(name: string): Promise<CadenceVersion[]> {
      await seed();
      return (await sql<CadenceRow[]>`SELECT * FROM cadences WHERE name = ${name} ORDER BY version`).map(fromRow);
    },

    /**
     * How many leads are enrolled on each version of the cadence now (a lead leaves its cadence when
     * its status moves on, workflows/lead/nurture.ts): read through `leads_cadence_idx`.
     */
    async enrolledByVersion(name: string): Promise<Map<number, number>> {
      const rows = await sql<{ version: number; leads: number }[]>`
        SELECT (cadence->>'version')::int AS version, count(*)::int AS leads FROM leads
        WHERE cadence IS NOT NULL AND cadence->>'name' = ${name} GROUP BY 1`;
      return new Map(rows.map((row) => [row.version, row.leads]));
    },

    /** The version leads are enrolled on from now: the newest. */
    async current(name: string): Promise<CadenceVersion | undefined> {
      await seed();
      const [row] = await sql<CadenceRow[]>`SELECT * FROM cadences WHERE name = ${name} ORDER BY version DESC LIMIT 1`;
      return row && fromRow(row);
    },

    /** The version a lead on `version` switches to at its next step: the newest later one published with `migrate: "next_step"`. */
    async migrationFrom(name: string, version: number): Promise<CadenceVersion | undefined> {
      const [row] = await sql<CadenceRow[]>`
        SELECT * FROM cadences WHERE name = ${name} AND version > ${version} AND migrate = 'next_step'
        ORDER BY version DESC LIMIT 1`;
      return row && fromRow(row);
    },

    /** Publishes the next version; versions of one cadence are numbered without gaps, even when published concurrently. */
    async publish(name: string, input: { steps: CadenceStep[]; migrate: CadenceMigration }, by: string): Promise<CadenceVersion> {
      await seed();
      return sql.begin(async (tx) => {
        await tx`SELECT pg_advisory_xact_lock(hashtext(${`cadence:${name}`}))`;
        const [row] = await tx<CadenceRow[]>`
          INSERT INTO cadences (name, version, steps, migrate, published_by)
          SELECT ${name}, coalesce(max(version), 0) + 1, ${tx.json(input.steps as never)}, ${input.migrate}, ${by}
          FROM cadences WHERE name = ${name}
          RETURNING *`;
        return fromRow(row!);
      });
    },
  };
}
export type CadenceStore = ReturnType<typeof cadenceStore>;
