import { Hono, type Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { cadenceMigrations } from '../../domain/cadence';
import { refusalOf, type ApiCall, type ApiRefusal } from './api-client';
import { FormTokens, Field, jsonOf, one, Refused, render, Table, untrimmed, type ConsoleEnv, type FormFields } from './ui';
import type { CadenceVersion as Cadence } from '../../domain/cadence';

/** A version as `GET /cadences` (with the count of versions) or `GET /cadences/{name}` (with its enrolled leads) answers it. */
type CadenceVersion = Cadence & { versions?: number; enrolledLeads?: number };

const migrationWords = {
  pinned: 'pinned: enrolled leads finish on their version',
  next_step: 'migrate: enrolled leads switch at their next step',
};

/**
 * Cadences (marketing): each cadence's newest version, and a page per cadence with its versions and
 * an editor of the steps (JSON, as `POST /cadences/{name}/versions` takes them) that publishes the
 * next version, pinned or migrating, with the leads enrolled on each version.
 */
export function cadencePages(api: (c: Context<ConsoleEnv>) => ApiCall) {
  const edit = async (
    c: Context<ConsoleEnv>,
    name: string,
    { form, refusal, note }: { form?: FormFields; refusal?: ApiRefusal; note?: unknown } = {},
  ) => {
    const answer = await api(c)('GET', `/cadences/${encodeURIComponent(name)}`);
    const versions = answer.status === 200 ? (answer.body.versions as CadenceVersion[]) : [];
    if (answer.status !== 200 && answer.status !== 404)
      return render(c, 'Not a cadence', <p role="alert">{refusalOf(answer).message}</p>, 400);
    const newest = versions.at(-1);
    const migrate = one(form ?? {}, 'migrate') ?? newest?.migrate ?? 'pinned';
    return render(
      c,
      `Cadence ${name}`,
      <>
        {note}
        <p>
          <a href="/console/cadences">All cadences</a>
        </p>
        <Table id="versions" head={['Version', 'Published', 'Steps', 'Leads enrolled', 'Leads on older versions']}>
          {versions.map((v) => (
            <tr data-version={v.version}>
              <td>{v.version}</td>
              <td>{v.publishedAt}</td>
              <td>{v.steps.length}</td>
              <td>{v.enrolledLeads ?? 0}</td>
              <td>{migrationWords[v.migrate]}</td>
            </tr>
          ))}
        </Table>
        <form method="post" action={`/console/cadences/${encodeURIComponent(name)}`} id="cadence-form">
          <h2>Publish version {(newest?.version ?? 0) + 1}</h2>
          <Refused refusal={refusal} />
          <FormTokens token={c.get('csrf')} />
          <Field label="Steps (JSON)" name="steps" refusal={refusal}>
            <textarea name="steps" rows={16} cols={90} spellcheck={false}>
              {untrimmed(form ?? {}, 'steps') ?? JSON.stringify(newest?.steps ?? [], null, 2)}
            </textarea>
          </Field>
          <fieldset>
            <legend>Leads enrolled on older versions</legend>
            {cadenceMigrations.map((m) => (
              <label>
                <input type="radio" name="migrate" value={m} checked={migrate === m} /> {migrationWords[m]}{' '}
              </label>
            ))}
          </fieldset>
          <button type="submit">Publish</button>
        </form>
      </>,
      refusal ? (refusal.status as ContentfulStatusCode) : 200,
    );
  };
  return new Hono<ConsoleEnv>()
    .get('/console/cadences', async (c) => {
      const { body } = await api(c)('GET', '/cadences');
      return render(
        c,
        'Cadences',
        <>
          <Table id="cadences" head={['Name', 'Newest version', 'Steps', 'Published']}>
            {(body.cadences as CadenceVersion[]).map((cadence) => (
              <tr data-cadence={cadence.name}>
                <td>
                  <a href={`/console/cadences/${encodeURIComponent(cadence.name)}`}>{cadence.name}</a>
                </td>
                <td>{cadence.version}</td>
                <td>{cadence.steps.length}</td>
                <td>{cadence.publishedAt}</td>
              </tr>
            ))}
          </Table>
          <form method="get" action="/console/cadences/new">
            <label>
              New cadence <input name="name" required placeholder="webinar-follow-up" />
            </label>{' '}
            <button type="submit">Open</button>
          </form>
        </>,
      );
    })
    .get('/console/cadences/new', (c) => c.redirect(`/console/cadences/${encodeURIComponent(c.req.query('name') ?? '')}`, 303))
    .get('/console/cadences/:name', (c) => edit(c, c.req.param('name')))
    .post('/console/cadences/:name', async (c) => {
      const name = c.req.param('name');
      const form = (await c.req.parseBody({ all: true })) as FormFields;
      const steps = jsonOf(untrimmed(form, 'steps'));
      if (steps.problem)
        return edit(c, name, { form, refusal: { status: 400, message: 'the steps are not JSON', fields: { steps: steps.problem } } });
      const answer = await api(c)('POST', `/cadences/${encodeURIComponent(name)}/versions`, {
        steps: steps.value,
        migrate: one(form, 'migrate') ?? 'pinned',
      });
      if (answer.status !== 201) return edit(c, name, { form, refusal: refusalOf(answer) });
      return edit(c, name, {
        note: (
          <p role="status">
            Published {name} version {answer.body.version}.
          </p>
        ),
      });
    });
}
