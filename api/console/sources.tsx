import { Hono, type Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { vendors } from '../../contracts/vendors';
import { leadSources } from '../../domain/lead';
import { refusalOf, type ApiCall, type ApiRefusal } from './api-client';
import { Choice, FormTokens, Field, one, Refused, render, Table, type ConsoleEnv, type FormFields } from './ui';

interface Source {
  id: string;
  vendor: string;
  name: string;
  leadSource: string;
  hookPath: string;
  createdAt: string;
}

/**
 * Sources (ops): register a form tool, see where it posts and its secret once (`POST /sources`
 * answers it once and never again), and a source's rejected deliveries.
 */
export function sourcePages(api: (c: Context<ConsoleEnv>) => ApiCall) {
  const hookUrl = (c: Context<ConsoleEnv>, path: string) => new URL(path, c.req.url).toString();
  const show = async (
    c: Context<ConsoleEnv>,
    { form = {}, refusal, created }: { form?: FormFields; refusal?: ApiRefusal; created?: any } = {},
  ) => {
    const { body } = await api(c)('GET', '/sources');
    return render(
      c,
      'Sources',
      <>
        {created ? (
          <div role="status" id="source-created">
            <p>
              Source <code>{created.id}</code> registered. Point {created.vendor} at <code>{hookUrl(c, created.hookPath)}</code>.
            </p>
            {created.secret ? (
              <p>
                Its secret, shown this once: <code data-secret>{created.secret}</code>
              </p>
            ) : null}
            {created.secretOmitted ? <p>This form was sent before: its secret was shown then.</p> : null}
            {created.verifyToken ? (
              <p>
                Its verify token, shown this once: <code data-secret>{created.verifyToken}</code>
              </p>
            ) : null}
          </div>
        ) : null}
        <Table id="sources" head={['Id', 'Vendor', 'Name', 'Lead source', 'URL', '']}>
          {(body.sources as Source[]).map((source) => (
            <tr data-source={source.id}>
              <td>{source.id}</td>
              <td>{source.vendor}</td>
              <td>{source.name}</td>
              <td>{source.leadSource}</td>
              <td>
                <code>{hookUrl(c, source.hookPath)}</code>
              </td>
              <td>
                <a href={`/console/sources/${source.id}`}>rejections</a>
              </td>
            </tr>
          ))}
        </Table>
        <form method="post" action="/console/sources" id="source-form">
          <h2>Register a source</h2>
          <Refused refusal={refusal} />
          <FormTokens token={c.get('csrf')} />
          <Field label="Vendor" name="vendor" refusal={refusal}>
            <Choice name="vendor" options={vendors} form={form} />
          </Field>
          <Field label="Name" name="name" refusal={refusal}>
            <input name="name" value={one(form, 'name') ?? ''} required />
          </Field>
          <Field label="Lead source" name="leadSource" refusal={refusal}>
            <Choice name="leadSource" options={leadSources} form={form} />
          </Field>
          <Field label="Vendor's secret (hubspot, webflow, meta_lead_ads; made for the others when empty)" name="secret" refusal={refusal}>
            <input name="secret" type="password" autocomplete="off" />
          </Field>
          <Field label="Page access token (meta_lead_ads)" name="accessToken" refusal={refusal}>
            <input name="accessToken" type="password" autocomplete="off" />
          </Field>
          <button type="submit">Register source</button>
        </form>
      </>,
      refusal ? (refusal.status as ContentfulStatusCode) : created ? 201 : 200,
    );
  };
  return new Hono<ConsoleEnv>()
    .get('/console/sources', (c) => show(c))
    .post('/console/sources', async (c) => {
      const form = (await c.req.parseBody({ all: true })) as FormFields;
      const body = Object.fromEntries(
        ['vendor', 'name', 'leadSource', 'secret', 'accessToken'].flatMap((k) => (one(form, k) ? [[k, one(form, k)]] : [])),
      );
      const answer = await api(c)('POST', '/sources', body);
      if (answer.status === 201) return show(c, { created: answer.body });
      // Secrets typed into the form are not sent back into the page.
      return show(c, {
        form: { vendor: form.vendor ?? '', name: form.name ?? '', leadSource: form.leadSource ?? '' },
        refusal: refusalOf(answer),
      });
    })
    .get('/console/sources/:id', async (c) => {
      const id = c.req.param('id');
      const answer = await api(c)('GET', `/sources/${encodeURIComponent(id)}/rejections?limit=100`);
      if (answer.status >= 400)
        return render(c, 'No such source', <p role="alert">{refusalOf(answer).message}</p>, answer.status as ContentfulStatusCode);
      const rejections = answer.body.rejections as { eventId: string; reason: string; receivedAt: string }[];
      return render(
        c,
        `Rejections of ${id}`,
        <>
          <p>
            <a href="/console/sources">All sources</a>
          </p>
          {rejections.length ? (
            <Table id="rejections" head={['Received', 'Event', 'Reason']}>
              {rejections.map((r) => (
                <tr>
                  <td>{r.receivedAt}</td>
                  <td>{r.eventId}</td>
                  <td>{r.reason}</td>
                </tr>
              ))}
            </Table>
          ) : (
            <p>No delivery of this source was rejected.</p>
          )}
        </>,
      );
    });
}
