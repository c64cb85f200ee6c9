import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import { findLead } from '../../../db/leads';
import { bands } from '../../../domain/backtest';
import { bandOf } from '../../../domain/qualification';
import { publishedRules, scoreUnder, scoringModelBodySchema } from '../../../domain/scoring-model';
import { requireRole } from '../../auth';
import type { ApiDeps, AppEnv } from '../../context';
import { errorResponses } from '../../errors';
import { assertMayRead, leadIdParam, leadNotFound } from '../../lead-view';
import { rolloutOptions, rolloutRef, rolloutStarter } from './rollouts';
import {
  evaluatedAtNote,
  json,
  publishedVersion,
  readers,
  scoringModelSchema,
  security,
  versionNumber,
  versionParam,
  type ScoringModelStore,
} from './versions';

const scoreLineSchema = z.object({ rule: z.string(), points: z.number().int(), reason: z.string() });
const scoredSchema = z.object({
  score: z.number().int(),
  grade: z.enum(['A', 'B', 'C', 'D', 'F']),
  band: z.enum(bands),
  modelVersion: z.number().int(),
  breakdown: z.array(scoreLineSchema),
});
const leadScoreSchema = z
  .object({
    leadId: z.string(),
    evaluatedAt: z.string().meta({ description: `when the model's score is evaluated: ${evaluatedAtNote}` }),
    current: scoredSchema.nullable().meta({
      description: 'the score the lead has now (band by the thresholds of the version that made it); null before its first score',
    }),
    model: scoredSchema,
  })
  .meta({ id: 'LeadScoreComparison' });

const publishBodySchema = scoringModelBodySchema
  .safeExtend({
    rollout: z
      .enum(['open_leads'])
      .optional()
      .meta({ description: '"open_leads": also re-score every open lead under the new version (a rollout workflow)' }),
    ...rolloutOptions,
  })
  .refine((body) => body.leadsPerSecond === undefined || body.rollout !== undefined, {
    path: ['leadsPerSecond'],
    message: 'only with rollout "open_leads"',
  })
  .meta({ id: 'ScoringModelPublish' });

/** The published versions: list, read, publish the next, and explain a lead's score under one. */
export function scoringModelVersionRoutes(deps: ApiDeps, store: ScoringModelStore) {
  const { sql, config } = deps;
  const startRollout = rolloutStarter(deps);
  const published = (version: number) => publishedVersion(store, version);
  return new OpenAPIHono<AppEnv>()
    .openapi(
      createRoute({
        method: 'get',
        path: '/scoring-models',
        tags: ['scoring models'],
        summary: 'Every published scoring model version, oldest first (version 1: the configured model)',
        security,
        middleware: readers,
        responses: {
          200: { description: 'the versions', ...json(z.object({ models: z.array(scoringModelSchema) })) },
          ...errorResponses(401, 403),
        },
      }),
      async (c) => c.json({ models: await store.list() }, 200),
    )
    .openapi(
      createRoute({
        method: 'get',
        path: '/scoring-models/{version}',
        tags: ['scoring models'],
        summary: 'One published scoring model version',
        security,
        middleware: readers,
        request: { params: versionParam },
        responses: { 200: { description: 'the version', ...json(scoringModelSchema) }, ...errorResponses(400, 401, 403, 404) },
      }),
      async (c) => c.json(await published(c.req.valid('param').version), 200),
    )
    .openapi(
      createRoute({
        method: 'post',
        path: '/scoring-models',
        tags: ['scoring models'],
        security,
        middleware: requireRole('marketing'),
        summary: 'Publish the next scoring model version (published versions never change); new leads score by it',
        description:
          'The body is the `scoring` (without `modelVersion`), `qualification` and `icp` sections of the configuration, checked as the configuration is. ' +
          'Leads captured from now on score by the new version; running leads keep theirs unless `rollout` is `"open_leads"`, which also starts a rollout that re-scores every open lead under it (`GET /scoring-models/rollouts/{id}`).',
        request: { body: { required: true, ...json(publishBodySchema) } },
        responses: {
          201: {
            description: 'the version published (and its rollout, when asked for)',
            ...json(scoringModelSchema.safeExtend({ rollout: rolloutRef.optional() })),
          },
          ...errorResponses(400, 401, 403, 409, 413, 415, 422),
        },
      }),
      async (c) => {
        const { rollout: scope, leadsPerSecond, ...body } = c.req.valid('json');
        const model = await store.publish(body, c.get('principal').role);
        // Published first: should starting the rollout fail, `POST /scoring-models/{version}/rollouts` starts it.
        return c.json(
          { ...model, ...(scope === 'open_leads' ? { rollout: await startRollout(publishedRules(model), leadsPerSecond) } : {}) },
          201,
        );
      },
    )
    .openapi(
      createRoute({
        method: 'get',
        path: '/leads/{id}/score',
        tags: ['leads'],
        security,
        middleware: requireRole('rep', 'ops', 'marketing'),
        summary: "The lead's score under another scoring model version, beside its current score (reps: their own leads)",
        request: {
          params: leadIdParam,
          query: z.object({
            model: z.coerce.number().pipe(versionNumber).optional().meta({ description: 'a published version; default: the newest' }),
          }),
        },
        responses: { 200: { description: 'both breakdowns', ...json(leadScoreSchema) }, ...errorResponses(400, 401, 403, 404) },
      }),
      async (c) => {
        const { id } = c.req.valid('param');
        const { model: version } = c.req.valid('query');
        const stored = await findLead(sql, id);
        if (!stored) throw leadNotFound(id);
        assertMayRead(c.get('principal'), stored.routing.ownerId, id);
        const model = version === undefined ? await store.current() : await published(version);
        const at = new Date(stored.updatedAt);
        const { fitPoints: _, ...underModel } = scoreUnder(stored.lead.profile, stored.lead.engagement, at, publishedRules(model));
        const current = stored.lead.score;
        // The current band is by the thresholds of the version that made the score; a score from before models were data, by the configuration's.
        const thresholds = current ? ((await store.get(current.modelVersion))?.qualification ?? config.qualification) : undefined;
        return c.json(
          {
            leadId: id,
            evaluatedAt: stored.updatedAt,
            current:
              current && thresholds
                ? {
                    score: current.score,
                    grade: current.grade,
                    band: bandOf(current.score, thresholds),
                    modelVersion: current.modelVersion,
                    breakdown: current.breakdown,
                  }
                : null,
            model: underModel,
          },
          200,
        );
      },
    );
}
