import { z } from '@hono/zod-openapi';
import type { scoringModelStore } from '../../../db/scoring-models';
import { bands } from '../../../domain/backtest';
import { integer } from '../../../domain/input';
import { scoringModelBodySchema } from '../../../domain/scoring-model';
import { requireRole } from '../../auth';
import { ApiError } from '../../errors';

// What the scoring model routes share: the published versions and how they are named and shown.

export type ScoringModelStore = ReturnType<typeof scoringModelStore>;

export const versionNumber = integer(1, 1_000_000_000);
export const versionParam = z.object({
  version: z.coerce
    .number()
    .pipe(versionNumber)
    .meta({ param: { name: 'version', in: 'path' }, example: 1 }),
});
export const versionRef = z.strictObject({ version: versionNumber }).meta({ id: 'ScoringModelRef', description: 'a published version' });

export const scoringModelSchema = scoringModelBodySchema
  .safeExtend({
    version: z.number().int(),
    publishedAt: z.string(),
    publishedBy: z.string().meta({ description: '"defaults" (version 1, from the configuration) or the publishing role' }),
  })
  .meta({ id: 'ScoringModel' });

/** Evaluation time of every re-score, stated in each answer because decay depends on it. */
export const evaluatedAtNote =
  "each lead is re-scored at its last update (the lead's updatedAt): the moment its stored profile and engagement describe, so only the model differs, and closed leads are not decayed for the time since they stopped engaging";

/** Leads by band, and by band before and after (a backtest's or a rollout's transitions). */
export const bandCounts = z.object({ not_ready: z.number().int(), mql: z.number().int(), sql: z.number().int() });
export const bandCountsByBand = z.object(
  Object.fromEntries(bands.map((band) => [band, bandCounts])) as Record<(typeof bands)[number], typeof bandCounts>,
);

export const readers = requireRole('marketing', 'ops');
export const json = <T extends z.ZodType>(schema: T) => ({ content: { 'application/json': { schema } } });
export const security = [{ apiKey: [] }];

/** A published version, or 404. */
export async function publishedVersion(store: ScoringModelStore, version: number) {
  const model = await store.get(version);
  if (!model) throw new ApiError(404, 'not_found', `no scoring model version ${version}`);
  return model;
}
