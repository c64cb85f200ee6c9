import { Liquid, type Template } from 'liquidjs';
import { z } from 'zod';
import { email, text } from './input';

/**
 * Email templates: marketing publishes them as data (`POST /templates`), rendered with
 * LiquidJS. The engine is sandboxed: no file system (`include`/`render`/`layout` find nothing, as
 * its only templates are an empty in-memory set), own properties only (no prototype walking),
 * unknown filters refused, and every render bounded in time and memory so a template cannot stall
 * the notifier. Variables are lenient when sending (a lead without a first name renders an empty
 * string; use `| default:`), strict when publishing: a template naming a variable that no email
 * ever has (`lead.frstName`) is refused then, naming the field.
 */

/** A template name: what a cadence step or re-engagement names as `template` (`mql-nurture/01-welcome`). */
export const templateNameSchema = z
  .string()
  .trim()
  .regex(
    /^[a-z0-9][a-z0-9._-]*(\/[a-z0-9][a-z0-9._-]*)*$/,
    'must be lower-case letters, digits, ".", "_" or "-", in "/"-separated parts (mql-nurture/01-welcome)',
  )
  .max(200);

/** `POST /templates`: the next version of the template `name`. */
export const publishTemplateSchema = z
  .strictObject({
    name: templateNameSchema.meta({ example: 'mql-nurture/01-welcome' }),
    subject: text(300).meta({ description: 'Liquid; rendered on one line', example: 'Welcome, {{ lead.firstName | default: "there" }}' }),
    text: text(50_000).meta({
      description: 'Liquid; the text/plain part',
      example: 'Hi {{ lead.firstName | default: "there" }},\n…\nUnsubscribe: {{ unsubscribeUrl }}',
    }),
    html: text(50_000).optional().meta({ description: 'Liquid; the optional text/html part (variables are HTML-escaped)' }),
  })
  .meta({ id: 'EmailTemplateInput' });
export type PublishTemplate = z.infer<typeof publishTemplateSchema>;

export interface EmailTemplate {
  name: string;
  version: number;
  subject: string;
  text: string;
  html: string | null;
  publishedAt: string;
}

/** What a template can use. Marketing email: `lead`, `unsubscribeUrl`, `step`; alerts to reps: `lead` (id only), `alert`. */
export interface TemplateVariables {
  lead: {
    id: string;
    email?: string;
    firstName?: string | null;
    lastName?: string | null;
    company?: string | null;
    title?: string | null;
    country?: string | null;
    industry?: string | null;
    source?: string;
  };
  unsubscribeUrl?: string;
  step?: Record<string, unknown>;
  alert?: { kind: string; message: string; recipient: string };
  /** An alert's one-click action links (domain/action-links.ts): open, accept, call, email. */
  links?: Record<string, string>;
}

/** Every variable filled, for the strict check at publishing and the console's preview (docs/features/console.md). */
export const sampleVariables: TemplateVariables = {
  lead: {
    id: 'lead-sample',
    email: 'jane@example.com',
    firstName: 'Jane',
    lastName: 'Doe',
    company: 'Acme',
    title: 'CTO',
    country: 'DE',
    industry: 'software',
    source: 'demo_request',
  },
  unsubscribeUrl: 'https://example.com/unsubscribe/sample',
  step: { cadence: 'mql-nurture', version: 1, step: 1, of: 10, number: 1, dueAt: '2026-01-01T00:00:00.000Z' },
  alert: { kind: 'assignment', message: 'New P1 lead lead-sample', recipient: 'rep-1' },
  links: {
    open: 'https://example.com/act/sample-open',
    accept: 'https://example.com/act/sample-accept',
    call: 'https://example.com/act/sample-call',
    email: 'https://example.com/act/sample-email',
  },
};

/** A render budget: publishing refuses a template that exceeds it on the sample, and the worker's render stops there, so no template holds the event loop for long (docs/operations/security.md "Bounded calls"). */
const limits = { parseLimit: 200_000, renderLimit: 100, memoryLimit: 10_000_000 };
const engine = (escape: boolean) =>
  new Liquid({
    templates: {},
    relativeReference: false,
    dynamicPartials: false,
    ownPropertyOnly: true,
    strictFilters: true,
    strictVariables: false,
    cache: false,
    outputEscape: escape ? 'escape' : undefined,
    ...limits,
  });
const plain = engine(false);
const html = engine(true);

type Part = 'subject' | 'text' | 'html';
const engineOf = (part: Part) => (part === 'html' ? html : plain);

/** The first line of a Liquid error, without the template echoed back. */
const reasonOf = (error: unknown) => (error instanceof Error ? error.message.split('\n')[0]!.replace(/, file:.*$/, '') : String(error));

/** What is wrong with each part of a template, by field: a Liquid syntax error, or a variable no email has. */
export function templateProblems(input: Pick<PublishTemplate, 'subject' | 'text' | 'html'>): { path: Part; message: string }[] {
  const problems: { path: Part; message: string }[] = [];
  for (const part of ['subject', 'text', 'html'] as const) {
    const source = input[part];
    if (source === undefined) continue;
    let parsed: Template[];
    try {
      parsed = engineOf(part).parse(source);
    } catch (error) {
      problems.push({ path: part, message: `is not a valid Liquid template: ${reasonOf(error)}` });
      continue;
    }
    try {
      engineOf(part).renderSync(parsed, sampleVariables, { strictVariables: true });
    } catch (error) {
      problems.push({ path: part, message: `cannot be rendered: ${reasonOf(error)}` });
    }
  }
  return problems;
}

export interface RenderedEmail {
  subject: string;
  text: string;
  html?: string;
}

/**
 * `POST /templates/test-email`: a draft (published or not) and the address its test email goes to
 * (docs/features/email-and-notifications.md "Test emails"). The name is only a label.
 */
export const testEmailSchema = publishTemplateSchema
  .extend({
    name: templateNameSchema.optional(),
    to: email().meta({
      description: 'where the test email goes; kept with the queued email only, never logged',
      example: 'jo@marketing.example',
    }),
  })
  .meta({ id: 'EmailTemplateTestEmail' });
export type TestEmail = z.infer<typeof testEmailSchema>;

/** The outbox kind of a test email: delivered by email to its own address, as rendered here. */
export const testEmailKind = 'template_test';

/** A draft's test email: rendered like the preview, on the sample lead, its subject marked as a test. */
export async function renderTestEmail(template: Pick<TestEmail, 'subject' | 'text' | 'html'>): Promise<RenderedEmail> {
  const rendered = await renderTemplate({ ...template, html: template.html ?? null }, sampleVariables);
  return { ...rendered, subject: `[Test] ${rendered.subject}` };
}

/** Renders a published template for one email. */
export async function renderTemplate(
  template: Pick<EmailTemplate, 'subject' | 'text' | 'html'>,
  variables: TemplateVariables,
): Promise<RenderedEmail> {
  const subject = (await plain.parseAndRender(template.subject, variables)).replace(/\s*[\r\n]+\s*/g, ' ').trim();
  const text = await plain.parseAndRender(template.text, variables);
  const rendered = template.html ? await html.parseAndRender(template.html, variables) : undefined;
  return { subject, text, ...(rendered !== undefined ? { html: rendered } : {}) };
}
