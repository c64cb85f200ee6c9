import { randomUUID } from 'node:crypto';
import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import { WorkflowNotFoundError } from '@temporalio/client';
import { findLeadState } from '../../db/leads';
import { engagementTypes } from '../../domain/engagement';
import { optionalText, timestamp } from '../../domain/input';
import { closedStatuses } from '../../domain/lead';
import { engagementSignal, type EngagementSignal } from '../../contracts/lead';
import { requireRole } from '../auth';
import type { ApiDeps, AppEnv } from '../context';
import { ApiError, errorResponses } from '../errors';
import { leadIdParam, leadNotFound } from '../lead-view';

export const engagementSchema = z
  .object({
    type: z.enum(engagementTypes).meta({ example: 'visited_pricing_page' }),
    occurredAt: timestamp().optional(),
    eventId: optionalText(200).meta({ description: 'de-duplication key: the same eventId twice is recorded once' }),
  })
  .meta({ id: 'Activity' });

const engagementAcceptedSchema = z.object({ leadId: z.string(), activityId: z.string() }).meta({ id: 'ActivityAccepted' });

const recordEngagementRoute = createRoute({
  method: 'post',
  path: '/leads/{id}/activities',
  tags: ['engagement'],
  summary: 'Report an engagement event; the lead is re-scored',
  security: [{ apiKey: [] }],
  middleware: [requireRole('capture', 'ops')] as const,
  request: { params: leadIdParam, body: { required: true, content: { 'application/json': { schema: engagementSchema } } } },
  responses: {
    202: {
      description:
        "delivered to the lead's workflow (durably, in order after every capture answered before it), which records it once and re-scores the lead",
      content: { 'application/json': { schema: engagementAcceptedSchema } },
    },
    ...errorResponses(400, 401, 403, 404, 409, 413, 415, 422, 429, 503),
  },
});

const closedLead = (id: string, status: string) =>
  new ApiError(
    409,
    'invalid_state',
    `lead ${id} is ${status}: activities are not recorded for a closed lead (a new capture reactivates it)`,
  );

/**
 * Delivers an engagement event to the lead's workflow (also the unsubscribe link's way in); throws
 * 404 for a lead never captured and 409 for a closed one.
 */
export async function signalEngagement(
  { sql, temporal }: Pick<ApiDeps, 'sql' | 'temporal'>,
  id: string,
  event: EngagementSignal,
): Promise<void> {
  try {
    // To the workflow whatever the read model says: right after a capture's 202 the row may not exist
    // yet, and a lead that is closing still records the event.
    await temporal.workflow.getHandle(id).signal(engagementSignal, event);
  } catch (error) {
    if (!(error instanceof WorkflowNotFoundError)) throw error;
    // No running workflow: the read model tells a closed lead from one never captured.
    const lead = await findLeadState(sql, id);
    if (!lead) throw leadNotFound(id);
    if (closedStatuses.includes(lead.status)) throw closedLead(id, lead.status);
    throw new ApiError(
      409,
      'invalid_state',
      `lead ${id} is ${lead.status} but its workflow is not running (it was ended by hand): a new capture restarts it`,
    );
  }
}

export function engagementRoutes(deps: ApiDeps) {
  return new OpenAPIHono<AppEnv>().openapi(recordEngagementRoute, async (c) => {
    const { id } = c.req.valid('param');
    const activity = c.req.valid('json');
    const activityId = activity.eventId ? `event-${activity.eventId}` : (c.get('idempotencyKey') ?? randomUUID());
    await signalEngagement(deps, id, {
      activityId,
      eventId: activity.eventId,
      type: activity.type,
      occurredAt: activity.occurredAt,
      receivedAt: new Date().toISOString(),
      actor: c.get('principal').role,
    });
    return c.json({ leadId: id, activityId }, 202);
  });
}
