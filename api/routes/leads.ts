import { randomUUID } from 'node:crypto';
import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import { findLeadState } from '../../db/leads';
import { readTimeline } from '../../db/timeline';
import { leadIdFor } from '../../domain/identity';
import { captureSchema, type CaptureSignal } from '../../domain/capture';
import { leadPolicy } from '../../domain/config';
import { closedStatuses, leadStatuses } from '../../domain/lead';
import { captureSignal, searchAttributes } from '../../workflows/definitions';
import type { leadWorkflow } from '../../workflows/lead/workflow';
import { requireRole } from '../auth';
import type { ApiDeps, AppEnv } from '../context';
import { errorResponses } from '../errors';
import { assertMayRead, leadIdParam, leadListQuerySchema, leadListSchema, leadNotFound, leadViewSchema, listLeads, readLead } from '../lead-view';

const captureAcceptedSchema = z
  .object({
    leadId: z.string(),
    duplicate: z.boolean().meta({ description: 'true when the person already had an open lead and this capture was merged into it' }),
    status: z.enum(leadStatuses),
  })
  .meta({ id: 'CaptureAccepted' });

const timelineSchema = z
  .object({
    events: z.array(z.object({ at: z.string(), type: z.string(), actor: z.string(), data: z.record(z.string(), z.unknown()) })),
  })
  .meta({ id: 'Timeline' });

const captureRoute = createRoute({
  method: 'post',
  path: '/leads',
  tags: ['capture'],
  summary: 'Capture a lead (starts its workflow, or merges into the running one)',
  security: [{ apiKey: [] }],
  middleware: [requireRole('capture')] as const,
  request: { body: { required: true, content: { 'application/json': { schema: captureSchema } } } },
  responses: {
    202: { description: 'captured', content: { 'application/json': { schema: captureAcceptedSchema } } },
    ...errorResponses(400, 401, 403, 413, 415, 422, 429),
  },
});

const getLeadRoute = createRoute({
  method: 'get',
  path: '/leads/{id}',
  tags: ['leads'],
  summary: 'A lead as it is now, with its score explained',
  security: [{ apiKey: [] }],
  middleware: [requireRole('rep', 'ops', 'marketing')] as const,
  request: { params: leadIdParam },
  responses: {
    200: { description: 'the lead', content: { 'application/json': { schema: leadViewSchema } } },
    ...errorResponses(400, 401, 403, 404),
  },
});

const listRoute = createRoute({
  method: 'get',
  path: '/leads',
  tags: ['leads'],
  summary: 'Leads newest first, filtered, a page at a time (reps: their own)',
  security: [{ apiKey: [] }],
  middleware: [requireRole('rep', 'ops', 'marketing')] as const,
  request: { query: leadListQuerySchema },
  responses: {
    200: { description: 'a page of leads', content: { 'application/json': { schema: leadListSchema } } },
    ...errorResponses(400, 401, 403),
  },
});

const timelineRoute = createRoute({
  method: 'get',
  path: '/leads/{id}/timeline',
  tags: ['leads'],
  summary: "The lead's timeline, oldest first",
  security: [{ apiKey: [] }],
  middleware: [requireRole('rep', 'ops', 'marketing')] as const,
  request: { params: leadIdParam },
  responses: {
    200: { description: 'the timeline', content: { 'application/json': { schema: timelineSchema } } },
    ...errorResponses(400, 401, 403, 404),
  },
});

export function leadRoutes({ sql, temporal, taskQueue, namespace, temporalUiUrl, config }: ApiDeps) {
  const policy = leadPolicy(config);
  return new OpenAPIHono<AppEnv>()
    .openapi(captureRoute, async (c) => {
      const capture = c.req.valid('json');
      const leadId = leadIdFor(capture.email);
      // The read model tells whether this person already has an open lead; the workflow merges either way.
      const existing = await findLeadState(sql, leadId);
      const duplicate = existing !== undefined && !closedStatuses.includes(existing.status);
      await temporal.workflow.signalWithStart<typeof leadWorkflow, [CaptureSignal]>('leadWorkflow', {
        workflowId: leadId,
        taskQueue,
        args: [{ leadId, policy, stored: existing !== undefined }],
        signal: captureSignal,
        signalArgs: [{ captureId: c.get('idempotencyKey') ?? randomUUID(), receivedAt: new Date().toISOString(), capture }],
        typedSearchAttributes: [
          { key: searchAttributes.LeadStatus, value: 'new' },
          { key: searchAttributes.LeadSource, value: capture.source },
        ],
      });
      return c.json({ leadId, duplicate, status: duplicate ? existing!.status : 'new' }, 202);
    })
    .openapi(listRoute, async (c) => c.json(await listLeads(sql, c.req.valid('query'), c.get('principal'), { temporalUiUrl, namespace }), 200))
    .openapi(getLeadRoute, async (c) => {
      const { id } = c.req.valid('param');
      return c.json(await readLead(sql, id, c.get('principal'), { temporalUiUrl, namespace }), 200);
    })
    .openapi(timelineRoute, async (c) => {
      const { id } = c.req.valid('param');
      const lead = await findLeadState(sql, id);
      if (!lead) throw leadNotFound(id);
      assertMayRead(c.get('principal'), lead.ownerId, id);
      return c.json({ events: await readTimeline(sql, id) }, 200);
    });
}
