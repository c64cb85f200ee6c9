import { Hono, type Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { renderTemplate, sampleVariables, templateProblems, type RenderedEmail } from '../../domain/email-template';
import { refusalOf, type ApiCall, type ApiRefusal } from './api-client';
import { FormTokens, Field, one, Refused, render, Table, untrimmed, type ConsoleEnv, type FormFields } from './ui';
import type { EmailTemplate } from '../../domain/email-template';

/** A version as `GET /templates` answers it (with the count of versions) or `GET /templates/{name}` does. */
type Template = EmailTemplate & { versions?: number };

/**
 * The preview: the template rendered by the notifier's own engine and checks (domain/email-template.ts)
 * on the sample lead publishing checks against. The templates API has no preview of its own, and a
 * preview writes nothing, so the console renders it here rather than through the API.
 */
async function preview(form: FormFields): Promise<{ email?: RenderedEmail; problems: { path: string; message: string }[] }> {
  const template = { subject: one(form, 'subject') ?? '', text: untrimmed(form, 'text') ?? '', html: untrimmed(form, 'html') ?? null };
  const problems = templateProblems({ ...template, html: template.html ?? undefined });
  if (problems.length) return { problems };
  return { email: await renderTemplate(template, sampleVariables), problems };
}

const Preview = ({ email, problems }: Awaited<ReturnType<typeof preview>>) => (
  <section id="preview" aria-label="preview" style="border:1px solid #ccc;padding:.5rem 1rem;margin:1rem 0">
    <h2>
      Preview (sample lead: {sampleVariables.lead.firstName} {sampleVariables.lead.lastName}, {sampleVariables.lead.company})
    </h2>
    {problems.length ? (
      <ul role="alert">
        {problems.map((p) => (
          <li data-field={p.path}>
            <code>{p.path}</code> {p.message}
          </li>
        ))}
      </ul>
    ) : email ? (
      <>
        <p>
          Subject: <strong id="preview-subject">{email.subject}</strong>
        </p>
        <pre id="preview-text" style="white-space:pre-wrap;background:#f6f6f6;padding:.5rem">
          {email.text}
        </pre>
        {/* The HTML part in a sandbox: no script, no form, no navigation; the page's CSP still holds. */}
        {email.html ? (
          <iframe
            id="preview-html"
            title="HTML part"
            sandbox=""
            srcdoc={email.html}
            style="width:100%;height:16rem;border:1px solid #ddd"
          />
        ) : null}
      </>
    ) : null}
  </section>
);

/** The editor's template as the templates API takes it (`POST /templates`, `/templates/test-email`): an empty HTML part is none. */
function draftOf(form: FormFields) {
  const html = untrimmed(form, 'html');
  return { name: one(form, 'name') ?? '', subject: one(form, 'subject') ?? '', text: untrimmed(form, 'text') ?? '', ...(html && { html }) };
}

/** Email templates (marketing): the newest versions, and an editor with a live preview that publishes the next version. */
export function templatePages(api: (c: Context<ConsoleEnv>) => ApiCall) {
  const editor = async (c: Context<ConsoleEnv>, form: FormFields, { refusal, note }: { refusal?: ApiRefusal; note?: unknown } = {}) =>
    render(
      c,
      one(form, 'name') ? `Template ${one(form, 'name')}` : 'New template',
      <>
        {note}
        <p>
          <a href="/console/templates">All templates</a>
        </p>
        <form method="post" action="/console/templates" id="template-form" data-live-preview="/console/templates/preview">
          <Refused refusal={refusal} />
          <FormTokens token={c.get('csrf')} />
          <Field label="Name" name="name" refusal={refusal}>
            <input name="name" value={one(form, 'name') ?? ''} required placeholder="mql-nurture/01-welcome" size={40} />
          </Field>
          <Field label="Subject (Liquid)" name="subject" refusal={refusal}>
            <input name="subject" value={one(form, 'subject') ?? ''} required size={60} />
          </Field>
          <Field label="Text part (Liquid)" name="text" refusal={refusal}>
            <textarea name="text" rows={10} cols={80} required>
              {untrimmed(form, 'text') ?? ''}
            </textarea>
          </Field>
          <Field label="HTML part (Liquid, optional)" name="html" refusal={refusal}>
            <textarea name="html" rows={6} cols={80}>
              {untrimmed(form, 'html') ?? ''}
            </textarea>
          </Field>
          <button type="submit" formaction="/console/templates/preview">
            Preview
          </button>{' '}
          <button type="submit">Publish as the next version</button>
          <fieldset style="margin-top:1rem">
            <legend>Test email</legend>
            <Field label="Send to" name="to" refusal={refusal}>
              <input name="to" type="email" value={one(form, 'to') ?? ''} size={40} placeholder="you@example.com" autocomplete="email" />
            </Field>
            <button type="submit" formaction="/console/templates/test-email">
              Send a test email
            </button>
          </fieldset>
        </form>
        <Preview {...await preview(form)} />
      </>,
      refusal ? (refusal.status as ContentfulStatusCode) : 200,
    );
  const newest = async (c: Context<ConsoleEnv>, name: string) => {
    const answer = await api(c)('GET', `/templates?name=${encodeURIComponent(name)}`);
    return answer.status === 200 ? ((answer.body.templates as Template[]).at(-1) as Template) : undefined;
  };
  const formOf = (t: Template): FormFields => ({ name: t.name, subject: t.subject, text: t.text, html: t.html ?? '' });

  return (
    new Hono<ConsoleEnv>()
      .get('/console/templates', async (c) => {
        const { body } = await api(c)('GET', '/templates');
        return render(
          c,
          'Email templates',
          <>
            <p>
              <a href="/console/templates/edit">New template</a>
            </p>
            <Table id="templates" head={['Name', 'Newest version', 'Published', 'Subject']}>
              {(body.templates as Template[]).map((t) => (
                <tr data-template={t.name}>
                  <td>
                    <a href={`/console/templates/edit?name=${encodeURIComponent(t.name)}`}>{t.name}</a>
                  </td>
                  <td>{t.version}</td>
                  <td>{t.publishedAt}</td>
                  <td>{t.subject}</td>
                </tr>
              ))}
            </Table>
          </>,
        );
      })
      .get('/console/templates/edit', async (c) => {
        const name = c.req.query('name');
        const template = name ? await newest(c, name) : undefined;
        return editor(c, template ? formOf(template) : {}, template ? { note: <p>Editing version {template.version}.</p> } : {});
      })
      .post('/console/templates/preview', async (c) => editor(c, (await c.req.parseBody({ all: true })) as FormFields))
      // The draft as it stands, rendered on the sample lead and sent to one address; nothing is published.
      .post('/console/templates/test-email', async (c) => {
        const form = (await c.req.parseBody({ all: true })) as FormFields;
        const { name, ...draft } = draftOf(form);
        const answer = await api(c)('POST', '/templates/test-email', { ...(name && { name }), ...draft, to: one(form, 'to') ?? '' });
        if (answer.status !== 202) return editor(c, form, { refusal: refusalOf(answer) });
        return editor(c, form, {
          note: (
            <p role="status" id="test-email-queued">
              Test email "{answer.body.subject}" queued to {one(form, 'to')}.
            </p>
          ),
        });
      })
      .post('/console/templates', async (c) => {
        const form = (await c.req.parseBody({ all: true })) as FormFields;
        const answer = await api(c)('POST', '/templates', draftOf(form));
        if (answer.status !== 201) return editor(c, form, { refusal: refusalOf(answer) });
        return editor(c, form, {
          note: (
            <p role="status" id="published">
              Published {answer.body.name} version {answer.body.version}.
            </p>
          ),
        });
      })
  );
}
