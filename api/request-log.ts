import { context, SpanKind, SpanStatusCode, trace, type Tracer } from '@opentelemetry/api';
import { ATTR_HTTP_REQUEST_METHOD, ATTR_HTTP_RESPONSE_STATUS_CODE, ATTR_HTTP_ROUTE } from '@opentelemetry/semantic-conventions';
import { prometheus } from '@hono/prometheus';
import { createMiddleware } from 'hono/factory';
import { requestId } from 'hono/request-id';
import { collectDefaultMetrics, Counter, Registry } from 'prom-client';
import type { Logger } from '../observability/logger';
import { ATTR_LEAD_ID } from '../observability/tracing';
import type { AppEnv } from './context';
import { leadIdPattern } from './lead-view';

/** Probes and scrapes come every few seconds: logged at debug, not to drown the requests people make. */
const quietRoutes = new Set(['/healthz', '/readyz', '/metrics']);

/**
 * Every request gets an id (the caller's `X-Request-Id` if it sent a sane one, else a UUID), echoed
 * in the response's `X-Request-Id` and on every log line about it through `c.var.log`, then one line
 * when it is answered: method, route pattern, status, duration, and the lead id when the path names
 * one. Never the raw path or query (a mistyped path may hold an email address) nor a body.
 */
export function requestLogging(log: Logger) {
  const logRequest = createMiddleware<AppEnv>(async (c, next) => {
    const started = performance.now();
    const requestLog = log.child({ requestId: c.get('requestId') });
    c.set('log', requestLog);
    await next();
    const route = c.req.routePath;
    const id = c.req.param('id');
    const fields = {
      method: c.req.method,
      route,
      status: c.res.status,
      ms: Math.round((performance.now() - started) * 10) / 10,
      ...(id && leadIdPattern.test(id) ? { leadId: id } : {}),
    };
    if (quietRoutes.has(route)) requestLog.debug(fields, 'request');
    else requestLog.info(fields, 'request');
  });
  return [requestId(), logRequest] as const;
}

/**
 * A server span per request (docs/operations/observability.md "Traces"), named by method and route
 * pattern (`POST /leads`, `GET /leads/:id`), never the raw path; the lead id when the path names
 * one. What the request causes (the Temporal client's calls, statements, log lines) is its child. A
 * caller's `traceparent` is not taken: the API is where a lead's trace begins.
 */
export function requestSpans(tracer: Tracer) {
  return createMiddleware<AppEnv>(async (c, next) => {
    const method = c.req.method;
    const span = tracer.startSpan(method, { kind: SpanKind.SERVER, attributes: { [ATTR_HTTP_REQUEST_METHOD]: method } });
    try {
      await context.with(trace.setSpan(context.active(), span), next);
    } finally {
      // After next(): the pattern of the route that answered (as the request line's `route`).
      const route = c.req.routePath;
      const id = c.req.param('id');
      span.updateName(`${method} ${route}`);
      span.setAttributes({
        [ATTR_HTTP_ROUTE]: route,
        [ATTR_HTTP_RESPONSE_STATUS_CODE]: c.res.status,
        ...(id && leadIdPattern.test(id) ? { [ATTR_LEAD_ID]: id } : {}),
      });
      if (c.res.status >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
      span.end();
    }
  });
}

/**
 * HTTP metrics of the API (`@hono/prometheus`): `lead_http_requests_total` and
 * `lead_http_request_duration_seconds` by method, route pattern (never the raw path, whose ids
 * would make a series per lead) and status, plus the process's own (`process_*`, `nodejs_*`).
 * `lead_api_lookups_total` by `kind` (`source`, `api_key`) counts the Postgres lookups made to
 * authenticate a request, unknown ones being remembered (api/miss-cache.ts): a flood shows as
 * requests, not lookups. A registry per app, so that several apps in one process (the tests) do not collide.
 */
export function httpMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const { registerMetrics } = prometheus({ registry, prefix: 'lead_' });
  const lookups = new Counter({
    name: 'lead_api_lookups_total',
    help: 'Postgres lookups made to authenticate a request: hook sources (kind="source") and rep keys (kind="api_key"); unknown ones are remembered for unauthenticated.missCache.ttl',
    labelNames: ['kind'] as const,
    registers: [registry],
  });
  return { registry, registerMetrics, lookups };
}
