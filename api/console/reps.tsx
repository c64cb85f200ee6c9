import { Hono, type Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { refusalOf, type ApiCall, type ApiRefusal } from './api-client';
import { FormTokens, Field, fromLocal, numberOf, one, Refused, render, Table, toLocal, type ConsoleEnv, type FormFields } from './ui';
import type { Rep } from '../../db/people';

/** The fields a rep's form and `POST /reps` / `PATCH /reps/{id}` share; an empty optional field clears it (null). */
const repBody = (form: FormFields) => ({
  teamId: one(form, 'teamId') ?? null,
  weight: numberOf(one(form, 'weight')),
  capacity: numberOf(one(form, 'capacity')),
  slackUserId: one(form, 'slackUserId') ?? null,
  crmUserId: one(form, 'crmUserId') ?? null,
});

const TeamSelect = ({ teams, value }: { teams: { id: string; name: string }[]; value?: string | null }) => (
  <select name="teamId">
    <option value="">no team</option>
    {teams.map((team) => (
      <option value={team.id} selected={team.id === value}>
        {team.name} ({team.id})
      </option>
    ))}
  </select>
);

const CommonFields = ({
  form,
  rep,
  teams,
  refusal,
}: {
  form: FormFields;
  rep?: Rep;
  teams: { id: string; name: string }[];
  refusal?: ApiRefusal;
}) => (
  <>
    <Field label="Team" name="teamId" refusal={refusal}>
      <TeamSelect teams={teams} value={one(form, 'teamId') ?? rep?.teamId} />
    </Field>
    <Field label="Weight (1–100: share of round robin)" name="weight" refusal={refusal}>
      <input name="weight" type="number" value={one(form, 'weight') ?? String(rep?.weight ?? 1)} />
    </Field>
    <Field label="Capacity (open leads)" name="capacity" refusal={refusal}>
      <input name="capacity" type="number" value={one(form, 'capacity') ?? String(rep?.capacity ?? 50)} />
    </Field>
    <Field label="Slack member id" name="slackUserId" refusal={refusal}>
      <input name="slackUserId" value={one(form, 'slackUserId') ?? rep?.slackUserId ?? ''} placeholder="U024BE7LH" />
    </Field>
    <Field label="CRM user id" name="crmUserId" refusal={refusal}>
      <input name="crmUserId" value={one(form, 'crmUserId') ?? rep?.crmUserId ?? ''} />
    </Field>
  </>
);

/** A new key, shown once; a form sent again is answered by the API without it (the replay keeps no secret). */
const KeyOnce = ({ repId, apiKey }: { repId: string; apiKey: string | null }) => (
  <div role="status" id="api-key">
    {apiKey ? (
      <>
        <p>
          The API key of <code>{repId}</code>, shown this once (the service keeps only its hash):
        </p>
        <p>
          <code data-secret>{apiKey}</code>
        </p>
      </>
    ) : (
      <p>
        This form was sent before: <code>{repId}</code> exists, and its key was shown then. Rotate the key if it was not kept.
      </p>
    )}
  </div>
);

/** Reps (ops): the list, a form to add one, and each rep's page to change routing fields, out of office, and rotate the key. */
export function repPages(api: (c: Context<ConsoleEnv>) => ApiCall) {
  const lists = async (c: Context<ConsoleEnv>) => {
    const call = api(c);
    const [reps, teams] = await Promise.all([call('GET', '/reps'), call('GET', '/teams')]);
    return { reps: reps.body.reps as Rep[], teams: teams.body.teams as { id: string; name: string }[] };
  };
  const list = async (
    c: Context<ConsoleEnv>,
    { form = {}, refusal, created }: { form?: FormFields; refusal?: ApiRefusal; created?: Rep & { apiKey: string | null } } = {},
  ) => {
    const { reps, teams } = await lists(c);
    return render(
      c,
      'Reps',
      <>
        {created ? <KeyOnce repId={created.id} apiKey={created.apiKey} /> : null}
        <Table id="reps" head={['Id', 'Name', 'Team', 'Weight', 'Capacity', 'Active', 'Out of office until', 'Slack', 'CRM']}>
          {reps.map((rep) => (
            <tr data-rep={rep.id}>
              <td>
                <a href={`/console/reps/${rep.id}`}>{rep.id}</a>
              </td>
              <td>{rep.name}</td>
              <td>{rep.teamId ?? '—'}</td>
              <td>{rep.weight}</td>
              <td>{rep.capacity}</td>
              <td>{rep.active ? 'yes' : 'no'}</td>
              <td>{rep.outOfOfficeUntil ?? '—'}</td>
              <td>{rep.slackUserId ?? '—'}</td>
              <td>{rep.crmUserId ?? '—'}</td>
            </tr>
          ))}
        </Table>
        <form method="post" action="/console/reps" id="rep-form">
          <h2>Add a rep</h2>
          <Refused refusal={refusal} />
          <FormTokens token={c.get('csrf')} />
          <Field label="Name" name="name" refusal={refusal}>
            <input name="name" value={one(form, 'name') ?? ''} required maxlength={200} />
          </Field>
          <Field label="Email" name="email" refusal={refusal}>
            <input name="email" type="email" value={one(form, 'email') ?? ''} required maxlength={320} />
          </Field>
          <CommonFields form={form} teams={teams} refusal={refusal} />
          <button type="submit">Add rep</button>
        </form>
      </>,
      refusal ? (refusal.status as ContentfulStatusCode) : created ? 201 : 200,
    );
  };
  const repPage = async (
    c: Context<ConsoleEnv>,
    id: string,
    { form = {}, refusal, note }: { form?: FormFields; refusal?: ApiRefusal; note?: unknown } = {},
  ) => {
    const { reps, teams } = await lists(c);
    const rep = reps.find((r) => r.id === id);
    if (!rep) return render(c, 'No such rep', <p role="alert">There is no rep {id}.</p>, 404);
    const active = form.active === undefined ? rep.active : one(form, 'active') === 'true';
    return render(
      c,
      `Rep ${rep.id}`,
      <>
        {note}
        <p>
          {rep.name} · <a href="/console/reps">All reps</a>
        </p>
        <form method="post" action={`/console/reps/${rep.id}`} id="rep-edit">
          <Refused refusal={refusal} />
          <FormTokens token={c.get('csrf')} />
          <CommonFields form={form} rep={rep} teams={teams} refusal={refusal} />
          <Field label="Out of office until (UTC; empty: in office)" name="outOfOfficeUntil" refusal={refusal}>
            <input name="outOfOfficeUntil" type="datetime-local" value={one(form, 'outOfOfficeUntil') ?? toLocal(rep.outOfOfficeUntil)} />
          </Field>
          <Field label="Manager (rep id)" name="managerId" refusal={refusal}>
            <input name="managerId" value={one(form, 'managerId') ?? rep.managerId ?? ''} />
          </Field>
          <p>
            <input type="hidden" name="active" value="false" />
            <label>
              <input type="checkbox" name="active" value="true" checked={active} /> Active (takes new leads)
            </label>
          </p>
          <button type="submit">Save</button>
        </form>
        <form method="post" action={`/console/reps/${rep.id}/api-key`}>
          <FormTokens token={c.get('csrf')} />
          <button type="submit">Rotate API key</button> (the old key stops working at once)
        </form>
      </>,
      refusal ? (refusal.status as ContentfulStatusCode) : 200,
    );
  };
  return new Hono<ConsoleEnv>()
    .get('/console/reps', (c) => list(c))
    .post('/console/reps', async (c) => {
      const form = (await c.req.parseBody({ all: true })) as FormFields;
      const answer = await api(c)('POST', '/reps', { name: one(form, 'name') ?? '', email: one(form, 'email') ?? '', ...repBody(form) });
      if (answer.status === 201) return list(c, { created: answer.body });
      return list(c, { form, refusal: refusalOf(answer) });
    })
    .get('/console/reps/:id', (c) => repPage(c, c.req.param('id')))
    .post('/console/reps/:id', async (c) => {
      const id = c.req.param('id');
      const form = (await c.req.parseBody({ all: true })) as FormFields;
      const answer = await api(c)('PATCH', `/reps/${encodeURIComponent(id)}`, {
        ...repBody(form),
        active: one(form, 'active') === 'true',
        outOfOfficeUntil: fromLocal(one(form, 'outOfOfficeUntil')),
        managerId: one(form, 'managerId') ?? null,
      });
      if (answer.status < 300) return repPage(c, id, { note: <p role="status">Saved.</p> });
      return repPage(c, id, { form, refusal: refusalOf(answer) });
    })
    .post('/console/reps/:id/api-key', async (c) => {
      const id = c.req.param('id');
      const answer = await api(c)('POST', `/reps/${encodeURIComponent(id)}/api-key`, {});
      if (answer.status < 300) return repPage(c, id, { note: <KeyOnce repId={id} apiKey={answer.body.apiKey} /> });
      return repPage(c, id, { refusal: refusalOf(answer) });
    });
}
