import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import type { Registry } from 'prom-client';
import { requireRole } from '../auth';
import type { AppEnv } from '../context';
import { errorResponses } from '../errors';

const metricsRoute = createRoute({
  method: 'get',
  path: '/metrics',
  tags: ['operations'],
  summary: 'Prometheus metrics of this API process',
  description:
    'The Prometheus text exposition: `lead_http_requests_total` and `lead_http_request_duration_seconds` by method, route pattern and ' +
    'status, `lead_api_lookups_total` by kind (lookups made to authenticate), and the process metrics (`process_*`, `nodejs_*`). ' +
    "Needs a key with role `metrics` (a scraper's key, good for nothing else) or `ops`: the API port is public, and request counts by route tell an outsider how the service is used. " +
    "Lead metrics are on the worker's port, loopback by default (docs/operations/observability.md).",
  security: [{ apiKey: [] }],
  middleware: requireRole('metrics', 'ops'),
  responses: { 200: { description: 'metrics', content: { 'text/plain': { schema: z.string() } } }, ...errorResponses(401, 403) },
});

export function metricsRoutes(registry: Registry) {
  return new OpenAPIHono<AppEnv>().openapi(
    metricsRoute,
    async (c) => c.body(await registry.metrics(), 200, { 'content-type': registry.contentType }) as never,
  );
}
