import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import { WorkflowExecutionAlreadyStartedError, WorkflowFailedError, WorkflowNotFoundError } from '@temporalio/client';
import { findLead } from '../../db/leads';
import { scoringModelStore } from '../../db/scoring-models';
import {
  backtestJobIdOf,
  backtestJobIdPattern,
  backtestWorkflowIdOf,
  bands,
  parseBacktestJobId,
  type BacktestAnswer,
  type BacktestJobProgress,
} from '../../domain/backtest';
import { durationMs } from '../../domain/duration';
import { integer, isBoundedWindow, maxWindowDays, timestamp } from '../../domain/input';
import { bandOf } from '../../domain/qualification';
import { rolloutIdOf, rolloutIdPattern, type RolloutProgress } from '../../domain/rollout';
import { rolloutProgressQuery, type ScoringRolloutInput } from '../../contracts/rollout';
import { backtestProgressQuery, type BacktestJobInput, type BacktestJobResult } from '../../contracts/backtest';
import type { scoringBacktestWorkflow } from '../../workflows/backtest/workflow';
import type { scoringRolloutWorkflow } from '../../workflows/rollout/workflow';
import { configuredModel, modelRules, publishedRules, scoreUnder, scoringModelBodySchema } from '../../domain/scoring-model';
import { hashKey, requireRole } from '../auth';
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

const backtestJobRef = z
  .object({
    id: z.string().meta({ example: 'scoring-backtest-3f2a9c0d1e4b5a67-0f8c2a4e-1b3d-4c5e-8f90-a1b2c3d4e5f6' }),
    href: z.string().meta({ description: 'where the job is read (also the `Location` header)' }),
  })
  .meta({ id: 'BacktestJobRef' });
const backtestJobSchema = backtestJobRef
  .safeExtend({
    state: z.enum(['queued', 'running', 'done', 'failed']).meta({
      description:
        'queued: waiting for a worker to count the window; running: reading it a batch at a time; done: `result` holds the figures; failed: start it again',
    }),
    startedAt: z.string(),
    finishedAt: z.string().nullable(),
    progress: z.object({
      read: z.number().int().meta({ description: 'leads read and re-scored so far' }),
      total: z.number().int().nullable().meta({ description: 'leads in the window when the job counted it (null while queued)' }),
    }),
    result: backtestSchema.optional().meta({ description: 'when done: what `POST /scoring-models/backtest` answers' }),
  })
  .meta({ id: 'BacktestJob' });
const backtestJobIdParam = z.object({
  id: z
    .string()
    .regex(backtestJobIdPattern, 'must be a backtest job id: scoring-backtest-<key tag>-<run id>')
    .meta({ param: { name: 'id', in: 'path' }, example: 'scoring-backtest-3f2a9c0d1e4b5a67-0f8c2a4e-1b3d-4c5e-8f90-a1b2c3d4e5f6' }),
});
/** A job's whole life: with batches of a few hundred milliseconds, a year of a busy pipeline's leads takes minutes. */
const backtestJobTimeout = '1 hour';

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

  const backtestRefOf = (id: string) => ({ id, href: `/scoring-models/backtests/${id}` });
  /**
   * Starts a backtest job for the caller's key: one runs per key at a time (its workflow id is the
   * key's tag), so a second answers 409 naming the running job. The models are resolved here, so an
   * unknown version is a 404 before anything starts.
   */
  const startBacktest = async (body: z.infer<typeof backtestBodySchema>, apiKeyHash: string) => {
    const baseline = publishedRules(body.baseline ? await published(body.baseline.version) : await store.current());
    const candidate = 'version' in body.candidate ? publishedRules(await published(body.candidate.version)) : modelRules(body.candidate, 0);
    const input: BacktestJobInput = { from: body.from, to: body.to, baseline, candidate, batchSize: config.backtest.batchSize };
    // A tag of the key's hash: the same key, the same workflow; no key and no personal data in the id.
    const workflowId = backtestWorkflowIdOf(hashKey(`scoring-backtest:${apiKeyHash}`).slice(0, 16));
    // Twice at most: a conflict with a job that has ended since is no conflict.
    for (let attempt = 1; ; attempt++) {
      try {
        const handle = await temporal.workflow.start<typeof scoringBacktestWorkflow>('scoringBacktestWorkflow', {
          workflowId,
          taskQueue,
          args: [input],
          workflowExecutionTimeout: backtestJobTimeout,
        });
        return { handle, ref: backtestRefOf(backtestJobIdOf(workflowId, handle.firstExecutionRunId)) };
      } catch (error) {
        if (!(error instanceof WorkflowExecutionAlreadyStartedError)) throw error;
        const running = await temporal.workflow.getHandle(workflowId).describe();
        if (running.status.name !== 'RUNNING' && attempt < 2) continue;
        const ref = backtestRefOf(backtestJobIdOf(workflowId, running.runId));
        throw new ApiError(409, 'conflict', `backtest job ${ref.id} is running for this key: read it, or wait until it ends`, undefined, {
          Location: ref.href,
        });
      }
    }
  };
  /** A job's state, progress and (done) figures, or 404: only backtest workflows, never a lead's. */
  const backtestJob = async (id: string) => {
    const parsed = parseBacktestJobId(id);
    const handle = parsed && temporal.workflow.getHandle(parsed.workflowId, parsed.runId);
    const description = await handle?.describe().catch((error: unknown) => {
      if (error instanceof WorkflowNotFoundError) return undefined;
      throw error;
    });
    if (!handle || description?.type !== 'scoringBacktestWorkflow') throw new ApiError(404, 'not_found', `no backtest job ${id}`);
    const status = description.status.name;
    let progress: BacktestJobProgress;
    let result: BacktestAnswer | undefined;
    if (status === 'RUNNING') progress = await handle.query(backtestProgressQuery);
    else if (status === 'COMPLETED') ({ progress, answer: result } = (await handle.result()) as BacktestJobResult);
    else progress = { ...(await handle.query(backtestProgressQuery).catch(() => ({ read: 0, total: null }))), state: 'failed' };
    return {
      ...backtestRefOf(id),
      state: progress.state,
      startedAt: description.startTime.toISOString(),
      finishedAt: description.closeTime?.toISOString() ?? null,
      progress: { read: progress.read, total: progress.total },
      ...(result ? { result } : {}),
    };
  };
  /** The job's answer if it ends within `ms`, else undefined (the wait is abandoned; the job goes on). */
  const answerWithin = async (handle: Awaited<ReturnType<typeof startBacktest>>['handle'], ms: number) => {
    const abandon = new AbortController();
    const timer = setTimeout(() => abandon.abort(), ms);
    try {
      return (await temporal.withAbortSignal(abandon.signal, () => handle.result())).answer;
    } catch (error) {
      if (abandon.signal.aborted) return undefined;
      // A batch that failed its attempts (Postgres unavailable) or a job stopped by an operator.
      if (error instanceof WorkflowFailedError) {
        throw new ApiError(503, 'unavailable', 'the backtest job failed: start it again shortly', undefined, { 'Retry-After': '5' });
      }
      throw error;
    } finally {
      clearTimeout(timer);
    }
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
        description:
          `Re-scoring: ${evaluatedAtNote}. Converted means status "converted". ` +
          'It runs as a backtest job in the worker (`POST /scoring-models/backtests`); this call waits for it up to `backtest.answerWithin` (10 s), then answers 202 with the job. One job runs per API key: 409 while one runs.',
        request: { body: { required: true, ...json(backtestBodySchema) } },
        responses: {
          200: { description: 'the figures, baseline and candidate side by side', ...json(backtestSchema) },
          202: {
            description: 'the job did not end within `backtest.answerWithin` (10 s): it goes on; read it at `Location` (`GET /scoring-models/backtests/{id}`)',
            ...json(backtestJobRef),
          },
          ...errorResponses(400, 401, 403, 404, 409, 413, 415, 422, 503),
        },
      }),
      async (c) => {
        const { handle, ref } = await startBacktest(c.req.valid('json'), c.get('apiKeyHash'));
        const answer = await answerWithin(handle, durationMs(config.backtest.answerWithin));
        if (answer) return c.json(answer, 200);
        return c.json(ref, 202, { Location: ref.href });
      },
    )
    .openapi(
      createRoute({
        method: 'post',
        path: '/scoring-models/backtests',
        tags: ['scoring models'],
        security,
        middleware: readers,
        summary: 'Start a backtest job: the same question as `POST /scoring-models/backtest`, answered by `GET /scoring-models/backtests/{id}`',
        description:
          'The job runs in the worker, reading the window a batch at a time. One runs per API key: a second while one runs answers 409 naming it (`Location`).',
        request: { body: { required: true, ...json(backtestBodySchema) } },
        responses: {
          202: { description: 'the job started (`Location`: where to read it)', ...json(backtestJobRef) },
          ...errorResponses(400, 401, 403, 404, 409, 413, 415, 422),
        },
      }),
      async (c) => {
        const { ref } = await startBacktest(c.req.valid('json'), c.get('apiKeyHash'));
        return c.json(ref, 202, { Location: ref.href });
      },
    )
    .openapi(
      createRoute({
        method: 'get',
        path: '/scoring-models/backtests/{id}',
        tags: ['scoring models'],
        security,
        middleware: readers,
        summary: "A backtest job: its state, progress (leads read of total) and, once done, the backtest's figures",
        request: { params: backtestJobIdParam },
        responses: { 200: { description: 'the job', ...json(backtestJobSchema) }, ...errorResponses(400, 401, 403, 404) },
      }),
      async (c) => c.json(await backtestJob(c.req.valid('param').id), 200),
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
