import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import type { Context } from 'hono';
import { findDelivery, recordDelivery, type StoredSource } from '../../db/sources';
import { leadPolicy } from '../../domain/config';
import { metaLeadWorkflowId, takeSubmission, type SubmissionOutcome } from '../../capture/deliveries';
import { hashToken, openSecret } from '../../capture/secrets';
import { formVendors } from '../../capture/vendors';
import { metaLeadAds } from '../../capture/vendors/meta-lead-ads';
import { sameSignature, sha256 } from '../../capture/vendors/signatures';
import { UnreadablePayload, type HookRequest, type Submission } from '../../contracts/vendors';
import type { metaLeadWorkflow } from '../../workflows/hooks/meta-lead';
import type { ApiDeps, AppEnv } from '../context';
import { ApiError, errorResponses } from '../errors';

const params = z.object({ sourceId: z.string().regex(/^src_[a-z0-9]{1,40}$/, 'must be a source id (src_...)') });

const hookAnswerSchema = z
  .object({
    results: z.array(
      z.object({
        eventId: z.string(),
        outcome: z.enum(['captured', 'rejected', 'duplicate', 'accepted']).meta({
          description:
            "captured: taken by the lead's workflow; rejected: no lead (no usable email...), listed at GET /sources/{id}/rejections; duplicate: a redelivery, nothing new recorded; accepted: a Meta lead whose fields are being fetched",
        }),
        leadId: z.string().optional(),
        reason: z.string().optional(),
      }),
    ),
  })
  .meta({ id: 'HookAnswer' });

const postHook = createRoute({
  method: 'post',
  path: '/hooks/{sourceId}',
  tags: ['sources'],
  summary: "A form tool's webhook: no API key, the vendor's signature over the raw body authenticates it",
  description:
    "The body is whatever the source's vendor sends (JSON; Jotform: multipart form data), signed as that vendor signs (docs/features/capture.md). A bad or missing signature is answered 401 and nothing is recorded. Any verified delivery is answered 200, also one that makes no lead (recorded as rejected for ops), so the vendor does not retry it forever.",
  request: { params },
  responses: {
    200: {
      description: 'verified and taken (each submission: captured, rejected or a duplicate)',
      content: { 'application/json': { schema: hookAnswerSchema } },
    },
    ...errorResponses(400, 401, 404, 413, 503),
  },
});

const getHook = createRoute({
  method: 'get',
  path: '/hooks/{sourceId}',
  tags: ['sources'],
  summary: "Meta's verification handshake: echoes hub.challenge when hub.verify_token is the source's",
  request: {
    params,
    query: z.object({
      'hub.mode': z.string().optional(),
      'hub.verify_token': z.string().optional(),
      'hub.challenge': z.string().max(200).optional(),
    }),
  },
  responses: {
    200: { description: 'the challenge', content: { 'text/plain': { schema: z.string() } } },
    ...errorResponses(400, 403, 404, 503),
  },
});

/** The URL the vendor called, as it signed it (HubSpot): behind a proxy, from X-Forwarded-Proto and -Host. */
function calledUrl(c: Context): string {
  const url = new URL(c.req.url);
  const proto = c.req.header('x-forwarded-proto')?.split(',')[0]?.trim();
  const host = c.req.header('x-forwarded-host')?.split(',')[0]?.trim();
  if (proto) url.protocol = `${proto}:`;
  if (host) url.host = host;
  return url.toString();
}

/** `lookupSource`: the source of an id (db/sources.ts `findSource`, behind app.ts's miss cache). */
export function hookRoutes(
  { sql, temporal, taskQueue, config, codec, leadIdSecret }: ApiDeps,
  lookupSource: (id: string) => Promise<StoredSource | undefined>,
) {
  const policy = leadPolicy(config);
  const deps = { sql, temporal, taskQueue, policy, leadIdSecret };

  async function source(id: string): Promise<StoredSource> {
    const found = await lookupSource(id);
    if (!found) throw new ApiError(404, 'not_found', `no source ${id}`);
    return found;
  }

  /** Meta's leads are fetched by a workflow (the Graph API may be down): one per lead, so a redelivery finds it. */
  async function startMetaLeads(found: StoredSource, request: HookRequest): Promise<SubmissionOutcome[]> {
    return Promise.all(
      metaLeadAds.leads(request).map(async ({ leadgenId }): Promise<SubmissionOutcome> => {
        const earlier = await findDelivery(sql, found.id, leadgenId);
        if (earlier) return { eventId: leadgenId, outcome: 'duplicate', ...(earlier.leadId ? { leadId: earlier.leadId } : {}) };
        try {
          await temporal.workflow.start<typeof metaLeadWorkflow>('metaLeadWorkflow', {
            workflowId: metaLeadWorkflowId(found.id, leadgenId),
            taskQueue,
            args: [{ sourceId: found.id, leadgenId }],
            workflowIdReusePolicy: 'REJECT_DUPLICATE',
          });
          return { eventId: leadgenId, outcome: 'accepted' };
        } catch (error) {
          if (error instanceof WorkflowExecutionAlreadyStartedError) return { eventId: leadgenId, outcome: 'duplicate' };
          throw error;
        }
      }),
    );
  }

  return new OpenAPIHono<AppEnv>()
    .openapi(getHook, async (c) => {
      const found = await source(c.req.valid('param').sourceId);
      const query = c.req.valid('query');
      const challenge =
        found.vendor === 'meta_lead_ads' && found.verifyTokenHash
          ? metaLeadAds.challenge(query, (token) => sameSignature(hashToken(token), found.verifyTokenHash!))
          : undefined;
      if (challenge === undefined)
        throw new ApiError(403, 'forbidden', 'not a verification request of this source (hub.mode=subscribe with its verify token)');
      return c.text(challenge, 200);
    })
    .openapi(postHook, async (c) => {
      const found = await source(c.req.valid('param').sourceId);
      const request: HookRequest = {
        method: 'POST',
        url: calledUrl(c),
        headers: c.req.header(),
        body: Buffer.from(await c.req.arrayBuffer()),
      };
      const secrets = { secret: found.secret ? await openSecret(codec, found.secret) : null, tokenHash: found.tokenHash };
      const vendor = found.vendor === 'meta_lead_ads' ? undefined : formVendors[found.vendor];
      const verdict = vendor ? vendor.verify(request, secrets, Date.now()) : metaLeadAds.verify(request, secrets);
      if (verdict) throw new ApiError(401, 'invalid_signature', verdict);
      let submissions: Submission[];
      try {
        if (!vendor) return c.json({ results: await startMetaLeads(found, request) }, 200);
        submissions = await vendor.read(request);
      } catch (error) {
        if (!(error instanceof UnreadablePayload)) throw error;
        // Signed by the vendor but not in its format: answered 2xx (a retry would not change it), shown to ops.
        const eventId = `body-${sha256(request.body).toString('hex')}`;
        await recordDelivery(sql, found.id, { eventId, outcome: 'rejected', reason: `unreadable: ${error.message}` });
        return c.json({ results: [{ eventId, outcome: 'rejected' as const, reason: error.message }] }, 200);
      }
      const results: SubmissionOutcome[] = [];
      for (const submission of submissions) results.push(await takeSubmission(deps, found, submission));
      return c.json({ results }, 200);
    });
}
