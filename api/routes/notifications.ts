import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import { listNotifications, notificationStatuses, type NotificationPosition } from '../../db/outbox';
import { isInWindow, opaqueKey } from '../../domain/input';
import { requireRole } from '../auth';
import type { ApiDeps, AppEnv } from '../context';
import { keysetCursor } from '../cursor';
import { errorResponses } from '../errors';

const querySchema = z.object({
  status: z
    .enum(notificationStatuses)
    .optional()
    .meta({ description: '`dead`: given up on (permanent failure, or failing past `notify.deadAfter`)' }),
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: opaqueKey(200).optional().meta({ description: 'nextCursor of the previous page' }),
});

const notificationSchema = z
  .object({
    id: z.string(),
    kind: z.string().meta({ example: 'sla_breach' }),
    recipient: z.string().meta({ description: 'a rep id, "ops", a CRM connection id, or a lead address for cadence steps' }),
    leadId: z.string().nullable(),
    channel: z.enum(['webhook', 'email', 'slack', 'crm']).meta({
      description:
        '"webhook": NOTIFY_WEBHOOK_URL; "email": SMTP, to the lead (outreach) or to the rep (a copy of an alert); "slack": a direct message from the Slack app to the rep (a copy of an alert); "crm": a push to the CRM connection named by recipient',
    }),
    status: z.enum(notificationStatuses),
    attempts: z.number().int(),
    lastError: z.string().nullable().meta({
      description: 'why the last attempt failed (the webhook URL is never in it)',
      example: 'webhook answered 404 Not Found: no_service',
    }),
    createdAt: z.string(),
    lastAttemptAt: z.string().nullable(),
    sentAt: z.string().nullable(),
  })
  .meta({ id: 'Notification' });

const listSchema = z
  .object({ notifications: z.array(notificationSchema), nextCursor: z.string().nullable().meta({ description: 'null on the last page' }) })
  .meta({ id: 'NotificationList' });

const listRoute = createRoute({
  method: 'get',
  path: '/notifications',
  tags: ['operations'],
  summary: 'The notifications outbox newest first, by delivery status (dead letters: status=dead)',
  security: [{ apiKey: [] }],
  middleware: [requireRole('ops')] as const,
  request: { query: querySchema },
  responses: {
    200: { description: 'a page of outbox entries', content: { 'application/json': { schema: listSchema } } },
    ...errorResponses(400, 401, 403),
  },
});

const cursor = keysetCursor<NotificationPosition>((value) => value.length === 2 && isInWindow(value[0]!) && /^\d{1,18}$/.test(value[1]!));

export function notificationRoutes({ sql }: ApiDeps) {
  return new OpenAPIHono<AppEnv>().openapi(listRoute, async (c) => {
    const query = c.req.valid('query');
    const { notifications, next } = await listNotifications(sql, {
      status: query.status,
      after: query.cursor ? cursor.decode(query.cursor) : undefined,
      limit: query.limit,
    });
    return c.json({ notifications, nextCursor: next && cursor.encode(next) }, 200);
  });
}
