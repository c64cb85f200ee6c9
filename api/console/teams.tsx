import { Hono, type Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { segments } from '../../domain/routing';
import { refusalOf, type ApiCall, type ApiRefusal } from './api-client';
import { FormTokens, Field, listOf, many, one, Refused, render, Table, type ConsoleEnv, type FormFields } from './ui';
import type { Team } from '../../db/people';

const weekdays = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'];

/** A team as `POST /teams` takes it, from the form (`PATCH /teams/{id}` takes the same without the id, an empty manager clearing it). */
const teamBody = (form: FormFields) => ({
  ...(one(form, 'id') && { id: one(form, 'id') }),
  name: one(form, 'name') ?? '',
  countries: listOf(one(form, 'countries')),
  segments: many(form, 'segments'),
  businessHours: {
    timeZone: one(form, 'timeZone') ?? '',
    days: many(form, 'days').map(Number),
    start: one(form, 'start') ?? '',
    end: one(form, 'end') ?? '',
  },
  ...(one(form, 'managerId') && { managerId: one(form, 'managerId') }),
});

/** A stored team as the form's fields, to edit it. */
const formOf = (team: Team): FormFields => ({
  name: team.name,
  countries: team.countries.join(', '),
  segments: team.segments,
  timeZone: team.businessHours.timeZone,
  days: team.businessHours.days.map(String),
  start: team.businessHours.start,
  end: team.businessHours.end,
  managerId: team.managerId ?? '',
});

const TeamForm = ({ csrf, form, refusal, editing }: { csrf: string; form: FormFields; refusal?: ApiRefusal; editing?: string }) => {
  const days = many(form, 'days');
  const chosen = many(form, 'segments');
  return (
    <form method="post" action={editing ? `/console/teams/${editing}` : '/console/teams'} id="team-form">
      <h2>{editing ? `Change ${editing}` : 'Add a team'}</h2>
      <Refused refusal={refusal} />
      <FormTokens token={csrf} />
      {editing ? null : (
        <Field label="Id" name="id" refusal={refusal}>
          <input name="id" value={one(form, 'id') ?? ''} placeholder="chosen by the server when empty" maxlength={100} />
        </Field>
      )}
      <Field label="Name" name="name" refusal={refusal}>
        <input name="name" value={one(form, 'name') ?? ''} required maxlength={200} />
      </Field>
      <Field label="Countries (ISO codes; empty: any)" name="countries" refusal={refusal}>
        <input name="countries" value={one(form, 'countries') ?? ''} placeholder="DE, AT, CH" />
      </Field>
      <fieldset>
        <legend>Segments (none: any)</legend>
        {segments.map((segment) => (
          <label>
            <input type="checkbox" name="segments" value={segment} checked={chosen.includes(segment)} /> {segment}{' '}
          </label>
        ))}
      </fieldset>
      <fieldset>
        <legend>Business hours</legend>
        <Field label="Time zone" name="timeZone" field="businessHours.timeZone" refusal={refusal}>
          <input name="timeZone" value={one(form, 'timeZone') ?? 'Europe/Berlin'} required />
        </Field>
        <p>
          {weekdays.map((day, i) => (
            <label>
              <input
                type="checkbox"
                name="days"
                value={String(i + 1)}
                checked={form.days === undefined ? i < 5 : days.includes(String(i + 1))}
              />{' '}
              {day}{' '}
            </label>
          ))}
        </p>
        <Field label="From" name="start" field="businessHours.start" refusal={refusal}>
          <input name="start" value={one(form, 'start') ?? '09:00'} pattern="\d\d:\d\d" required />
        </Field>
        <Field label="To" name="end" field="businessHours.end" refusal={refusal}>
          <input name="end" value={one(form, 'end') ?? '17:00'} pattern="\d\d:\d\d" required />
        </Field>
      </fieldset>
      <Field label="Manager (rep id)" name="managerId" refusal={refusal}>
        <input name="managerId" value={one(form, 'managerId') ?? ''} />
      </Field>
      <button type="submit">{editing ? 'Save team' : 'Add team'}</button>
    </form>
  );
};

/** Teams and territories (ops): the routing order's list, a form to add a team, and each team's page to change it. */
export function teamPages(api: (c: Context<ConsoleEnv>) => ApiCall) {
  const show = async (c: Context<ConsoleEnv>, form: FormFields = {}, refusal?: ApiRefusal) => {
    const { body } = await api(c)('GET', '/teams');
    const teams = body.teams as Team[];
    return render(
      c,
      'Teams and territories',
      <>
        {c.req.query('added') ? <p role="status">Team {c.req.query('added')} added.</p> : null}
        <Table id="teams" head={['Id', 'Name', 'Countries', 'Segments', 'Business hours', 'Manager']}>
          {teams.map((team) => (
            <tr data-team={team.id}>
              <td>
                <a href={`/console/teams/${team.id}`}>{team.id}</a>
              </td>
              <td>{team.name}</td>
              <td>{team.countries.join(', ') || 'any'}</td>
              <td>{team.segments.join(', ') || 'any'}</td>
              <td>
                {team.businessHours.days.map((d) => weekdays[d - 1]).join(' ')} {team.businessHours.start}–{team.businessHours.end}{' '}
                {team.businessHours.timeZone}
              </td>
              <td>{team.managerId ?? '—'}</td>
            </tr>
          ))}
        </Table>
        <TeamForm csrf={c.get('csrf')} form={form} refusal={refusal} />
      </>,
      refusal ? (refusal.status as ContentfulStatusCode) : 200,
    );
  };
  const edit = async (
    c: Context<ConsoleEnv>,
    id: string,
    { form, refusal, note }: { form?: FormFields; refusal?: ApiRefusal; note?: unknown } = {},
  ) => {
    const team = ((await api(c)('GET', '/teams')).body.teams as Team[]).find((t) => t.id === id);
    if (!team) return render(c, 'No such team', <p role="alert">There is no team {id}.</p>, 404);
    return render(
      c,
      team.name,
      <>
        {note}
        <p>
          <a href="/console/teams">All teams</a>
        </p>
        <TeamForm csrf={c.get('csrf')} form={form ?? formOf(team)} refusal={refusal} editing={team.id} />
      </>,
      refusal ? (refusal.status as ContentfulStatusCode) : 200,
    );
  };
  return new Hono<ConsoleEnv>()
    .get('/console/teams', (c) => show(c))
    .get('/console/teams/:id', (c) => edit(c, c.req.param('id')))
    .post('/console/teams/:id', async (c) => {
      const id = c.req.param('id');
      const form = (await c.req.parseBody({ all: true })) as FormFields;
      const { id: _, ...patch } = teamBody(form);
      const answer = await api(c)('PATCH', `/teams/${encodeURIComponent(id)}`, { ...patch, managerId: one(form, 'managerId') ?? null });
      if (answer.status === 200) return edit(c, id, { note: <p role="status">Saved.</p> });
      return edit(c, id, { form, refusal: refusalOf(answer) });
    })
    .post('/console/teams', async (c) => {
      const form = (await c.req.parseBody({ all: true })) as FormFields;
      const answer = await api(c)('POST', '/teams', teamBody(form));
      if (answer.status === 201) return c.redirect(`/console/teams?added=${encodeURIComponent(answer.body.id)}`, 303);
      return show(c, form, refusalOf(answer));
    });
}
