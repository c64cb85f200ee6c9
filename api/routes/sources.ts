import { randomBytes } from 'node:crypto';
import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import { findSource, insertSource, listRejections, listSources, sourceView } from '../../db/sources';
import { hashToken, newSecret, sealSecret } from '../../capture/secrets';
import { mappableFields, vendors, type Vendor } from '../../contracts/vendors';
import { opaqueKey, text } from '../../domain/input';
import { leadSources } from '../../domain/lead';
import { vendorApiHosts, vendorUrlRefusal } from '../../domain/vendor-urls';
import { requireRole } from '../auth';
import type { ApiDeps, AppEnv } from '../context';
import { ApiError, errorResponses } from '../errors';

/** Vendors whose secret is theirs (an app's client secret, Meta's app secret): it must be given. The others take one we make. */
const vendorMadeSecret: readonly Vendor[] = ['hubspot', 'webflow', 'meta_lead_ads'];
/** Meta's Graph API when the source names none (a versioned base URL, as Meta requires). */
export const defaultGraphApiUrl = 'https://graph.facebook.com/v21.0';

const fieldMappingSchema = z.partialRecord(z.enum(mappableFields), text(200)).meta({
  description:
    "Our field → the vendor's name for it (Typeform field ref, Tally key or label, Webflow label, Jotform q3_email, Meta question name, Calendly question, HubSpot property). Unmapped fields are found by the vendor's field types and usual names.",
  example: { company: 'Company name', emailConsent: 'Newsletter opt-in' },
});

const createSourceSchema = z
  .object({
    vendor: z.enum(vendors),
    name: text(200).meta({ example: 'Typeform demo request' }),
    leadSource: z.enum(leadSources).meta({ description: 'the lead `source` its captures carry', example: 'demo_request' }),
    fieldMapping: fieldMappingSchema.optional(),
    secret: opaqueKey(500).optional().meta({
      description:
        "the signing secret: required for hubspot (the app's client secret), webflow (the app's client secret) and meta_lead_ads (the app secret); made for the others when not given",
    }),
    graphApiUrl: z
      .url({ protocol: /^https?$/ })
      .optional()
      .meta({
        description: `meta_lead_ads: the Graph API base URL (default ${defaultGraphApiUrl}); https on ${vendorApiHosts.meta_lead_ads.join(', ')} only, no query or fragment`,
      }),
    accessToken: opaqueKey(1000)
      .optional()
      .meta({ description: 'meta_lead_ads: the page access token the lead fields are read with (required)' }),
    verifyToken: opaqueKey(200).optional().meta({ description: "meta_lead_ads: the verification handshake's token (made when not given)" }),
  })
  .strict()
  .meta({ id: 'SourceCreate' });

const sourceSchema = z
  .object({
    id: z.string().meta({ example: 'src_3k9v2w6q8d1m' }),
    vendor: z.enum(vendors),
    name: z.string(),
    leadSource: z.enum(leadSources),
    fieldMapping: z.record(z.string(), z.string()),
    graphApiUrl: z.string().nullable(),
    hookPath: z.string().meta({
      description: 'where the vendor posts: POST <API base URL><hookPath> (Jotform: add ?token=<secret>)',
      example: '/hooks/src_3k9v2w6q8d1m',
    }),
    createdAt: z.string(),
    createdBy: z.string(),
  })
  .meta({ id: 'Source' });

const createdSchema = sourceSchema
  .extend({
    secret: z.string().nullable().meta({ description: 'the signing secret (Jotform: the URL token), answered this once and never again' }),
    verifyToken: z.string().nullable().meta({ description: "meta_lead_ads: the verification handshake's token, answered this once" }),
  })
  .meta({ id: 'SourceCreated' });

const rejectionSchema = z
  .object({
    eventId: z.string(),
    reason: z.string().meta({ example: 'no email: the submission has no email field' }),
    receivedAt: z.string(),
  })
  .meta({ id: 'SourceRejection' });

const idParam = z.object({ id: z.string().regex(/^src_[a-z0-9]{1,40}$/, 'must be a source id (src_...)') });

const createRouteDef = createRoute({
  tags: ['sources'],
  security: [{ apiKey: [] }],
  middleware: [requireRole('ops')] as const,
  method: 'post',
  path: '/sources',
  summary: 'Register a capture source (a form tool posting to /hooks/{id}); its secret is answered once',
  request: { body: { required: true, content: { 'application/json': { schema: createSourceSchema } } } },
  responses: {
    201: { description: 'the source, with its secret this once', content: { 'application/json': { schema: createdSchema } } },
    ...errorResponses(400, 401, 403, 415, 503),
  },
});
const listRouteDef = createRoute({
  tags: ['sources'],
  security: [{ apiKey: [] }],
  middleware: [requireRole('ops')] as const,
  method: 'get',
  path: '/sources',
  summary: 'The capture sources (never their secrets)',
  responses: {
    200: { description: 'every source', content: { 'application/json': { schema: z.object({ sources: z.array(sourceSchema) }) } } },
    ...errorResponses(401, 403, 503),
  },
});
const getRouteDef = createRoute({
  tags: ['sources'],
  security: [{ apiKey: [] }],
  middleware: [requireRole('ops')] as const,
  method: 'get',
  path: '/sources/{id}',
  summary: 'One capture source (never its secrets)',
  request: { params: idParam },
  responses: {
    200: { description: 'the source', content: { 'application/json': { schema: sourceSchema } } },
    ...errorResponses(400, 401, 403, 404, 503),
  },
});
const rejectionsRouteDef = createRoute({
  tags: ['sources'],
  security: [{ apiKey: [] }],
  middleware: [requireRole('ops')] as const,
  method: 'get',
  path: '/sources/{id}/rejections',
  summary: "A source's deliveries that made no lead (no usable email, not the vendor's format), newest first",
  request: { params: idParam, query: z.object({ limit: z.coerce.number().int().min(1).max(500).default(100) }) },
  responses: {
    200: {
      description: 'rejected deliveries',
      content: { 'application/json': { schema: z.object({ rejections: z.array(rejectionSchema) }) } },
    },
    ...errorResponses(400, 401, 403, 404, 503),
  },
});

const withHookPath = <T extends { id: string }>(source: T) => ({ ...source, hookPath: `/hooks/${source.id}` });
const notFound = (id: string) => new ApiError(404, 'not_found', `no source ${id}`);

export function sourceRoutes({ sql, codec, extraVendorOrigins = [] }: ApiDeps) {
  const graphPolicy = { hosts: vendorApiHosts.meta_lead_ads, extraOrigins: extraVendorOrigins };
  return new OpenAPIHono<AppEnv>()
    .openapi(createRouteDef, async (c) => {
      const body = c.req.valid('json');
      const meta = body.vendor === 'meta_lead_ads';
      const missing = [
        ...(vendorMadeSecret.includes(body.vendor) && !body.secret
          ? [{ path: 'secret', message: `is required for ${body.vendor} (the vendor's own secret)` }]
          : []),
        ...(meta && !body.accessToken ? [{ path: 'accessToken', message: 'is required for meta_lead_ads (the page access token)' }] : []),
        // The worker calls it with the page token: only Meta's own host (docs/operations/security.md "Outbound calls").
        ...(meta && body.graphApiUrl !== undefined
          ? [vendorUrlRefusal(body.graphApiUrl, graphPolicy)]
              .filter((m) => m !== undefined)
              .map((message) => ({ path: 'graphApiUrl', message }))
          : []),
        ...(!meta
          ? (['graphApiUrl', 'accessToken', 'verifyToken'] as const)
              .filter((f) => body[f] !== undefined)
              .map((path) => ({ path, message: 'is only for meta_lead_ads' }))
          : []),
      ];
      if (missing.length) throw new ApiError(400, 'validation_failed', `invalid body: ${missing.map((m) => m.path).join(', ')}`, missing);
      const secret = body.secret ?? newSecret(body.vendor);
      const verifyToken = meta ? (body.verifyToken ?? randomBytes(24).toString('base64url')) : null;
      const jotform = body.vendor === 'jotform';
      const created = await insertSource(sql, {
        id: `src_${randomBytes(10).toString('hex')}`,
        vendor: body.vendor,
        name: body.name,
        leadSource: body.leadSource,
        fieldMapping: body.fieldMapping ?? {},
        graphApiUrl: meta ? (body.graphApiUrl ?? defaultGraphApiUrl) : null,
        // Jotform's token is only compared: hashed. Signing secrets are needed in the clear: sealed.
        secret: jotform ? null : await sealSecret(codec, secret),
        tokenHash: jotform ? hashToken(secret) : null,
        accessToken: meta ? await sealSecret(codec, body.accessToken!) : null,
        verifyTokenHash: verifyToken && hashToken(verifyToken),
        createdBy: c.get('principal').role,
      });
      return c.json({ ...withHookPath(sourceView(created)), secret, verifyToken }, 201);
    })
    .openapi(listRouteDef, async (c) => c.json({ sources: (await listSources(sql)).map(withHookPath) }, 200))
    .openapi(getRouteDef, async (c) => {
      const { id } = c.req.valid('param');
      const source = await findSource(sql, id);
      if (!source) throw notFound(id);
      return c.json(withHookPath(sourceView(source)), 200);
    })
    .openapi(rejectionsRouteDef, async (c) => {
      const { id } = c.req.valid('param');
      if (!(await findSource(sql, id))) throw notFound(id);
      const rejections = await listRejections(sql, id, c.req.valid('query').limit);
      return c.json(
        { rejections: rejections.map(({ eventId, reason, receivedAt }) => ({ eventId, reason: reason ?? '', receivedAt })) },
        200,
      );
    });
}
