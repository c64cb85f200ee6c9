import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import type { Payload } from '@temporalio/common';
import type { MiddlewareHandler } from 'hono';
import { cors } from 'hono/cors';
import { createMiddleware } from 'hono/factory';
import { PayloadDecryptionError } from '../../codec/payload-codec';
import { developmentKeys, hashKey, requireRole, type AuthEnv, type Principal } from '../auth';
import type { ApiDeps, AppEnv } from '../context';
import { ApiError, errorResponses } from '../errors';

/**
 * The codec server: the Temporal Web UI's remote codec protocol, so that ops can read
 * the encrypted histories in the UI. The UI posts `{ payloads }` (metadata values and data in
 * base64) from the browser, with `X-Namespace`, and shows what comes back.
 */

const base64 = z.string().regex(/^[A-Za-z0-9+/]*={0,2}$/, 'must be base64');
const jsonPayloadSchema = z
  .object({ metadata: z.record(z.string(), base64).nullish(), data: base64.nullish() })
  .meta({ id: 'CodecPayload', description: 'a Temporal payload in proto JSON: metadata values and data in base64' });
const payloadsSchema = z.object({ payloads: z.array(jsonPayloadSchema).max(10_000) }).meta({ id: 'CodecPayloads' });
type JsonPayload = z.infer<typeof jsonPayloadSchema>;

const fromJson = ({ metadata, data }: JsonPayload): Payload => ({
  metadata: metadata ? Object.fromEntries(Object.entries(metadata).map(([k, v]) => [k, Buffer.from(v, 'base64')])) : undefined,
  data: data ? Buffer.from(data, 'base64') : undefined,
});
const toJson = ({ metadata, data }: Payload): JsonPayload => ({
  metadata: metadata ? Object.fromEntries(Object.entries(metadata).map(([k, v]) => [k, Buffer.from(v).toString('base64')])) : undefined,
  data: data ? Buffer.from(data).toString('base64') : undefined,
});

const codecRoute = (direction: 'encode' | 'decode') =>
  createRoute({
    method: 'post',
    path: `/codec/${direction}`,
    tags: ['operations'],
    summary:
      direction === 'decode'
        ? 'Decrypt payloads (the Temporal Web UI and CLI call it)'
        : 'Encrypt payloads (the Temporal Web UI calls it to send signals)',
    security: [{ apiKey: [] }],
    request: { body: { required: true, content: { 'application/json': { schema: payloadsSchema } } } },
    responses: {
      200: { description: `the payloads ${direction}d, in the same order`, content: { 'application/json': { schema: payloadsSchema } } },
      ...errorResponses(400, 401, 403, 413, 415),
    },
  });

/** Browsers send these on the codec calls: the UI's namespace, and its access token when it is set to pass it. */
const codecHeaders = ['Content-Type', 'X-Namespace', 'Authorization'];

/**
 * CORS for the Temporal UI's origin (the browser calls the codec from the UI's page), then who may
 * call: an ops key (`Authorization: Bearer <key>`: the CLI's `--codec-auth`, a proxy in front of
 * the UI). Without a key only while the API accepts the published development keys: then anyone
 * who reaches the API could decode with `ops-dev` anyway, and the dev server's UI has no login to
 * send a key with (docs/features/privacy.md).
 */
export function codecGuard(uiUrl: string, apiKeys: Map<string, Principal>, authenticated: MiddlewareHandler<AuthEnv>): MiddlewareHandler[] {
  const devOpsKey = Object.entries(developmentKeys).find(([, principal]) => principal.role === 'ops')?.[0];
  const openToUi = devOpsKey !== undefined && apiKeys.get(hashKey(devOpsKey))?.role === 'ops';
  const ops = requireRole('ops');
  return [
    cors({ origin: new URL(uiUrl).origin, allowMethods: ['POST', 'OPTIONS'], allowHeaders: codecHeaders, maxAge: 600 }),
    createMiddleware<AuthEnv>(async (c, next) => {
      if (openToUi && !c.req.header('authorization')) return next();
      await authenticated(c, async () => {
        await ops(c, next);
      });
    }),
  ];
}

export function codecRoutes({ codec, namespace }: ApiDeps) {
  const run = (direction: 'encode' | 'decode') => async (payloads: JsonPayload[], requestNamespace: string | undefined) => {
    // One namespace, one key set: a UI pointed at another namespace gets a clear answer, not garbage.
    if (requestNamespace && requestNamespace !== namespace) {
      throw new ApiError(400, 'wrong_namespace', `this codec serves namespace ${namespace}, not ${requestNamespace}`);
    }
    try {
      return { payloads: (await codec[direction](payloads.map(fromJson))).map(toJson) };
    } catch (error) {
      if (error instanceof PayloadDecryptionError) throw new ApiError(400, 'undecodable_payload', error.message);
      throw error;
    }
  };
  const encode = run('encode');
  const decode = run('decode');
  return new OpenAPIHono<AppEnv>()
    .openapi(codecRoute('encode'), async (c) => c.json(await encode(c.req.valid('json').payloads, c.req.header('x-namespace')), 200))
    .openapi(codecRoute('decode'), async (c) => c.json(await decode(c.req.valid('json').payloads, c.req.header('x-namespace')), 200));
}
