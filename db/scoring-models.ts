import type { ScoringModel, ScoringModelBody } from '../domain/scoring-model';
import type { Sql } from './client';

interface ScoringModelRow extends ScoringModelBody {
  version: number;
  published_at: Date;
  published_by: string;
}

const fromRow = (row: ScoringModelRow): ScoringModel => ({
  version: row.version,
  scoring: row.scoring,
  qualification: row.qualification,
  icp: row.icp,
  publishedAt: row.published_at.toISOString(),
  publishedBy: row.published_by,
});

/**
 * Published scoring model versions. Without any version, the configured model is
 * published as version 1 the first time anyone looks, as cadences are.
 */
export function scoringModelStore(sql: Sql, defaults: ScoringModelBody) {
  let seeded: Promise<void> | undefined;
  const seed = () =>
    (seeded ??= (async () => {
      await sql`
        INSERT INTO scoring_models (version, scoring, qualification, icp, published_by)
        VALUES (1, ${sql.json(defaults.scoring as never)}, ${sql.json(defaults.qualification as never)}, ${sql.json(defaults.icp as never)}, 'defaults')
        ON CONFLICT DO NOTHING`;
    })().catch((error) => {
      seeded = undefined; // try again next time
      throw error;
    }));

  return {
    /** Every version, oldest first. */
    async list(): Promise<ScoringModel[]> {
      await seed();
      return (await sql<ScoringModelRow[]>`SELECT * FROM scoring_models ORDER BY version`).map(fromRow);
    },

    async get(version: number): Promise<ScoringModel | undefined> {
      await seed();
      const [row] = await sql<ScoringModelRow[]>`SELECT * FROM scoring_models WHERE version = ${version}`;
      return row && fromRow(row);
    },

    /** The newest version. */
    async current(): Promise<ScoringModel> {
      await seed();
      const [row] = await sql<ScoringModelRow[]>`SELECT * FROM scoring_models ORDER BY version DESC LIMIT 1`;
      return fromRow(row!);
    },

    /** Publishes the next version; versions are numbered without gaps, even when published concurrently. */
    async publish(body: ScoringModelBody, by: string): Promise<ScoringModel> {
      await seed();
      return sql.begin(async (tx) => {
        // The primary key alone would answer a concurrent publish with a unique violation; the lock makes it wait its turn.
        await tx`SELECT pg_advisory_xact_lock(hashtext('scoring_models'))`;
        const [row] = await tx<ScoringModelRow[]>`
          INSERT INTO scoring_models (version, scoring, qualification, icp, published_by)
          SELECT coalesce(max(version), 0) + 1, ${tx.json(body.scoring as never)}, ${tx.json(body.qualification as never)}, ${tx.json(body.icp as never)}, ${by}
          FROM scoring_models
          RETURNING *`;
        return fromRow(row!);
      });
    },
  };
}
export type ScoringModelStore = ReturnType<typeof scoringModelStore>;

/** Leads a rollout of `version` re-scores: open, and scored by an older version (or not scored yet). */
const rolloutLeads = (sql: Sql, version: number) =>
  sql`status NOT IN ('converted', 'disqualified', 'archived') AND (score_model_version IS NULL OR score_model_version < ${version})`;

export async function countRolloutLeads(sql: Sql, version: number): Promise<number> {
  const [row] = await sql<{ count: string }[]>`SELECT count(*) FROM leads WHERE ${rolloutLeads(sql, version)}`;
  return Number(row!.count);
}

/** A page of the leads a rollout re-scores, in lead id order after `after` (keyset: each page is one index range scan). */
export async function rolloutLeadsPage(
  sql: Sql,
  { version, after, limit }: { version: number; after: string | null; limit: number },
): Promise<string[]> {
  const rows = await sql<{ lead_id: string }[]>`
    SELECT lead_id FROM leads
    WHERE ${rolloutLeads(sql, version)} ${after === null ? sql`` : sql`AND lead_id > ${after}`}
    ORDER BY lead_id
    LIMIT ${limit}`;
  return rows.map((row) => row.lead_id);
}
