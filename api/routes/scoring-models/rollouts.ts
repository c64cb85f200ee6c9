import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import { WorkflowExecutionAlreadyStartedError, WorkflowNotFoundError } from '@temporalio/client';
import { rolloutIdOf, rolloutIdPattern, type RolloutProgress } from '../../../domain/rollout';
import { publishedRules } from '../../../domain/scoring-model';
import { rolloutProgressQuery, type ScoringRolloutInput } from '../../../contracts/rollout';
import type { scoringRolloutWorkflow } from '../../../workflows/rollout/workflow';
import { requireRole } from '../../auth';
import type { ApiDeps, AppEnv } from '../../context';
import { ApiError, errorResponses } from '../../errors';
import { bandCountsByBand, json, publishedVersion, readers, security, versionParam, type ScoringModelStore } from './versions';

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
    remaining: z
      .number()
      .int()
      .meta({ description: 'leads not signaled yet (by the count at the start) plus leads signaled that have not answered yet' }),
    transitions: bandCountsByBand.meta({
      description: 'transitions[band before][band after] of the re-scored leads, each score banded by the thresholds of its own model',
    }),
    bandChanges: z.number().int().meta({ description: 're-scored leads whose band changed' }),
    salesReady: z.number().int().meta({ description: 're-scored leads the new version made sales-ready, routed as usual' }),
    paged: z.boolean().meta({ description: 'every open lead has been signaled' }),
  })
  .meta({ id: 'ScoringModelRollout' });
export const rolloutRef = z.object({ id: z.string(), href: z.string() }).meta({ id: 'ScoringModelRolloutRef' });
const rolloutIdParam = z.object({
  id: z
    .string()
    .regex(rolloutIdPattern, 'must be a rollout id: scoring-rollout-<version>')
    .meta({ param: { name: 'id', in: 'path' }, example: 'scoring-rollout-2' }),
});
/** Near what the pipeline sustains on one worker (docs/benchmarks.md: 18–30 leads/s): a higher rate would only queue work, not finish sooner. */
const maxRolloutLeadsPerSecond = 50;
export const rolloutOptions = {
  leadsPerSecond: z
    .number()
    .positive()
    .max(maxRolloutLeadsPerSecond)
    .optional()
    .meta({ description: "the bound on the rollout rate; default: the configuration's `scoringRollout.leadsPerSecond`" }),
};
const rolloutBodySchema = z.strictObject(rolloutOptions).meta({ id: 'ScoringModelRolloutInput' });

const rolloutRefOf = (id: string) => ({ id, href: `/scoring-models/rollouts/${id}` });

/** Starts the rollout of a published version; one runs per version at a time. */
export function rolloutStarter({ config, temporal, taskQueue }: Pick<ApiDeps, 'config' | 'temporal' | 'taskQueue'>) {
  return async (model: ReturnType<typeof publishedRules>, leadsPerSecond?: number) => {
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
}

/** Rollouts: re-scoring every open lead under a published version, watched and cancelled. */
export function scoringRolloutRoutes(deps: ApiDeps, store: ScoringModelStore) {
  const { temporal } = deps;
  const startRollout = rolloutStarter(deps);
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
    running
      ? handle.query(rolloutProgressQuery)
      : ((await handle.result().catch(() => handle.query(rolloutProgressQuery))) as RolloutProgress);
  return new OpenAPIHono<AppEnv>()
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
        const model = await publishedVersion(store, c.req.valid('param').version);
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
        request: {
          params: rolloutIdParam,
          body: { required: false, ...json(z.strictObject({}).meta({ description: 'nothing: send {}' })) },
        },
        responses: {
          202: {
            description: 'cancellation requested; the progress shows `cancelled` once the rollout has stopped',
            ...json(rolloutSchema),
          },
          ...errorResponses(400, 401, 403, 404, 409),
        },
      }),
      async (c) => {
        const found = await rollout(c.req.valid('param').id);
        if (!found.running) throw new ApiError(409, 'conflict', `rollout ${c.req.valid('param').id} has ended`);
        await found.handle.cancel();
        return c.json(await progressOf(found), 202);
      },
    );
}
