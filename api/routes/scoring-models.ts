import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import { WorkflowExecutionAlreadyStartedError, WorkflowNotFoundError } from '@temporalio/client';
import { findLead, forEachLeadCaptured } from '../../db/leads';
import { scoringModelStore } from '../../db/scoring-models';
import { backtestLead, BacktestTally, bands } from '../../domain/backtest';
import { integer, isBoundedWindow, maxWindowDays, timestamp } from '../../domain/input';
import { bandOf } from '../../domain/qualification';
import { rolloutIdOf, rolloutIdPattern, type RolloutProgress } from '../../domain/rollout';
import { rolloutProgressQuery, type ScoringRolloutInput } from '../../contracts/rollout';
import type { scoringRolloutWorkflow } from '../../workflows/rollout/workflow';
import { configuredModel, modelRules, publishedRules, scoreUnder, scoringModelBodySchema } from '../../domain/scoring-model';
import { requireRole } from '../auth';
import type { ApiDeps, AppEnv } from '../context';
import { ApiError, errorResponses } from '../errors';
import { assertMayRead, leadIdParam, leadNotFound } from '../lead-view';

const versionNumber = integer(1, 1_000_000_000);
const versionParam = z.object({
  version: z.coerce
    .number()
    .pipe(versionNumber)
    .meta({ param: { name: 'version', in: 'path' }, example: 1 }),
});
const versionRef = z.strictObject({ version: versionNumber }).meta({ id: 'ScoringModelRef', description: 'a published version' });

const scoringModelSchema = scoringModelBodySchema
  .safeExtend({
    version: z.number().int(),
    publishedAt: z.string(),
    publishedBy: z.string().meta({ description: '"defaults" (version 1, from the configuration) or the publishing role' }),
  })
  .meta({ id: 'ScoringModel' });

/** Evaluation time of every re-score, stated in each answer because decay depends on it. */
const evaluatedAtNote =
  "each lead is re-scored at its last update (the lead's updatedAt): the moment its stored profile and engagement describe, so only the model differs, and closed leads are not decayed for the time since they stopped engaging";

const backtestBodySchema = z
  .strictObject({
    candidate: z
      .union([versionRef, scoringModelBodySchema])
      .meta({ description: 'a published version, or an unpublished model (its scores carry modelVersion 0)' }),
    baseline: versionRef.optional().meta({ description: 'default: the newest published version' }),
    from: timestamp().meta({ description: 'leads captured at or after this time' }),
    to: timestamp().meta({ description: 'leads captured before this time' }),
  })
  .refine((body) => Date.parse(body.to) > Date.parse(body.from), { path: ['to'], message: 'must be after from' })
  .refine((body) => isBoundedWindow(body.from, body.to), { path: ['to'], message: `must be at most ${maxWindowDays} days after from` })
  .meta({ id: 'BacktestInput' });

const bandCounts = z.object({ not_ready: z.number().int(), mql: z.number().int(), sql: z.number().int() });
const modelFigures = z.object({
  version: z.number().int().nullable().meta({ description: 'null for an unpublished candidate' }),
  bands: bandCounts,
  deciles: z
    .array(
      z.object({ min: z.number().int(), max: z.number().int(), leads: z.number().int(), converted: z.number().int(), conversionRate: z.number().nullable() }),
    )
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
    current: scoredSchema
      .nullable()
      .meta({ description: 'the score the lead has now (band by the thresholds of the version that made it); null before its first score' }),
    model: scoredSchema,
  })
  .meta({ id: 'LeadScoreComparison' });

const bandCountsByBand = z.object(Object.fromEntries(bands.map((band) => [band, bandCounts])) as Record<(typeof bands)[number], typeof bandCounts>);
const rolloutSchema = z
  .object({
    id: z.string().meta({ example: 'scoring-rollout-2' }),
    version: z.number().int().meta({ description: 'the version rolled out' }),
    status: z.enum(['running', 'completed', 'cancelled']),
    leadsPerSecond: z.number(),
    startedAt: z.string(),
    finishedAt: z.string().nullable(),
    total: z.number().int().meta({ description: 'open leads on an older version when the rollout started' }),
    signaled: z.number().int().meta({ description: 'leads signaled so far' }),
    rescored: z.number().int().meta({ description: 'leads re-scored under the version (each recorded a score_changed event naming it)' }),
    current: z.number().int().meta({ description: 'leads that were on this version or a newer one already' }),
    skipped: z.number().int().meta({ description: 'leads that had closed, or whose workflow was not running' }),
    done: z.number().int().meta({ description: 'rescored + current + skipped' }),
    remaining: z.number().int().meta({ description: 'leads not signaled yet (by the count at the start) plus leads signaled that have not answered yet' }),
    transitions: bandCountsByBand.meta({
      description: 'transitions[band before][band after] of the re-scored leads, each score banded by the thresholds of its own model',
    }),
    bandChanges: z.number().int().meta({ description: 're-scored leads whose band changed' }),
    salesReady: z.number().int().meta({ description: 're-scored leads the new version made sales-ready, routed as usual' }),
    paged: z.boolean().meta({ description: 'every open lead has been signaled' }),
  })
  .meta({ id: 'ScoringModelRollout' });
const rolloutRef = z.object({ id: z.string(), href: z.string() }).meta({ id: 'ScoringModelRolloutRef' });
const rolloutIdParam = z.object({
  id: z
    .string()
    .regex(rolloutIdPattern, 'must be a rollout id: scoring-rollout-<version>')
    .meta({ param: { name: 'id', in: 'path' }, example: 'scoring-rollout-2' }),
});
/** Near what the pipeline sustains on one worker (docs/benchmarks.md: 18–30 leads/s): a higher rate would only queue work, not finish sooner. */
const maxRolloutLeadsPerSecond = 50;
const rolloutOptions = {
  leadsPerSecond: z
    .number()
    .positive()
    .max(maxRolloutLeadsPerSecond)
    .optional()
    .meta({ description: "the bound on the rollout rate; default: the configuration's `scoringRollout.leadsPerSecond`" }),
};
const publishBodySchema = scoringModelBodySchema
  .safeExtend({
    rollout: z.enum(['open_leads']).optional().meta({ description: '"open_leads": also re-score every open lead under the new version (a rollout workflow)' }),
    ...rolloutOptions,
  })
  .refine((body) => body.leadsPerSecond === undefined || body.rollout !== undefined, { path: ['leadsPerSecond'], message: 'only with rollout "open_leads"' })
  .meta({ id: 'ScoringModelPublish' });
const rolloutBodySchema = z.strictObject(rolloutOptions).meta({ id: 'ScoringModelRolloutInput' });

const readers = requireRole('marketing', 'ops');
const json = <T extends z.ZodType>(schema: T) => ({ content: { 'application/json': { schema } } });
const security = [{ apiKey: [] }];

/** Scoring models as versioned data: publish, read, backtest, and explain a lead under another version. */
export function scoringModelRoutes({ sql, config, temporal, taskQueue }: ApiDeps) {
  const store = scoringModelStore(sql, configuredModel(config));
  const rolloutRefOf = (id: string) => ({ id, href: `/scoring-models/rollouts/${id}` });
  /** Starts the rollout of a published version; one runs per version at a time. */
  const startRollout = async (model: ReturnType<typeof publishedRules>, leadsPerSecond?: number) => {
    const id = rolloutIdOf(model.scoring.modelVersion);
    const { batchSize, reportWait, leadsPerSecond: configured } = config.scoringRollout;
    const input: ScoringRolloutInput = {
      model,
      leadsPerSecond: leadsPerSecond ?? configured,
      batchSize,
      reportWait,
      maxEventsPerRun: config.history.maxEventsPerRun,
    };
    try {
      await temporal.workflow.start<typeof scoringRolloutWorkflow>('scoringRolloutWorkflow', { workflowId: id, taskQueue, args: [input] });
    } catch (error) {
      if (error instanceof WorkflowExecutionAlreadyStartedError) throw new ApiError(409, 'conflict', `rollout ${id} is running already`);
      throw error;
    }
    return rolloutRefOf(id);
  };
  /** A rollout's workflow, or 404 (only rollout workflows: the id never reaches a lead's). */
  const rollout = async (id: string) => {
    const handle = temporal.workflow.getHandle(id);
    try {
      const description = await handle.describe();
      if (description.type === 'scoringRolloutWorkflow') return { handle, running: description.status.name === 'RUNNING' };
    } catch (error) {
      if (!(error instanceof WorkflowNotFoundError)) throw error;
    }
    throw new ApiError(404, 'not_found', `no scoring model rollout ${id}`);
  };
  /** The figures: asked of a running rollout, the result of one that has ended (its last run's, across continue-as-new). */
  const progressOf = async ({ handle, running }: Awaited<ReturnType<typeof rollout>>): Promise<RolloutProgress> =>
    running ? handle.query(rolloutProgressQuery) : ((await handle.result().catch(() => handle.query(rolloutProgressQuery))) as RolloutProgress);
  const published = async (version: number) => {
    const model = await store.get(version);
    if (!model) throw new ApiError(404, 'not_found', `no scoring model version ${version}`);
    return model;
  };

  return new OpenAPIHono<AppEnv>()
    .openapi(
      createRoute({
        method: 'get',
        path: '/scoring-models',
        tags: ['scoring models'],
        summary: 'Every published scoring model version, oldest first (version 1: the configured model)',
        security,
        middleware: readers,
        responses: { 200: { description: 'the versions', ...json(z.object({ models: z.array(scoringModelSchema) })) }, ...errorResponses(401, 403) },
      }),
      async (c) => c.json({ models: await store.list() }, 200),
    )
    .openapi(
      createRoute({
        method: 'post',
        path: '/scoring-models/backtest',
        tags: ['scoring models'],
        security,
        middleware: readers,
        summary:
          'Compare a candidate model with a baseline over the leads captured in [from, to): band transitions, score distribution, and how well each predicted conversion',
        description: `Re-scoring: ${evaluatedAtNote}. Converted means status "converted".`,
        request: { body: { required: true, ...json(backtestBodySchema) } },
        responses: {
          200: { description: 'the figures, baseline and candidate side by side', ...json(backtestSchema) },
          ...errorResponses(400, 401, 403, 404, 413, 415, 422),
        },
      }),
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
        return c.json({ ...model, ...(scope === 'open_leads' ? { rollout: await startRollout(publishedRules(model), leadsPerSecond) } : {}) }, 201);
      },
    )
    .openapi(
      createRoute({
        method: 'post',
        path: '/scoring-models/{version}/rollouts',
        tags: ['scoring models'],
        security,
        middleware: requireRole('marketing'),
        summary: 'Re-score every open lead under a published version (again, after a cancel or a failed start)',
        request: { params: versionParam, body: { required: false, ...json(rolloutBodySchema) } },
        responses: { 202: { description: 'the rollout started', ...json(rolloutRef) }, ...errorResponses(400, 401, 403, 404, 409, 415) },
      }),
      async (c) => {
        const model = await published(c.req.valid('param').version);
        return c.json(await startRollout(publishedRules(model), c.req.valid('json')?.leadsPerSecond), 202);
      },
    )
    .openapi(
      createRoute({
        method: 'get',
        path: '/scoring-models/rollouts/{id}',
        tags: ['scoring models'],
        security,
        middleware: readers,
        summary: "A rollout's progress: leads done and remaining, band changes so far",
        request: { params: rolloutIdParam },
        responses: { 200: { description: 'the progress', ...json(rolloutSchema) }, ...errorResponses(400, 401, 403, 404) },
      }),
      async (c) => c.json(await progressOf(await rollout(c.req.valid('param').id)), 200),
    )
    .openapi(
      createRoute({
        method: 'post',
        path: '/scoring-models/rollouts/{id}/cancel',
        tags: ['scoring models'],
        security,
        middleware: requireRole('marketing'),
        summary: 'Cancel a running rollout: no further lead is signaled; leads re-scored already keep their new score',
        request: { params: rolloutIdParam, body: { required: false, ...json(z.strictObject({}).meta({ description: 'nothing: send {}' })) } },
        responses: {
          202: { description: 'cancellation requested; the progress shows `cancelled` once the rollout has stopped', ...json(rolloutSchema) },
          ...errorResponses(400, 401, 403, 404, 409),
        },
      }),
      async (c) => {
        const found = await rollout(c.req.valid('param').id);
        if (!found.running) throw new ApiError(409, 'conflict', `rollout ${c.req.valid('param').id} has ended`);
        await found.handle.cancel();
        return c.json(await progressOf(found), 202);
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
          query: z.object({ model: z.coerce.number().pipe(versionNumber).optional().meta({ description: 'a published version; default: the newest' }) }),
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
