import { randomUUID } from 'node:crypto';
import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import { enqueueTestEmail } from '../../db/outbox';
import { templateStore } from '../../db/templates';
import {
  publishTemplateSchema,
  renderTestEmail,
  templateNameSchema,
  templateProblems,
  testEmailKind,
  testEmailSchema,
} from '../../domain/email-template';
import { requireRole } from '../auth';
import type { ApiDeps, AppEnv } from '../context';
import { ApiError, errorResponses } from '../errors';
import { testEmailRateLimit } from '../rate-limit';

const templateVersionSchema = z
  .object({
    name: z.string(),
    version: z.number().int(),
    subject: z.string(),
    text: z.string(),
    html: z.string().nullable(),
    publishedAt: z.string(),
  })
  .meta({ id: 'EmailTemplate' });
const templateSummarySchema = templateVersionSchema
  .extend({ versions: z.number().int().meta({ description: 'how many versions are published' }) })
  .meta({ id: 'EmailTemplateSummary', description: 'the newest version of a template' });
const testEmailQueuedSchema = z
  .object({
    queued: z.literal(true),
    subject: z.string().meta({ description: 'the subject as rendered on the sample lead, "[Test] " before it' }),
  })
  .meta({ id: 'EmailTemplateTestEmailQueued' });
const publishedSchema = z
  .object({ name: z.string(), version: z.number().int(), publishedAt: z.string() })
  .meta({ id: 'EmailTemplatePublished' });

const listQuery = z.object({
  name: templateNameSchema
    .optional()
    .meta({ description: 'every version of this template, oldest first', param: { name: 'name', in: 'query' } }),
});

const readers = requireRole('marketing', 'ops');
const json = <T extends z.ZodType>(schema: T) => ({ content: { 'application/json': { schema } } });

/**
 * Email templates: marketing publishes immutable versions of a named template (Liquid
 * subject, text and optional HTML); an email is rendered from the newest version when it is sent.
 */
export function templateRoutes(deps: ApiDeps) {
  const store = templateStore(deps.sql);
  const invalid = (problems: { path: string; message: string }[]) =>
    new ApiError(400, 'validation_failed', `invalid body: ${problems.map((p) => p.path).join(', ')}`, problems);
  return new OpenAPIHono<AppEnv>()
    .openapi(
      createRoute({
        method: 'get',
        path: '/templates',
        tags: ['templates'],
        summary: 'Every email template at its newest version, or every version of one (?name=)',
        security: [{ apiKey: [] }],
        middleware: readers,
        request: { query: listQuery },
        responses: {
          200: { description: 'templates', ...json(z.object({ templates: z.array(templateSummarySchema.or(templateVersionSchema)) })) },
          ...errorResponses(400, 401, 403, 404),
        },
      }),
      async (c) => {
        const { name } = c.req.valid('query');
        if (!name) return c.json({ templates: await store.list() }, 200);
        const versions = await store.versions(name);
        if (!versions.length) throw new ApiError(404, 'not_found', `no email template named ${name}`);
        return c.json({ templates: versions }, 200);
      },
    )
    .openapi(
      createRoute({
        method: 'post',
        path: '/templates',
        tags: ['templates'],
        summary: 'Publish the next version of an email template (published versions never change)',
        security: [{ apiKey: [] }],
        middleware: requireRole('marketing'),
        request: { body: { required: true, ...json(publishTemplateSchema) } },
        responses: {
          201: { description: 'the version published', ...json(publishedSchema) },
          ...errorResponses(400, 401, 403, 409, 413, 415, 422),
        },
      }),
      async (c) => {
        const input = c.req.valid('json');
        const problems = templateProblems(input);
        if (problems.length) throw invalid(problems);
        const published = await store.publish(input, c.get('principal').role);
        return c.json({ name: published.name, version: published.version, publishedAt: published.publishedAt }, 201);
      },
    )
    .openapi(
      createRoute({
        method: 'post',
        path: '/templates/test-email',
        tags: ['templates'],
        summary: 'Send a test email of a draft template, rendered on the sample lead the preview uses, to one address',
        description:
          'Checked as publishing checks it, rendered on the sample lead, its subject marked "[Test]", and queued for the notifier ' +
          '(docs/features/email-and-notifications.md "Test emails"). Nothing is published. Limited per API key (`notify.testEmails`).',
        security: [{ apiKey: [] }],
        middleware: [readers, testEmailRateLimit(deps.config.notify.testEmails)] as const,
        request: { body: { required: true, ...json(testEmailSchema) } },
        responses: {
          202: { description: 'queued for delivery', ...json(testEmailQueuedSchema) },
          ...errorResponses(400, 401, 403, 413, 415, 422, 429),
        },
      }),
      async (c) => {
        const { to, name, ...template } = c.req.valid('json');
        const problems = templateProblems(template);
        if (problems.length) throw invalid(problems);
        const email = await renderTestEmail(template);
        const sender = c.get('principal').role;
        await enqueueTestEmail(deps.sql, {
          key: `${testEmailKind}:${randomUUID()}`,
          sender,
          label: `Test email${name ? ` of ${name}` : ''}`,
          to,
          email,
        });
        return c.json({ queued: true as const, subject: email.subject }, 202);
      },
    );
}
