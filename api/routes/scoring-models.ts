import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import { findLead, forEachLeadCaptured } from '../../db/leads';
import { scoringModelStore } from '../../db/scoring-models';
import { backtestLead, BacktestTally, bands } from '../../domain/backtest';
import { integer, timestamp } from '../../domain/input';
import { bandOf } from '../../domain/qualification';
import { configuredModel, modelRules, publishedRules, scoreUnder, scoringModelBodySchema } from '../../domain/scoring-model';
import { requireRole } from '../auth';
import type { ApiDeps, AppEnv } from '../context';
import { ApiError, errorResponses } from '../errors';
import { assertMayRead, leadIdParam, leadNotFound } from '../lead-view';

const versionNumber = integer(1, 1_000_000_000);
const versionParam = z.object({
  version: z.coerce.number().pipe(versionNumber).meta({ param: { name: 'version', in: 'path' }, example: 1 }),
});
const versionRef = z.strictObject({ version: versionNumber }).meta({ id: 'ScoringModelRef', description: 'a published version' });

const scoringModelSchema = scoringModelBodySchema
  .safeExtend({ version: z.number().int(), publishedAt: z.string(), publishedBy: z.string().meta({ description: '"defaults" (version 1, from the configuration) or the publishing role' }) })
  .meta({ id: 'ScoringModel' });

/** Evaluation time of every re-score, stated in each answer because decay depends on it. */
const evaluatedAtNote =
  "each lead is re-scored at its last update (the lead's updatedAt): the moment its stored profile and engagement describe, so only the model differs, and closed leads are not decayed for the time since they stopped engaging";

const backtestBodySchema = z
  .strictObject({
    candidate: z.union([versionRef, scoringModelBodySchema]).meta({ description: 'a published version, or an unpublished model (its scores carry modelVersion 0)' }),
    baseline: versionRef.optional().meta({ description: 'default: the newest published version' }),
    from: timestamp().meta({ description: 'leads captured at or after this time' }),
    to: timestamp().meta({ description: 'leads captured before this time' }),
  })
  .refine((body) => Date.parse(body.to) > Date.parse(body.from), { path: ['to'], message: 'must be after from' })
  .meta({ id: 'BacktestInput' });

const bandCounts = z.object({ not_ready: z.number().int(), mql: z.number().int(), sql: z.number().int() });
const modelFigures = z.object({
  version: z.number().int().nullable().meta({ description: 'null for an unpublished candidate' }),
  bands: bandCounts,
  deciles: z
    .array(z.object({ min: z.number().int(), max: z.number().int(), leads: z.number().int(), converted: z.number().int(), conversionRate: z.number().nullable() }))
    .meta({ description: 'score distribution and conversion rate by decile: 0–9, 10–19, …, 90–100' }),
  recall: z.number().nullable().meta({ description: 'share of converted leads in the SQL band (null: none converted)' }),
  precision: z.number().nullable().meta({ description: 'share of SQL-band leads that converted (null: empty band)' }),
  auc: z.number().nullable().meta({ description: 'ROC AUC of the score against conversion, ties counting half (null without both outcomes)' }),
});
const backtestSchema = z
  .object({
    from: z.string(),
    to: z.string(),
    evaluatedAt: z.literal('lead_updated_at').meta({ description: evaluatedAtNote }),
    leads: z.number().int(),
    converted: z.number().int().meta({ description: 'leads whose status is converted' }),
    transitions: z.object(Object.fromEntries(bands.map((band) => [band, bandCounts])) as Record<(typeof bands)[number], typeof bandCounts>).meta({
      description: 'transitions[baseline band][candidate band]: how many leads move between bands, each model by its own thresholds',
    }),
    baseline: modelFigures,
    candidate: modelFigures,
  })
  .meta({ id: 'Backtest' });

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
    current: scoredSchema.nullable().meta({ description: 'the score the lead has now (band by the thresholds of the version that made it); null before its first score' }),
    model: scoredSchema,
  })
  .meta({ id: 'LeadScoreComparison' });

const readers = requireRole('marketing', 'ops');
const json = <T extends z.ZodType>(schema: T) => ({ content: { 'application/json': { schema } } });
const security = [{ apiKey: [] }];

/** Scoring models as versioned data (issue 18): publish, read, backtest, and explain a lead under another version. */
export function scoringModelRoutes({ sql, config }: ApiDeps) {
  const store = scoringModelStore(sql, configuredModel(config));
  const published = async (version: number) => {
    const model = await store.get(version);
    if (!model) throw new ApiError(404, 'not_found', `no scoring model version ${version}`);
    return model;
  };

  return new OpenAPIHono<AppEnv>()
    .openapi(
      createRoute({ method: 'get', path: '/scoring-models', tags: ['scoring models'], summary: 'Every published scoring model version, oldest first (version 1: the configured model)', security, middleware: readers,
        responses: { 200: { description: 'the versions', ...json(z.object({ models: z.array(scoringModelSchema) })) }, ...errorResponses(401, 403) } }),
      async (c) => c.json({ models: await store.list() }, 200),
    )
    .openapi(
      createRoute({ method: 'post', path: '/scoring-models/backtest', tags: ['scoring models'], security, middleware: readers,
        summary: 'Compare a candidate model with a baseline over the leads captured in [from, to): band transitions, score distribution, and how well each predicted conversion',
        description: `Re-scoring: ${evaluatedAtNote}. Converted means status "converted".`,
        request: { body: { required: true, ...json(backtestBodySchema) } },
        responses: { 200: { description: 'the figures, baseline and candidate side by side', ...json(backtestSchema) }, ...errorResponses(400, 401, 403, 404, 413, 415, 422) } }),
      async (c) => {
        const body = c.req.valid('json');
        const baseline = publishedRules(body.baseline ? await published(body.baseline.version) : await store.current());
        const candidate = 'version' in body.candidate ? publishedRules(await published(body.candidate.version)) : modelRules(body.candidate, 0);
        const tally = new BacktestTally();
        await forEachLeadCaptured(sql, { from: body.from, to: body.to }, (leads) => {
          for (const stored of leads) tally.add(backtestLead(stored.lead, new Date(stored.updatedAt), baseline, candidate));
        });
        const { baseline: baselineFigures, candidate: candidateFigures, ...figures } = tally.figures();
        return c.json(
          {
            from: body.from,
            to: body.to,
            evaluatedAt: 'lead_updated_at' as const,
            ...figures,
            baseline: { version: baseline.scoring.modelVersion, ...baselineFigures },
            candidate: { version: 'version' in body.candidate ? body.candidate.version : null, ...candidateFigures },
          },
          200,
        );
      },
    )
    .openapi(
      createRoute({ method: 'get', path: '/scoring-models/{version}', tags: ['scoring models'], summary: 'One published scoring model version', security, middleware: readers,
        request: { params: versionParam },
        responses: { 200: { description: 'the version', ...json(scoringModelSchema) }, ...errorResponses(400, 401, 403, 404) } }),
      async (c) => c.json(await published(c.req.valid('param').version), 200),
    )
    .openapi(
      createRoute({ method: 'post', path: '/scoring-models', tags: ['scoring models'], security, middleware: requireRole('marketing'),
        summary: 'Publish the next scoring model version (published versions never change)',
        description: 'The body is the `scoring` (without `modelVersion`), `qualification` and `icp` sections of the configuration, checked as the configuration is. Publishing changes no lead yet.',
        request: { body: { required: true, ...json(scoringModelBodySchema) } },
        responses: { 201: { description: 'the version published', ...json(scoringModelSchema) }, ...errorResponses(400, 401, 403, 409, 413, 415, 422) } }),
      async (c) => c.json(await store.publish(c.req.valid('json'), c.get('principal').role), 201),
    )
    .openapi(
      createRoute({ method: 'get', path: '/leads/{id}/score', tags: ['leads'], security, middleware: requireRole('rep', 'ops', 'marketing'),
        summary: "The lead's score under another scoring model version, beside its current score (reps: their own leads)",
        request: { params: leadIdParam, query: z.object({ model: z.coerce.number().pipe(versionNumber).optional().meta({ description: 'a published version; default: the newest' }) }) },
        responses: { 200: { description: 'both breakdowns', ...json(leadScoreSchema) }, ...errorResponses(400, 401, 403, 404) } }),
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
            current: current && thresholds
              ? { score: current.score, grade: current.grade, band: bandOf(current.score, thresholds), modelVersion: current.modelVersion, breakdown: current.breakdown }
              : null,
            model: underModel,
          },
          200,
        );
      },
    );
}
