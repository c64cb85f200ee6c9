import { Hono, type Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { routingOutcomes } from '../../domain/routing-decision';
import { refusalOf, type ApiCall, type ApiRefusal } from './api-client';
import { Choice, Field, fromLocal, one, Refused, render, Table, type ConsoleEnv, type FormFields } from './ui';

/** A row of `GET /routing/decisions` (docs/api.md, "Routing preview and the routing log"). */
interface Decision {
  leadId: string;
  decidedAt: string;
  outcome: string;
  repId: string | null;
  teamId: string | null;
  reason: string;
  links: { lead: string; temporalUiUrl: string };
}

const filters = ['leadId', 'repId', 'teamId', 'outcome', 'from', 'to'] as const;

/**
 * The search as a query: the filters filled in, with the API's cursor. For the API (`api`), `from`
 * and `to` typed as UTC wall clock become timestamps; for the next page's link they stay as typed.
 */
function searchQuery(form: FormFields, { cursor, api }: { cursor?: string; api: boolean }) {
  const query = new URLSearchParams();
  for (const name of filters) {
    const value = one(form, name);
    if (value) query.set(name, api && (name === 'from' || name === 'to') ? fromLocal(value)! : value);
  }
  if (cursor) query.set('cursor', cursor);
  return query;
}

const SearchForm = ({ form, refusal }: { form: FormFields; refusal?: ApiRefusal }) => (
  // A search writes nothing: a GET, its URL the search (as the API's query is).
  <form method="get" action="/console/routing-log" id="log-form">
    <Refused refusal={refusal} />
    <Field label="Lead id" name="leadId" refusal={refusal}>
      <input name="leadId" value={one(form, 'leadId') ?? ''} placeholder="lead-…" />
    </Field>
    <Field label="Rep id" name="repId" refusal={refusal}>
      <input name="repId" value={one(form, 'repId') ?? ''} />
    </Field>
    <Field label="Team id" name="teamId" refusal={refusal}>
      <input name="teamId" value={one(form, 'teamId') ?? ''} />
    </Field>
    <Field label="Outcome" name="outcome" refusal={refusal}>
      <Choice name="outcome" options={routingOutcomes} form={form} none="any" />
    </Field>
    <Field label="From (UTC; empty: 90 days before to)" name="from" refusal={refusal}>
      <input name="from" type="datetime-local" value={one(form, 'from') ?? ''} />
    </Field>
    <Field label="To (UTC; empty: now)" name="to" refusal={refusal}>
      <input name="to" type="datetime-local" value={one(form, 'to') ?? ''} />
    </Field>
    <button type="submit">Search</button>
  </form>
);

/**
 * The routing log (ops): the routing decisions of `GET /routing/decisions`, searched by lead, rep,
 * team, outcome and time, newest first, a page at a time by the API's cursor. Each row links to
 * its lead (the API's `/leads/{id}`: the console has no lead page) and to its Temporal history.
 */
export function routingLogPages(api: (c: Context<ConsoleEnv>) => ApiCall) {
  return new Hono<ConsoleEnv>().get('/console/routing-log', async (c) => {
    const form = c.req.query() as FormFields;
    const answer = await api(c)('GET', `/routing/decisions?${searchQuery(form, { cursor: one(form, 'cursor'), api: true })}`);
    const refusal = answer.status === 200 ? undefined : refusalOf(answer);
    const decisions = (refusal ? [] : answer.body.decisions) as Decision[];
    const next = refusal ? null : (answer.body.nextCursor as string | null);
    return render(
      c,
      'Routing log',
      <>
        <SearchForm form={form} refusal={refusal} />
        {refusal ? null : decisions.length ? (
          <Table id="decisions" head={['Decided', 'Lead', 'Outcome', 'Rep', 'Team', 'Reason', '']}>
            {decisions.map((d) => (
              <tr data-lead={d.leadId}>
                <td>{d.decidedAt}</td>
                <td>
                  <a href={d.links.lead} data-link="lead">
                    {d.leadId}
                  </a>
                </td>
                <td>{d.outcome}</td>
                <td>{d.repId ?? '—'}</td>
                <td>{d.teamId ?? '—'}</td>
                <td>{d.reason}</td>
                <td>
                  <a href={d.links.temporalUiUrl} data-link="temporal" rel="noopener noreferrer">
                    Temporal history
                  </a>
                </td>
              </tr>
            ))}
          </Table>
        ) : (
          <p id="no-decisions">No routing decision matches.</p>
        )}
        {next ? (
          <p>
            <a href={`/console/routing-log?${searchQuery(form, { cursor: next, api: false })}`} id="next-page">
              Next page
            </a>
          </p>
        ) : null}
      </>,
      refusal ? (refusal.status as ContentfulStatusCode) : 200,
    );
  });
}
