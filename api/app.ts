import { OpenAPIHono } from '@hono/zod-openapi';
import { bodyLimit } from 'hono/body-limit';
import { createMiddleware } from 'hono/factory';
import { secureHeaders } from 'hono/secure-headers';
import { authenticate, bearerKeyHash, type Principal } from './auth';
import type { Sql } from '../db/client';
import { repIdByKeyHash } from '../db/people';
import { findSource } from '../db/sources';
import { durationMs } from '../domain/duration';
import { MissCache, withMissCache } from './miss-cache';
import type { ApiDeps, AppEnv } from './context';
import { ApiError, onError, validationFailed } from './errors';
import { healthRoutes } from './routes/health';
import { idempotency } from './idempotency';
import { actionRoutes } from './routes/actions';
import { engagementRoutes } from './routes/engagement';
import { peopleRoutes } from './routes/people';
import { routingRoutes } from './routes/routing';
import { leadRoutes } from './routes/leads';
import { cadenceRoutes } from './routes/cadences';
import { scoringModelRoutes } from './routes/scoring-models/index';
import { captureRateLimit, unauthenticatedRateLimits } from './rate-limit';
import { docsRoutes } from './routes/docs';
import { notificationRoutes } from './routes/notifications';
import { codecGuard, codecRoutes } from './routes/codec';
import { privacyRoutes } from './routes/privacy';
import { reportRoutes } from './routes/reports';
import { dashboardRoutes } from './routes/dashboard';
import { inboxRoutes } from './routes/inbox';
import { consoleRoutes } from './console';
import { sourceRoutes } from './routes/sources';
import { crmConnectionRoutes } from './routes/crm-connections';
import { hookRoutes } from './routes/hooks';
import { templateRoutes } from './routes/templates';
import { consentConfirmationRoutes, unsubscribeRoutes } from './routes/unsubscribe';
import { actionLinkRoutes } from './routes/action-links';
import { slackRoutes } from './routes/slack';
import { metricsRoutes } from './routes/metrics';
import { httpMetrics, requestLogging, requestSpans } from './request-log';
import { createLogger } from '../observability/logger';

export const maxBodyBytes = 64 * 1024;
/** The Web UI sends every payload of a history page at once; Temporal's own limit is 2 MB a payload. */
const maxCodecBodyBytes = 8 * 1024 * 1024;

/** POST/PATCH/DELETE bodies must be JSON: anything else is a 415 naming what was sent. */
const requireJson = createMiddleware(async (c, next) => {
  if (['POST', 'PATCH', 'PUT', 'DELETE'].includes(c.req.method)) {
    const type = c.req.header('content-type') ?? '';
    if (!/^application\/([\w.-]+\+)?json\b/i.test(type)) {
      throw new ApiError(415, 'unsupported_media_type', `send the body as application/json (got ${type || 'no Content-Type'})`);
    }
  }
  await next();
});

/** A rep's key, created by `POST /reps` and stored hashed. */
async function repKey(sql: Sql, hash: string): Promise<Principal | undefined> {
  const repId = await repIdByKeyHash(sql, hash);
  return repId ? { role: 'rep', repId } : undefined;
}

/** The HTTP API: small route modules composed here, validated at the edge by the zod schemas the OpenAPI document is generated from. */
/**
 * Security headers on every answer (docs/operations/security.md): the dashboard keeps an ops key in
 * sessionStorage, so no page loads anything but the app's own files (no inline script), none may be
 * framed, and no answer is sniffed into another type. Inline styles stay allowed: the pages and
 * Swagger UI set style attributes, and a style cannot read the key.
 */
const pageSecurityHeaders = secureHeaders({
  contentSecurityPolicy: {
    defaultSrc: ["'self'"],
    scriptSrc: ["'self'"],
    styleSrc: ["'self'", "'unsafe-inline'"],
    imgSrc: ["'self'", 'data:'],
    connectSrc: ["'self'"],
    objectSrc: ["'none'"],
    baseUri: ["'none'"],
    formAction: ["'self'"],
    frameAncestors: ["'none'"],
  },
  xFrameOptions: 'DENY',
});

export function createApp(deps: ApiDeps, apiKeys: Map<string, Principal>) {
  const app = new OpenAPIHono<AppEnv>({
    defaultHook: (result) => {
      if (!result.success) throw validationFailed(result.error, result.target === 'json' ? 'body' : result.target);
    },
  });
  app.onError(onError);
  app.notFound((c) => c.json({ error: { code: 'not_found', message: `no route for ${c.req.method} ${c.req.path}` } }, 404));

  // First, so that every answer (errors included) is logged with its request id and measured.
  const metrics = httpMetrics();
  // Outermost when tracing is on: what the request causes (its log lines too) is inside its span.
  if (deps.tracer) app.use('*', requestSpans(deps.tracer));
  app.use('*', ...requestLogging(deps.log ?? createLogger({ name: 'api', level: 'warn', format: 'json' })), metrics.registerMetrics);
  app.use('*', pageSecurityHeaders);
  app.route('/', healthRoutes(deps));
  app.doc31('/openapi.json', {
    openapi: '3.1.0',
    info: {
      title: 'Lead orchestration API',
      version: '0.1.0',
      description: 'Every lead is one long-lived Temporal workflow. Auth: `Authorization: Bearer <api key>`.',
    },
  });
  app.openAPIRegistry.registerComponent('securitySchemes', 'apiKey', { type: 'http', scheme: 'bearer' });
  app.route('/', docsRoutes());
  app.route('/', dashboardRoutes());

  const tooLarge = (maxSize: number) => () => {
    throw new ApiError(413, 'payload_too_large', `the body is over ${maxSize / 1024} KiB`);
  };
  // docs/operations/security.md "Floods": unknown keys and source ids are remembered as such, and
  // requests that fail authentication are limited per address and per source before any lookup.
  const { unauthenticated } = deps.config;
  const misses = () => new MissCache(durationMs(unauthenticated.missCache.ttl), unauthenticated.missCache.maxEntries);
  const repKeyMisses = misses();
  const lookupRepKey = withMissCache(
    (hash) => repKey(deps.sql, hash),
    repKeyMisses,
    () => metrics.lookups.inc({ kind: 'api_key' }),
  );
  const lookupSource = withMissCache(
    (id) => findSource(deps.sql, id),
    misses(),
    () => metrics.lookups.inc({ kind: 'source' }),
  );
  const limits = unauthenticatedRateLimits(unauthenticated, {
    configuredKey: (c) => apiKeys.has(bearerKeyHash(c.req.header('authorization'))),
  });
  const auth = authenticate(apiKeys, lookupRepKey);
  // The API's port is public: its metrics need a scraper's key (role metrics) or an ops key.
  app.use('/metrics', limits.keysPerAddress, auth);
  app.route('/', metricsRoutes(metrics.registry));
  // '/leads/*' also matches '/leads' itself.
  const rateLimit = captureRateLimit(deps.config.capture.rateLimit);
  for (const path of [
    '/leads/*',
    '/reps/*',
    '/teams/*',
    '/accounts/*',
    '/cadences/*',
    '/notifications/*',
    '/erasures/*',
    '/scoring-models/*',
    '/sources/*',
    '/crm-connections/*',
    '/templates/*',
    '/reports/*',
    '/routing/*',
  ]) {
    app.use(
      path,
      bodyLimit({ maxSize: maxBodyBytes, onError: tooLarge(maxBodyBytes) }),
      requireJson,
      limits.keysPerAddress,
      auth,
      rateLimit,
      idempotency(deps.sql, deps.config.idempotency),
    );
  }
  app.use(
    '/codec/*',
    ...codecGuard(deps.temporalUiUrl, apiKeys, auth),
    bodyLimit({ maxSize: maxCodecBodyBytes, onError: tooLarge(maxCodecBodyBytes) }),
    requireJson,
  );
  // Form tools' webhooks: no API key (the vendor's signature authenticates), any content type.
  // The limits first: a flood is answered 429 before its body is read.
  app.use('/hooks/*', limits.hooksPerAddress, limits.hooksPerSource, bodyLimit({ maxSize: maxBodyBytes, onError: tooLarge(maxBodyBytes) }));
  // Mail clients post RFC 8058's form body without any key: no JSON-only rule, no API key here.
  app.use('/unsubscribe/*', bodyLimit({ maxSize: 4 * 1024, onError: tooLarge(4 * 1024) }));
  app.route('/', unsubscribeRoutes(deps));
  // The confirmation link's button: no key either, and no body is read.
  app.use('/consent/*', bodyLimit({ maxSize: 4 * 1024, onError: tooLarge(4 * 1024) }));
  app.route('/', consentConfirmationRoutes(deps));
  // Action links in rep alerts: the signed token is the credential, the buttons post small form bodies.
  app.use('/act/*', bodyLimit({ maxSize: 8 * 1024, onError: tooLarge(8 * 1024) }));
  app.route('/', actionLinkRoutes(deps));
  // Slack's interactivity requests: Slack's signature is the credential (checked over the raw body), the body is a form.
  // Bad signatures count against the address with the hooks' (docs/operations/security.md "Floods").
  app.use('/slack/*', limits.hooksPerAddress, bodyLimit({ maxSize: maxBodyBytes, onError: tooLarge(maxBodyBytes) }));
  app.route('/', slackRoutes(deps));
  // The rep inbox: its own session cookie, small form bodies; a wrong key at sign-in counts as a
  // failed authentication (401), limited per address as the API's keys are.
  app.use('/inbox/*', bodyLimit({ maxSize: 8 * 1024, onError: tooLarge(8 * 1024) }));
  app.use('/inbox/sign-in', limits.keysPerAddress);
  const repOfKey = async (keyHash: string) => {
    const principal = apiKeys.get(keyHash) ?? (await lookupRepKey(keyHash));
    return principal?.role === 'rep' ? principal.repId : undefined;
  };
  app.route('/', inboxRoutes(deps, { repOfKey }));
  // The console (docs/features/console.md): its own session cookie, form bodies (a template's text
  // is up to 50 000 characters), a wrong key at sign-in limited per address as the inbox's. Its
  // pages call the API through `app.fetch`, so every write passes the API's own middleware.
  app.use('/console/*', bodyLimit({ maxSize: maxBodyBytes * 2, onError: tooLarge(maxBodyBytes * 2) }));
  app.use('/console/sign-in', limits.keysPerAddress);
  app.route(
    '/',
    consoleRoutes(deps, { appFetch: (request, env) => app.fetch(request, env), roleOfKey: (keyHash) => apiKeys.get(keyHash)?.role }),
  );
  app.route('/', templateRoutes(deps));
  app.route('/', codecRoutes(deps));
  app.route('/', leadRoutes(deps));
  app.route('/', privacyRoutes(deps));
  app.route('/', engagementRoutes(deps));
  app.route('/', actionRoutes(deps));
  app.route('/', peopleRoutes(deps, { repKeysChanged: () => repKeyMisses.clear() }));
  app.route('/', routingRoutes(deps));
  app.route('/', cadenceRoutes(deps));
  app.route('/', scoringModelRoutes(deps));
  app.route('/', notificationRoutes(deps));
  app.route('/', reportRoutes(deps));
  app.route('/', sourceRoutes(deps));
  app.route('/', crmConnectionRoutes(deps));
  app.route('/', hookRoutes(deps, lookupSource));
  return app;
}
