import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import { WorkflowExecutionAlreadyStartedError, WorkflowFailedError, WorkflowNotFoundError } from '@temporalio/client';
import {
  backtestJobIdOf,
  backtestJobIdPattern,
  backtestWorkflowIdOf,
  parseBacktestJobId,
  type BacktestAnswer,
  type BacktestJobProgress,
} from '../../../domain/backtest';
import { durationMs } from '../../../domain/duration';
import { isBoundedWindow, maxWindowDays, timestamp } from '../../../domain/input';
import { modelRules, publishedRules, scoringModelBodySchema } from '../../../domain/scoring-model';
import { backtestProgressQuery, type BacktestJobInput, type BacktestJobResult } from '../../../contracts/backtest';
import type { scoringBacktestWorkflow } from '../../../workflows/backtest/workflow';
import { hashKey } from '../../auth';
import type { ApiDeps, AppEnv } from '../../context';
import { ApiError, errorResponses } from '../../errors';
import {
  bandCounts,
  bandCountsByBand,
  evaluatedAtNote,
  json,
  publishedVersion,
  readers,
  security,
  versionRef,
  type ScoringModelStore,
} from './versions';

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

const modelFigures = z.object({
  version: z.number().int().nullable().meta({ description: 'null for an unpublished candidate' }),
  bands: bandCounts,
  deciles: z
    .array(
      z.object({
        min: z.number().int(),
        max: z.number().int(),
        leads: z.number().int(),
        converted: z.number().int(),
        conversionRate: z.number().nullable(),
      }),
    )
    .meta({ description: 'score distribution and conversion rate by decile: 0–9, 10–19, …, 90–100' }),
  recall: z.number().nullable().meta({ description: 'share of converted leads in the SQL band (null: none converted)' }),
  precision: z.number().nullable().meta({ description: 'share of SQL-band leads that converted (null: empty band)' }),
  auc: z
    .number()
    .nullable()
    .meta({ description: 'ROC AUC of the score against conversion, ties counting half (null without both outcomes)' }),
});
const backtestSchema = z
  .object({
    from: z.string(),
    to: z.string(),
    evaluatedAt: z.literal('lead_updated_at').meta({ description: evaluatedAtNote }),
    leads: z.number().int(),
    converted: z.number().int().meta({ description: 'leads whose status is converted' }),
    transitions: bandCountsByBand.meta({
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

/** Backtests: a candidate model against a baseline over a window of captured leads, as a job in the worker. */
export function scoringBacktestRoutes({ config, temporal, taskQueue }: ApiDeps, store: ScoringModelStore) {
  const published = (version: number) => publishedVersion(store, version);
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
            description:
              'the job did not end within `backtest.answerWithin` (10 s): it goes on; read it at `Location` (`GET /scoring-models/backtests/{id}`)',
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
        summary:
          'Start a backtest job: the same question as `POST /scoring-models/backtest`, answered by `GET /scoring-models/backtests/{id}`',
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
    );
}
