import { Hono, type Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { refusalOf, type ApiCall, type ApiRefusal } from './api-client';
import { FormTokens, Field, one, Refused, render, Table, type ConsoleEnv, type FormFields } from './ui';
import type { Account } from '../../db/people';

/** Accounts (ops): domain → owner; a lead of the domain goes to its owner. `POST /accounts` adds or replaces one. */
export function accountPages(api: (c: Context<ConsoleEnv>) => ApiCall) {
  const show = async (c: Context<ConsoleEnv>, form: FormFields = {}, refusal?: ApiRefusal) => {
    const { body } = await api(c)('GET', '/accounts');
    return render(
      c,
      'Accounts',
      <>
        {c.req.query('saved') ? <p role="status">Account {c.req.query('saved')} saved.</p> : null}
        <Table id="accounts" head={['Domain', 'Name', 'Owner']}>
          {(body.accounts as Account[]).map((account) => (
            <tr data-account={account.domain}>
              <td>{account.domain}</td>
              <td>{account.name}</td>
              <td>{account.ownerId ?? '—'}</td>
            </tr>
          ))}
        </Table>
        <form method="post" action="/console/accounts" id="account-form">
          <h2>Add or replace an account</h2>
          <Refused refusal={refusal} />
          <FormTokens token={c.get('csrf')} />
          <Field label="Domain" name="domain" refusal={refusal}>
            <input name="domain" value={one(form, 'domain') ?? ''} required placeholder="acme.io" />
          </Field>
          <Field label="Name" name="name" refusal={refusal}>
            <input name="name" value={one(form, 'name') ?? ''} required />
          </Field>
          <Field label="Owner (rep id; empty: none)" name="ownerId" refusal={refusal}>
            <input name="ownerId" value={one(form, 'ownerId') ?? ''} />
          </Field>
          <button type="submit">Save account</button>
        </form>
      </>,
      refusal ? (refusal.status as ContentfulStatusCode) : 200,
    );
  };
  return new Hono<ConsoleEnv>()
    .get('/console/accounts', (c) => show(c))
    .post('/console/accounts', async (c) => {
      const form = (await c.req.parseBody({ all: true })) as FormFields;
      const answer = await api(c)('POST', '/accounts', {
        domain: one(form, 'domain') ?? '',
        name: one(form, 'name') ?? '',
        ownerId: one(form, 'ownerId') ?? null,
      });
      if (answer.status < 300) return c.redirect(`/console/accounts?saved=${encodeURIComponent(answer.body.domain)}`, 303);
      return show(c, form, refusalOf(answer));
    });
}
