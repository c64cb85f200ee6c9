import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import { ping } from '../../db/client';
import { check } from '../../observability/check';
import type { ApiDeps, AppEnv } from '../context';

const healthSchema = z.object({ status: z.enum(['ok', 'unavailable']), checks: z.record(z.string(), z.string()).optional() });

const healthzRoute = createRoute({
  method: 'get',
  path: '/healthz',
  tags: ['operations'],
  summary: 'The process is up',
  responses: { 200: { description: 'up', content: { 'application/json': { schema: healthSchema } } } },
});

const readyzRoute = createRoute({
  method: 'get',
  path: '/readyz',
  tags: ['operations'],
  summary: 'Postgres and Temporal are reachable',
  responses: {
    200: { description: 'ready', content: { 'application/json': { schema: healthSchema } } },
    503: { description: 'a dependency is unreachable', content: { 'application/json': { schema: healthSchema } } },
  },
});

export function healthRoutes({ sql, temporal }: ApiDeps) {
  return new OpenAPIHono<AppEnv>()
    .openapi(healthzRoute, (c) => c.json({ status: 'ok' as const }, 200))
    .openapi(readyzRoute, async (c) => {
      const [postgres, temporalCheck] = await Promise.all([
        check(() => ping(sql)),
        check(() => temporal.workflowService.getSystemInfo({})),
      ]);
      const checks = { postgres, temporal: temporalCheck };
      const ready = postgres === 'ok' && temporalCheck === 'ok';
      return ready ? c.json({ status: 'ok' as const, checks }, 200) : c.json({ status: 'unavailable' as const, checks }, 503);
    });
}
