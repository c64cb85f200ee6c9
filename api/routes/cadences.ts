import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import { cadenceStore } from '../../db/cadences';
import { cadenceMigrations } from '../../domain/cadence';
import { cadenceNameSchema, cadenceStepSchema, publishCadenceSchema } from '../../domain/cadence-bodies';
import { requireRole } from '../auth';
import type { ApiDeps, AppEnv } from '../context';
import { ApiError, errorResponses } from '../errors';

/** A cadence name in a path, such as mql-nurture. */
const cadenceNameParam = z.object({
  name: cadenceNameSchema.meta({ param: { name: 'name', in: 'path' }, example: 'mql-nurture' }),
});

const cadenceVersionSchema = z
  .object({
    name: z.string(),
    version: z.number().int(),
    steps: z.array(cadenceStepSchema),
    migrate: z.enum(cadenceMigrations),
    publishedAt: z.string(),
  })
  .meta({ id: 'CadenceVersion' });
const cadenceSummarySchema = cadenceVersionSchema
  .extend({ versions: z.number().int().meta({ description: 'how many versions are published' }) })
  .meta({ id: 'CadenceSummary', description: 'the newest version of a cadence' });
const cadenceHistorySchema = z
  .object({
    name: z.string(),
    versions: z
      .array(cadenceVersionSchema.extend({ enrolledLeads: z.number().int().meta({ description: 'leads enrolled on this version now' }) }))
      .meta({ description: 'oldest first' }),
  })
  .meta({ id: 'CadenceHistory' });
const publishedSchema = z.object({ name: z.string(), version: z.number().int(), publishedAt: z.string() }).meta({ id: 'CadencePublished' });

const readers = requireRole('marketing', 'ops');
const marketingOnly = requireRole('marketing');
const json = <T extends z.ZodType>(schema: T) => ({ content: { 'application/json': { schema } } });

/** Nurture cadences (docs/api.md, "Cadences"): marketing publishes immutable versions; ops reads them. */
export function cadenceRoutes(deps: ApiDeps) {
  const store = cadenceStore(deps.sql, deps.config.cadences);
  return new OpenAPIHono<AppEnv>()
    .openapi(
      createRoute({
        method: 'get',
        path: '/cadences',
        tags: ['cadences'],
        summary: 'Every cadence at its newest version',
        security: [{ apiKey: [] }],
        middleware: readers,
        responses: {
          200: { description: 'cadences', ...json(z.object({ cadences: z.array(cadenceSummarySchema) })) },
          ...errorResponses(401, 403),
        },
      }),
      async (c) => c.json({ cadences: await store.list() }, 200),
    )
    .openapi(
      createRoute({
        method: 'get',
        path: '/cadences/{name}',
        tags: ['cadences'],
        summary: 'Every published version of a cadence, oldest first, with the leads enrolled on each',
        security: [{ apiKey: [] }],
        middleware: readers,
        request: { params: cadenceNameParam },
        responses: { 200: { description: 'the versions', ...json(cadenceHistorySchema) }, ...errorResponses(400, 401, 403, 404) },
      }),
      async (c) => {
        const { name } = c.req.valid('param');
        const [versions, enrolled] = await Promise.all([store.versions(name), store.enrolledByVersion(name)]);
        if (!versions.length) throw new ApiError(404, 'not_found', `no cadence named ${name}`);
        return c.json({ name, versions: versions.map((v) => ({ ...v, enrolledLeads: enrolled.get(v.version) ?? 0 })) }, 200);
      },
    )
    .openapi(
      createRoute({
        method: 'post',
        path: '/cadences/{name}/versions',
        tags: ['cadences'],
        summary: 'Publish the next version of a cadence (published versions never change)',
        security: [{ apiKey: [] }],
        middleware: marketingOnly,
        request: { params: cadenceNameParam, body: { required: true, ...json(publishCadenceSchema) } },
        responses: {
          201: { description: 'the version published', ...json(publishedSchema) },
          ...errorResponses(400, 401, 403, 409, 413, 415, 422),
        },
      }),
      async (c) => {
        const { name } = c.req.valid('param');
        const input = c.req.valid('json');
        const published = await store.publish(name, input, c.get('principal').role);
        return c.json({ name: published.name, version: published.version, publishedAt: published.publishedAt }, 201);
      },
    );
}
