import { randomBytes } from 'node:crypto';
import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import { sealSecret } from '../../capture/secrets';
import { crmConnectionView, insertCrmConnection, listCrmConnections } from '../../db/crm';
import { crmKinds } from '../../domain/crm';
import { opaqueKey, text } from '../../domain/input';
import { vendorApiHosts, vendorUrlRefusal } from '../../domain/vendor-urls';
import { requireRole } from '../auth';
import type { ApiDeps, AppEnv } from '../context';
import { ApiError, errorResponses } from '../errors';

/** HubSpot's API when the connection names none. */
export const defaultHubspotApiUrl = 'https://api.hubapi.com';

const createSchema = z
  .strictObject({
    kind: z.enum(crmKinds).meta({ description: 'hubspot (salesforce is not available yet: docs/features/crm.md)' }),
    name: text(200).meta({ example: 'HubSpot production portal' }),
    accessToken: opaqueKey(500).meta({ description: "hubspot: the private app's access token (pat-…); sealed, never answered" }),
    apiBaseUrl: z
      .url({ protocol: /^https?$/ })
      .optional()
      .meta({ description: `the CRM's API base URL (default ${defaultHubspotApiUrl}); https on ${vendorApiHosts.hubspot.join(', ')} only` }),
    pipeline: text(100).optional().meta({ description: 'hubspot: the pipeline of converted leads’ deals (default "default")' }),
    dealStage: text(100).optional().meta({ description: 'hubspot: the stage new deals start in (default "appointmentscheduled")' }),
  })
  .meta({ id: 'CrmConnectionCreate' });

const connectionSchema = z
  .object({
    id: z.string().meta({ example: 'crm_5c1d0e9a7b3f2a6d4e8c' }),
    kind: z.enum(crmKinds),
    name: z.string(),
    settings: z.object({ apiBaseUrl: z.string(), pipeline: z.string(), dealStage: z.string() }),
    createdAt: z.string(),
    createdBy: z.string(),
  })
  .meta({ id: 'CrmConnection' });

const createRouteDef = createRoute({
  tags: ['crm'],
  security: [{ apiKey: [] }],
  middleware: [requireRole('ops')] as const,
  method: 'post',
  path: '/crm-connections',
  summary: 'Connect a CRM: routed and converted leads are pushed to it from now on; its token is sealed and never answered',
  request: { body: { required: true, content: { 'application/json': { schema: createSchema } } } },
  responses: {
    201: { description: 'the connection (without its token)', content: { 'application/json': { schema: connectionSchema } } },
    ...errorResponses(400, 401, 403, 413, 415, 422, 503),
  },
});
const listRouteDef = createRoute({
  tags: ['crm'],
  security: [{ apiKey: [] }],
  middleware: [requireRole('ops')] as const,
  method: 'get',
  path: '/crm-connections',
  summary: 'The CRM connections (never their tokens)',
  responses: {
    200: { description: 'every connection', content: { 'application/json': { schema: z.object({ connections: z.array(connectionSchema) }) } } },
    ...errorResponses(401, 403, 503),
  },
});

/** CRM connections (docs/api.md "CRM connections", docs/features/crm.md), managed by ops. */
export function crmConnectionRoutes({ sql, codec, extraVendorOrigins = [] }: ApiDeps) {
  const hubspotPolicy = { hosts: vendorApiHosts.hubspot, extraOrigins: extraVendorOrigins };
  return new OpenAPIHono<AppEnv>()
    .openapi(createRouteDef, async (c) => {
      const body = c.req.valid('json');
      const refusals = [
        ...(body.kind === 'salesforce' ? [{ path: 'kind', message: 'salesforce is not available yet: only hubspot (docs/features/crm.md)' }] : []),
        // The worker calls it with the token: only HubSpot's own host (docs/operations/security.md "Outbound calls").
        ...[body.apiBaseUrl && vendorUrlRefusal(body.apiBaseUrl, hubspotPolicy)]
          .filter((m): m is string => typeof m === 'string')
          .map((message) => ({ path: 'apiBaseUrl', message })),
      ];
      if (refusals.length) throw new ApiError(400, 'validation_failed', `invalid body: ${refusals.map((m) => m.path).join(', ')}`, refusals);
      const created = await insertCrmConnection(sql, {
        id: `crm_${randomBytes(10).toString('hex')}`,
        kind: body.kind,
        name: body.name,
        settings: {
          apiBaseUrl: (body.apiBaseUrl ?? defaultHubspotApiUrl).replace(/\/+$/, ''),
          pipeline: body.pipeline ?? 'default',
          dealStage: body.dealStage ?? 'appointmentscheduled',
        },
        secret: await sealSecret(codec, body.accessToken),
        createdBy: c.get('principal').role,
      });
      return c.json(crmConnectionView(created), 201);
    })
    .openapi(listRouteDef, async (c) => c.json({ connections: await listCrmConnections(sql) }, 200));
}
