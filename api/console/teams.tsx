import { Hono, type Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { segments } from '../../domain/routing';
import { refusalOf, type ApiCall, type ApiRefusal } from './api-client';
import { Csrf, Field, listOf, many, one, Refused, render, Table, type ConsoleEnv, type FormFields } from './ui';

interface Team {
  id: string;
  name: string;
  countries: string[];
  segments: string[];
  businessHours: { timeZone: string; days: number[]; start: string; end: string };
  managerId: string | null;
}
const weekdays = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'];

/** A team as `POST /teams` takes it, from the form. */
const teamBody = (form: FormFields) => ({
  ...(one(form, 'id') && { id: one(form, 'id') }),
  name: one(form, 'name') ?? '',
  countries: listOf(one(form, 'countries')),
  segments: many(form, 'segments'),
  businessHours: { timeZone: one(form, 'timeZone') ?? '', days: many(form, 'days').map(Number), start: one(form, 'start') ?? '', end: one(form, 'end') ?? '' },
  ...(one(form, 'managerId') && { managerId: one(form, 'managerId') }),
});

const TeamForm = ({ csrf, form, refusal }: { csrf: string; form: FormFields; refusal?: ApiRefusal }) => {
  const days = many(form, 'days');
  const chosen = many(form, 'segments');
  return (
    <form method="post" action="/console/teams" id="team-form">
      <h2>Add a team</h2>
      <Refused refusal={refusal} />
      <Csrf token={csrf} />
      <Field label="Id" name="id" refusal={refusal}>
        <input name="id" value={one(form, 'id') ?? ''} placeholder="chosen by the server when empty" maxlength={100} />
      </Field>
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
              <input type="checkbox" name="days" value={String(i + 1)} checked={form.days === undefined ? i < 5 : days.includes(String(i + 1))} /> {day}{' '}
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
      <button type="submit">Add team</button>
    </form>
  );
};

/**
 * Teams and territories (ops): the routing order's list and a form to add a team. The API has no
 * way to change a team once added (`POST /teams` only), so neither has the console.
 */
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
              <td>{team.id}</td>
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
  return new Hono<ConsoleEnv>()
    .get('/console/teams', (c) => show(c))
    .post('/console/teams', async (c) => {
      const form = (await c.req.parseBody({ all: true })) as FormFields;
      const answer = await api(c)('POST', '/teams', teamBody(form));
      if (answer.status === 201) return c.redirect(`/console/teams?added=${encodeURIComponent(answer.body.id)}`, 303);
      return show(c, form, refusalOf(answer));
    });
}
