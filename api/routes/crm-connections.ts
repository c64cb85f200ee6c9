import { randomBytes } from 'node:crypto';
import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import { sealSecret } from '../../capture/secrets';
import { crmConnectionView, insertCrmConnection, listCrmConnections, type CrmSettings, type SalesforceCredentials } from '../../db/crm';
import { crmKinds, type CrmKind } from '../../domain/crm';
import { opaqueKey, text } from '../../domain/input';
import { vendorApiHosts, vendorUrlRefusal } from '../../domain/vendor-urls';
import { requireRole } from '../auth';
import type { ApiDeps, AppEnv } from '../context';
import { ApiError, errorResponses } from '../errors';

/** HubSpot's API when the connection names none. */
export const defaultHubspotApiUrl = 'https://api.hubapi.com';
/** The Salesforce external-id fields when the connection names none (docs/features/crm.md "Connecting Salesforce"). */
const defaultLeadIdField = 'Lead_Orchestration_Id__c';
/** The converted Lead Status of an org's default Lead Status picklist. */
const defaultConvertedStatus = 'Closed - Converted';
const defaultHandoffIdField = 'Lead_Orchestration_Handoff_Id__c';

/** A Salesforce custom field's API name: it goes into the upsert's URL. */
const customField = z
  .string()
  .regex(/^[A-Za-z][A-Za-z0-9_]{0,36}__c$/, 'must be a custom field API name (…__c)')
  .optional();

const createSchema = z
  .strictObject({
    kind: z.enum(crmKinds).meta({ description: 'hubspot or salesforce (docs/features/crm.md)' }),
    name: text(200).meta({ example: 'HubSpot production portal' }),
    accessToken: opaqueKey(500)
      .optional()
      .meta({ description: "hubspot (required): the private app's access token (pat-…); sealed, never answered" }),
    clientId: opaqueKey(500).optional().meta({ description: "salesforce (required): the connected app's consumer key; sealed" }),
    clientSecret: opaqueKey(500)
      .optional()
      .meta({ description: "salesforce (required): the connected app's consumer secret; sealed, never answered" }),
    refreshToken: opaqueKey(1000).optional().meta({
      description: 'salesforce (required): a refresh token of the integration user (scopes api refresh_token); sealed, never answered',
    }),
    apiBaseUrl: z
      .url({ protocol: /^https?$/ })
      .optional()
      .meta({
        description: `hubspot: the API base URL (default ${defaultHubspotApiUrl}), https on ${vendorApiHosts.hubspot.join(', ')} only; salesforce (required): the org's instance URL, https on ${vendorApiHosts.salesforce.join(', ')}`,
      }),
    pipeline: text(100).optional().meta({ description: 'hubspot: the pipeline of converted leads’ deals (default "default")' }),
    dealStage: text(100).optional().meta({
      description:
        'the stage new deals start in: hubspot dealstage (default "appointmentscheduled"), salesforce StageName (default "Prospecting")',
    }),
    leadIdField: customField.meta({
      description: `salesforce: the Lead's external-id field holding our lead id (default ${defaultLeadIdField})`,
    }),
    handoffIdField: customField.meta({
      description: `salesforce: the Opportunity's external-id field holding the conversion's handoff id (default ${defaultHandoffIdField})`,
    }),
    closeInDays: z
      .int()
      .min(0)
      .max(3650)
      .optional()
      .meta({ description: "salesforce: the Opportunity's CloseDate, in days after the conversion (default 30)" }),
    convertLeads: z.boolean().optional().meta({
      description:
        'salesforce: on conversion, convert the Lead (convertLead: an Account, a Contact and the Opportunity) rather than upsert an Opportunity alone (default false; docs/features/crm.md)',
    }),
    convertedStatus: text(100)
      .optional()
      .meta({ description: 'salesforce, with convertLeads: the converted Lead Status of the org (default "Closed - Converted")' }),
  })
  .meta({ id: 'CrmConnectionCreate' });

/** The fields each kind requires, and those it does not take. */
const kindFields = {
  hubspot: {
    required: ['accessToken'],
    refused: [
      'clientId',
      'clientSecret',
      'refreshToken',
      'leadIdField',
      'handoffIdField',
      'closeInDays',
      'convertLeads',
      'convertedStatus',
    ],
  },
  salesforce: { required: ['clientId', 'clientSecret', 'refreshToken', 'apiBaseUrl'], refused: ['accessToken', 'pipeline'] },
} as const satisfies Record<CrmKind, { required: readonly string[]; refused: readonly string[] }>;

const connectionSchema = z
  .object({
    id: z.string().meta({ example: 'crm_5c1d0e9a7b3f2a6d4e8c' }),
    kind: z.enum(crmKinds),
    name: z.string(),
    settings: z.object({
      apiBaseUrl: z.string(),
      pipeline: z.string().optional(),
      dealStage: z.string(),
      leadIdField: z.string().optional(),
      handoffIdField: z.string().optional(),
      closeInDays: z.int().optional(),
      convertLeads: z.boolean().optional(),
      convertedStatus: z.string().optional(),
    }),
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
  summary: 'Connect a CRM: routed and converted leads are pushed to it from now on; its credentials are sealed and never answered',
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
    200: {
      description: 'every connection',
      content: { 'application/json': { schema: z.object({ connections: z.array(connectionSchema) }) } },
    },
    ...errorResponses(401, 403, 503),
  },
});

/** CRM connections (docs/api.md "CRM connections", docs/features/crm.md), managed by ops. */
export function crmConnectionRoutes({ sql, codec, extraVendorOrigins = [] }: ApiDeps) {
  return new OpenAPIHono<AppEnv>()
    .openapi(createRouteDef, async (c) => {
      const body = c.req.valid('json');
      const { required, refused } = kindFields[body.kind];
      const urlRefusal =
        // The worker calls it with the credentials: only the vendor's own hosts (docs/operations/security.md "Outbound calls").
        body.apiBaseUrl && vendorUrlRefusal(body.apiBaseUrl, { hosts: vendorApiHosts[body.kind], extraOrigins: extraVendorOrigins });
      const refusals = [
        ...required.filter((field) => body[field] === undefined).map((path) => ({ path, message: `is required for ${body.kind}` })),
        ...refused.filter((field) => body[field] !== undefined).map((path) => ({ path, message: `is not taken by ${body.kind}` })),
        ...(urlRefusal ? [{ path: 'apiBaseUrl', message: urlRefusal }] : []),
        ...(body.convertedStatus !== undefined && !body.convertLeads
          ? [{ path: 'convertedStatus', message: 'is taken with convertLeads only' }]
          : []),
      ];
      if (refusals.length)
        throw new ApiError(400, 'validation_failed', `invalid body: ${refusals.map((m) => m.path).join(', ')}`, refusals);
      const apiBaseUrl = (body.apiBaseUrl ?? defaultHubspotApiUrl).replace(/\/+$/, '');
      const settings: CrmSettings =
        body.kind === 'hubspot'
          ? { apiBaseUrl, pipeline: body.pipeline ?? 'default', dealStage: body.dealStage ?? 'appointmentscheduled' }
          : {
              apiBaseUrl,
              dealStage: body.dealStage ?? 'Prospecting',
              leadIdField: body.leadIdField ?? defaultLeadIdField,
              handoffIdField: body.handoffIdField ?? defaultHandoffIdField,
              closeInDays: body.closeInDays ?? 30,
              ...(body.convertLeads ? { convertLeads: true, convertedStatus: body.convertedStatus ?? defaultConvertedStatus } : {}),
            };
      // One sealed secret per connection: HubSpot's token, or Salesforce's OAuth client and refresh token.
      const secret =
        body.kind === 'hubspot'
          ? body.accessToken!
          : JSON.stringify({
              clientId: body.clientId!,
              clientSecret: body.clientSecret!,
              refreshToken: body.refreshToken!,
            } satisfies SalesforceCredentials);
      const created = await insertCrmConnection(sql, {
        id: `crm_${randomBytes(10).toString('hex')}`,
        kind: body.kind,
        name: body.name,
        settings,
        secret: await sealSecret(codec, secret),
        createdBy: c.get('principal').role,
      });
      return c.json(crmConnectionView(created), 201);
    })
    .openapi(listRouteDef, async (c) => c.json({ connections: await listCrmConnections(sql) }, 200));
}
