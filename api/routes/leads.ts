import { randomUUID } from 'node:crypto';
import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import { takeCapture } from '../../capture/take';
import { captureSchema } from '../../domain/capture';
import { leadPolicy } from '../../domain/config';
import { leadStatuses } from '../../domain/lead';
import { requireRole } from '../auth';
import type { ApiDeps, AppEnv } from '../context';
import { errorResponses } from '../errors';
import { leadIdParam, leadListQuerySchema, leadListSchema, leadViewSchema, listLeads, readLead, readLeadTimeline } from '../lead-view';

const captureAcceptedSchema = z
  .object({
    leadId: z.string(),
    duplicate: z
      .boolean()
      .meta({ description: "true when the person already had an open lead and this capture merges into it (the lead's workflow decides)" }),
    status: z.enum(leadStatuses).optional().meta({
      description:
        'new, for a lead this capture makes or reopens; absent on a duplicate, so that a capture key learns nothing of a lead beyond its id (docs/operations/security.md)',
    }),
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
    202: {
      description:
        "taken by the lead's workflow: recorded durably in Temporal, applied and stored in order (also through a Postgres outage), readable at once",
      content: { 'application/json': { schema: captureAcceptedSchema } },
    },
    ...errorResponses(400, 401, 403, 413, 415, 422, 429, 503),
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
    ...errorResponses(400, 401, 403, 404, 503),
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
    ...errorResponses(400, 401, 403, 503),
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
    ...errorResponses(400, 401, 403, 404, 503),
  },
});

export function leadRoutes({ sql, temporal, taskQueue, namespace, temporalUiUrl, config, leadIdSecret }: ApiDeps) {
  const policy = leadPolicy(config);
  const links = { temporalUiUrl, namespace };
  return new OpenAPIHono<AppEnv>()
    .openapi(captureRoute, async (c) => {
      const capture = c.req.valid('json');
      const captureId = c.get('idempotencyKey') ?? randomUUID();
      return c.json(await takeCapture(temporal, { taskQueue, policy, leadIdSecret }, { captureId, capture }), 202);
    })
    .openapi(listRoute, async (c) => c.json(await listLeads(sql, c.req.valid('query'), c.get('principal'), links), 200))
    .openapi(getLeadRoute, async (c) => {
      const { id } = c.req.valid('param');
      return c.json(await readLead({ sql, temporal }, id, c.get('principal'), links), 200);
    })
    .openapi(timelineRoute, async (c) => {
      const { id } = c.req.valid('param');
      return c.json({ events: await readLeadTimeline({ sql, temporal }, id, c.get('principal')) }, 200);
    });
}
