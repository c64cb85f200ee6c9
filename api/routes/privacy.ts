import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import { isGrpcServiceError, WorkflowNotFoundError, type Client } from '@temporalio/client';
import { findLead, findLeadState } from '../../db/leads';
import { metaLeadWorkflowId } from '../../capture/deliveries';
import { eraseLeadRows, lastErasure, metaFetchesOfLead, notificationsOfLead, type Erasure } from '../../db/privacy';
import { readTimeline } from '../../db/timeline';
import { text } from '../../domain/input';
import { requireRole } from '../auth';
import type { ApiDeps, AppEnv } from '../context';
import { errorResponses } from '../errors';
import { leadIdParam, leadNotFound, leadViewSchema, readLead } from '../lead-view';

/**
 * The person's rights over their data: everything held about them as one document, and
 * erasure — the lead's workflow runs deleted from Temporal, its rows from Postgres, a tombstone kept.
 */

const record = z.record(z.string(), z.unknown());
const eventSchema = z.object({ at: z.string(), type: z.string(), actor: z.string(), data: record });
const notificationSchema = z.object({
  kind: z.string(),
  recipient: z.string(),
  message: z.string(),
  data: record,
  status: z.string(),
  createdAt: z.string(),
  sentAt: z.string().nullable(),
});
/** Messages sent to the lead itself (nurture), as opposed to alerts about it. */
const outreachKinds = new Set(['cadence_step', 'reengagement']);

const exportSchema = z
  .object({
    leadId: z.string(),
    exportedAt: z.string(),
    lead: leadViewSchema,
    consent: z.object({
      current: record.meta({ description: 'per channel: status, when, from which source, with which text' }),
      history: z.array(eventSchema).meta({ description: 'every consent change (timeline events `consent_changed`)' }),
    }),
    timeline: z.array(eventSchema),
    notifications: z.array(notificationSchema).meta({ description: 'alerts about the lead to reps, managers and ops' }),
    outreach: z.array(notificationSchema).meta({ description: 'messages of nurture cadences and re-engagement addressed to the lead' }),
  })
  .meta({ id: 'LeadExport' });

const erasureSchema = z
  .object({
    leadId: z.string(),
    erasedAt: z.string(),
    erasedBy: z.string(),
    reason: z.string(),
    engineDeletion: z.object({ done: z.boolean(), runsLeft: z.number().int() }).meta({
      description:
        "Temporal's deletion of the erased workflow runs (the lead's and its Meta lead fetches'), which it does asynchronously: done once none of them is left",
    }),
  })
  .meta({ id: 'Erasure', description: 'the tombstone kept of an erased lead, and how far the engine has got' });

const exportRoute = createRoute({
  method: 'get',
  path: '/leads/{id}/export',
  tags: ['privacy'],
  summary: 'Everything held about the person, as one JSON document',
  security: [{ apiKey: [] }],
  middleware: [requireRole('ops')] as const,
  request: { params: leadIdParam },
  responses: {
    200: { description: 'the export', content: { 'application/json': { schema: exportSchema } } },
    ...errorResponses(400, 401, 403, 404),
  },
});

const eraseRoute = createRoute({
  method: 'delete',
  path: '/leads/{id}',
  tags: ['privacy'],
  summary: "Erase the person: the lead's workflow runs deleted from Temporal, its rows from Postgres, a tombstone kept",
  security: [{ apiKey: [] }],
  middleware: [requireRole('ops')] as const,
  request: {
    params: leadIdParam,
    body: { required: true, content: { 'application/json': { schema: z.strictObject({ reason: text(500) }) } } },
  },
  responses: {
    200: {
      description: 'erased (again: the tombstone of the earlier erasure)',
      content: { 'application/json': { schema: erasureSchema } },
    },
    ...errorResponses(400, 401, 403, 404, 415),
  },
});

const erasureRoute = createRoute({
  method: 'get',
  path: '/erasures/{id}',
  tags: ['privacy'],
  summary: "An erasure's tombstone, and whether Temporal has deleted every run it erased",
  security: [{ apiKey: [] }],
  middleware: [requireRole('ops')] as const,
  request: { params: leadIdParam },
  responses: {
    200: { description: 'the tombstone', content: { 'application/json': { schema: erasureSchema } } },
    ...errorResponses(400, 401, 403, 404),
  },
});

const grpcNotFound = 5;
const notFound = (error: unknown) => error instanceof WorkflowNotFoundError || (isGrpcServiceError(error) && error.code === grpcNotFound);

/** Workflow ids the service makes (lead ids, Meta lead fetches): safe inside a visibility query. */
const queryableId = /^[A-Za-z0-9_.:-]+$/;

/**
 * The run ids of a workflow: its current run (read from the history store) and every run visibility
 * knows; with `startedBefore`, only the runs started before then (a lead erased and captured again
 * has new runs under the same id).
 */
async function runsOf(temporal: Client, workflowId: string, startedBefore?: Date): Promise<Set<string>> {
  if (!queryableId.test(workflowId)) throw new Error(`not a workflow id of the service: ${JSON.stringify(workflowId)}`);
  const runIds = new Set<string>();
  try {
    const current = await temporal.workflow.getHandle(workflowId).describe();
    if (!startedBefore || current.startTime < startedBefore) runIds.add(current.runId);
  } catch (error) {
    if (!notFound(error)) throw error;
  }
  const query = `WorkflowId = '${workflowId}'${startedBefore ? ` AND StartTime < '${startedBefore.toISOString()}'` : ''}`;
  for await (const run of temporal.workflow.list({ query })) runIds.add(run.runId);
  return runIds;
}

/** Ends the workflow, then deletes every run of it (history and visibility records; Temporal does it asynchronously). */
async function deleteWorkflowRuns(temporal: Client, namespace: string, workflowId: string, runIds = new Set<string>()): Promise<void> {
  try {
    // No personal data in the reason: it stays in visibility until the deletion is done.
    await temporal.workflow.getHandle(workflowId).terminate('erasure requested');
  } catch (error) {
    if (!notFound(error)) throw error;
  }
  for (const runId of await runsOf(temporal, workflowId)) runIds.add(runId);
  for (const runId of runIds) {
    try {
      await temporal.workflowService.deleteWorkflowExecution({ namespace, workflowExecution: { workflowId, runId } });
    } catch (error) {
      if (!notFound(error)) throw error;
    }
  }
}

/** The tombstone as answered: with the runs of the erased workflows Temporal has still to delete. */
async function erasureView(temporal: Client, { workflowIds, ...tombstone }: Erasure) {
  const erasedAt = new Date(tombstone.erasedAt);
  const left = await Promise.all([tombstone.leadId, ...workflowIds].map((id) => runsOf(temporal, id, erasedAt)));
  const runsLeft = left.reduce((sum, runs) => sum + runs.size, 0);
  return { ...tombstone, engineDeletion: { done: runsLeft === 0, runsLeft } };
}

export function privacyRoutes({ sql, temporal, namespace, temporalUiUrl }: ApiDeps) {
  return new OpenAPIHono<AppEnv>()
    .openapi(exportRoute, async (c) => {
      const { id } = c.req.valid('param');
      const lead = await readLead({ sql, temporal }, id, c.get('principal'), { temporalUiUrl, namespace });
      const [stored, timeline, notifications] = await Promise.all([findLead(sql, id), readTimeline(sql, id), notificationsOfLead(sql, id)]);
      return c.json(
        {
          leadId: id,
          exportedAt: new Date().toISOString(),
          lead,
          consent: {
            current: (stored?.lead.consent ?? {}) as Record<string, unknown>,
            history: timeline.filter((event) => event.type === 'consent_changed'),
          },
          timeline,
          notifications: notifications.filter((n) => !outreachKinds.has(n.kind)),
          outreach: notifications.filter((n) => outreachKinds.has(n.kind)),
        },
        200,
      );
    })
    .openapi(eraseRoute, async (c) => {
      const { id } = c.req.valid('param');
      const { reason } = c.req.valid('json');
      const [stored, runIds, fetches] = await Promise.all([findLeadState(sql, id), runsOf(temporal, id), metaFetchesOfLead(sql, id)]);
      if (!stored && runIds.size === 0) {
        // Nothing left: an erasure asked again answers the tombstone it left.
        const erased = await lastErasure(sql, id);
        if (!erased) throw leadNotFound(id);
        return c.json(await erasureView(temporal, erased), 200);
      }
      // Temporal first: a workflow still running would write the lead back to Postgres. The Meta lead
      // fetches hold the person's submission in their histories too.
      await deleteWorkflowRuns(temporal, namespace, id, runIds);
      const workflowIds = fetches.map(({ sourceId, leadgenId }) => metaLeadWorkflowId(sourceId, leadgenId));
      for (const workflowId of workflowIds) await deleteWorkflowRuns(temporal, namespace, workflowId);
      const principal = c.get('principal');
      // Who, without the key: the first digits of its hash tell ops keys apart.
      const erasedBy = principal.repId ? `rep ${principal.repId}` : `${principal.role} key ${c.get('apiKeyHash').slice(0, 12)}`;
      return c.json(
        await erasureView(temporal, await eraseLeadRows(sql, { leadId: id, erasedBy, reason, workflowIds, runIds: [...runIds] })),
        200,
      );
    })
    .openapi(erasureRoute, async (c) => {
      const { id } = c.req.valid('param');
      const erased = await lastErasure(sql, id);
      if (!erased) throw leadNotFound(id);
      return c.json(await erasureView(temporal, erased), 200);
    });
}
