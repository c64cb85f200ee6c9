import { randomUUID } from 'node:crypto';
import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import { leadIdFor } from '../../domain/identity';
import { captureSchema, closedStatuses, leadSources, leadStatuses, type CaptureSignal, type LeadStatus } from '../../domain/lead';
import { captureSignal, searchAttributes } from '../../workflows/definitions';
import type { leadWorkflow } from '../../workflows/lead';
import { requireRole, type Principal } from '../auth';
import type { ApiDeps, AppEnv } from '../context';
import { ApiError, errorSchema } from '../errors';

const leadIdParam = z.object({
  id: z
    .string()
    .regex(/^lead-[0-9a-f]{24}$/, 'must be a lead id such as lead-0123456789abcdef01234567')
    .meta({ param: { name: 'id', in: 'path' }, example: 'lead-5f2b9c0e1d3a4b6c7d8e9f01' }),
});

const captureAcceptedSchema = z
  .object({
    leadId: z.string(),
    duplicate: z.boolean().meta({ description: 'true when the person already had an open lead and this capture was merged into it' }),
    status: z.enum(leadStatuses),
  })
  .meta({ id: 'CaptureAccepted' });

const leadViewSchema = z
  .object({
    leadId: z.string(),
    status: z.enum(leadStatuses),
    statusReason: z.string().nullable(),
    ownerId: z.string().nullable(),
    email: z.string(),
    firstName: z.string().nullable(),
    lastName: z.string().nullable(),
    company: z.string().nullable(),
    title: z.string().nullable(),
    phone: z.string().nullable(),
    country: z.string().nullable(),
    employees: z.number().nullable(),
    industry: z.string().nullable(),
    source: z.enum(leadSources),
    sourceDetail: z.string().nullable(),
    consent: z.record(z.string(), z.unknown()),
    createdAt: z.string(),
    updatedAt: z.string(),
    temporalUiUrl: z.string(),
  })
  .meta({ id: 'Lead' });

const timelineSchema = z
  .object({
    events: z.array(
      z.object({ at: z.string(), type: z.string(), actor: z.string(), data: z.record(z.string(), z.unknown()) }),
    ),
  })
  .meta({ id: 'Timeline' });

const errors = (...statuses: number[]) =>
  Object.fromEntries(
    statuses.map((status) => [status, { description: 'error', content: { 'application/json': { schema: errorSchema } } }]),
  );

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
    ...errors(400, 401, 403, 413, 415),
  },
});

const getLeadRoute = createRoute({
  method: 'get',
  path: '/leads/{id}',
  tags: ['leads'],
  summary: 'A lead as it is now',
  security: [{ apiKey: [] }],
  middleware: [requireRole('rep', 'ops', 'marketing')] as const,
  request: { params: leadIdParam },
  responses: {
    200: { description: 'the lead', content: { 'application/json': { schema: leadViewSchema } } },
    ...errors(400, 401, 403, 404),
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
    ...errors(400, 401, 403, 404),
  },
});

/** Reps see only the leads they own; ops and marketing see all. */
function assertMayRead(principal: Principal, row: { owner_id: string | null }, id: string) {
  if (principal.role === 'rep' && row.owner_id !== principal.repId) {
    throw new ApiError(403, 'forbidden', `lead ${id} is not owned by ${principal.repId}`);
  }
}

interface LeadRow {
  lead_id: string;
  status: LeadStatus;
  status_reason: string | null;
  owner_id: string | null;
  email: string;
  first_name: string | null;
  last_name: string | null;
  company: string | null;
  title: string | null;
  phone: string | null;
  country: string | null;
  employees: number | null;
  industry: string | null;
  source: (typeof leadSources)[number];
  source_detail: string | null;
  consent: Record<string, unknown>;
  created_at: Date;
  updated_at: Date;
}

export function leadRoutes({ sql, temporal, taskQueue, namespace, temporalUiUrl, policy }: ApiDeps) {
  const notFound = (id: string) => new ApiError(404, 'not_found', `no lead with id ${id}`);

  return new OpenAPIHono<AppEnv>()
    .openapi(captureRoute, async (c) => {
      const capture = c.req.valid('json');
      const leadId = leadIdFor(capture.email);
      // The read model tells whether this person already has an open lead; the workflow itself merges either way.
      const [existing] = await sql<{ status: LeadStatus }[]>`SELECT status FROM leads WHERE lead_id = ${leadId}`;
      const duplicate = existing !== undefined && !closedStatuses.includes(existing.status);
      await temporal.workflow.signalWithStart<typeof leadWorkflow, [CaptureSignal]>(
        'leadWorkflow',
        {
          workflowId: leadId,
          taskQueue,
          args: [{ leadId, policy }],
          signal: captureSignal,
          signalArgs: [{ captureId: randomUUID(), receivedAt: new Date().toISOString(), capture }],
          typedSearchAttributes: [
            { key: searchAttributes.LeadStatus, value: 'new' },
            { key: searchAttributes.LeadSource, value: capture.source },
          ],
        },
      );
      return c.json({ leadId, duplicate, status: duplicate ? existing!.status : 'new' }, 202);
    })
    .openapi(getLeadRoute, async (c) => {
      const { id } = c.req.valid('param');
      const [row] = await sql<LeadRow[]>`SELECT * FROM leads WHERE lead_id = ${id}`;
      if (!row) throw notFound(id);
      assertMayRead(c.get('principal'), row, id);
      return c.json(
        {
          leadId: row.lead_id,
          status: row.status,
          statusReason: row.status_reason,
          ownerId: row.owner_id,
          email: row.email,
          firstName: row.first_name,
          lastName: row.last_name,
          company: row.company,
          title: row.title,
          phone: row.phone,
          country: row.country,
          employees: row.employees,
          industry: row.industry,
          source: row.source,
          sourceDetail: row.source_detail,
          consent: row.consent,
          createdAt: row.created_at.toISOString(),
          updatedAt: row.updated_at.toISOString(),
          temporalUiUrl: `${temporalUiUrl}/namespaces/${encodeURIComponent(namespace)}/workflows/${row.lead_id}`,
        },
        200,
      );
    })
    .openapi(timelineRoute, async (c) => {
      const { id } = c.req.valid('param');
      const [lead] = await sql<{ owner_id: string | null }[]>`SELECT owner_id FROM leads WHERE lead_id = ${id}`;
      if (!lead) throw notFound(id);
      assertMayRead(c.get('principal'), lead, id);
      const rows = await sql<{ at: Date; type: string; actor: string; data: Record<string, unknown> }[]>`
        SELECT at, type, actor, data FROM lead_events WHERE lead_id = ${id} ORDER BY at, id`;
      return c.json({ events: rows.map((r) => ({ ...r, at: r.at.toISOString() })) }, 200);
    });
}
