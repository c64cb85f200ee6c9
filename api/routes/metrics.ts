import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import type { Registry } from 'prom-client';
import type { AppEnv } from '../context';

const metricsRoute = createRoute({
  method: 'get',
  path: '/metrics',
  tags: ['operations'],
  summary: 'Prometheus metrics of this API process',
  description:
    'The Prometheus text exposition: `lead_http_requests_total` and `lead_http_request_duration_seconds` by method, route pattern and ' +
    'status, `lead_api_lookups_total` by kind (lookups made to authenticate), and the process metrics (`process_*`, `nodejs_*`). No key: scrapers have none, and it holds no personal data; ' +
    "keep it off the public internet at the proxy. Lead metrics are on the worker's port (docs/operations/observability.md).",
  responses: { 200: { description: 'metrics', content: { 'text/plain': { schema: z.string() } } } },
});

export function metricsRoutes(registry: Registry) {
  return new OpenAPIHono<AppEnv>().openapi(metricsRoute, async (c) => c.body(await registry.metrics(), 200, { 'content-type': registry.contentType }) as never);
}
