import { randomBytes } from 'node:crypto';
import type { Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { Child, PropsWithChildren } from 'hono/jsx';
import { consolePages, type ConsolePage, type ConsoleSession } from '../../domain/console-session';
import type { AppEnv } from '../context';
import { page, privatePage, type PageRefusal } from '../lead-page';
import type { ApiRefusal } from './api-client';

/** The console's one script, a file of the app's own (the CSP allows no inline script): the templates' live preview. */
export const consoleScriptUrl = '/console/assets/console.js';

export type ConsoleEnv = AppEnv & {
  /** formKey: the posted form's own id within the session (index.tsx), the API's Idempotency-Key is made of. */
  Variables: AppEnv['Variables'] & { consoleSession: ConsoleSession; csrf: string; formKey?: string };
};

export const pageTitles: Record<ConsolePage, string> = {
  teams: 'Teams and territories',
  reps: 'Reps',
  accounts: 'Accounts',
  sources: 'Sources',
  'routing-preview': 'Routing preview',
  'routing-log': 'Routing log',
  templates: 'Email templates',
  cadences: 'Cadences',
  'scoring-models': 'Scoring models',
};

const Nav = ({ session, csrf }: { session: ConsoleSession; csrf: string }) => (
  <nav
    aria-label="console"
    style="display:flex;gap:1rem;align-items:center;flex-wrap:wrap;border-bottom:1px solid #ccc;padding-bottom:.5rem"
  >
    <strong>Console ({session.role})</strong>
    {consolePages[session.role].map((name) => (
      <a href={`/console/${name}`}>{pageTitles[name]}</a>
    ))}
    <form method="post" action="/console/sign-out" style="margin-left:auto">
      <input type="hidden" name="csrf" value={csrf} />
      <button type="submit">Sign out</button>
    </form>
  </nav>
);

/** A console page: the inbox's layout (api/lead-page.ts) with the role's nav, never cached. */
export function render(c: Context<ConsoleEnv>, title: string, body: Child, status: ContentfulStatusCode = 200) {
  const session = c.get('consoleSession');
  const nav = session ? <Nav session={session} csrf={c.get('csrf')} /> : undefined;
  return c.html(page(title, <>{body}</>, { script: consoleScriptUrl, nav, wide: true }), status, privatePage);
}

/** A page that refuses (signed out, a page of another role, a forged form). */
export const refusalPage = (c: Context<ConsoleEnv>, refusal: PageRefusal, body?: Child) =>
  render(
    c,
    refusal.title,
    <>
      <p role="alert">{refusal.message}</p>
      {body ?? (
        <p>
          <a href="/console">The console</a>
        </p>
      )}
    </>,
    refusal.status,
  );

/** The session's CSRF token alone: a form that writes nothing, so has no id to make an Idempotency-Key of (index.tsx). */
export const CsrfToken = ({ token }: { token: string }) => <input type="hidden" name="csrf" value={token} />;

/** Every form's hidden fields: the session's CSRF token, and an id of this rendering of the form. */
export const FormTokens = ({ token }: { token: string }) => (
  <>
    <CsrfToken token={token} />
    <input type="hidden" name="form" value={randomBytes(9).toString('base64url')} />
  </>
);

/** The API's refusal above the form: its message, and each field it names. */
export const Refused = ({ refusal }: { refusal?: ApiRefusal }) =>
  refusal ? (
    <div role="alert" id="refused" style="border:1px solid #b00;padding:.5rem;margin:1rem 0">
      <p>{refusal.message}</p>
      {Object.keys(refusal.fields).length ? (
        <ul>
          {Object.entries(refusal.fields).map(([field, message]) => (
            <li data-field={field}>
              <code>{field}</code> {message}
            </li>
          ))}
        </ul>
      ) : null}
    </div>
  ) : null;

/** A labelled input, with the API's message for its field beside it. */
export function Field({
  label,
  name,
  refusal,
  children,
  field = name,
}: PropsWithChildren<{ label: string; name: string; refusal?: ApiRefusal; field?: string }>) {
  const problem = refusal?.fields[field];
  return (
    <p>
      <label>
        {label} {children}
      </label>
      {problem ? (
        <strong class="field-error" data-error-for={field} style="color:#b00">
          {' '}
          {problem}
        </strong>
      ) : null}
    </p>
  );
}

export const Table = ({ id, head, children }: PropsWithChildren<{ id: string; head: string[] }>) => (
  <table id={id} style="border-collapse:collapse;width:100%" cellpadding="4">
    <thead>
      <tr>
        {head.map((h) => (
          <th style="text-align:left;border-bottom:1px solid #999">{h}</th>
        ))}
      </tr>
    </thead>
    <tbody>{children}</tbody>
  </table>
);

/** A form's fields: each a string (the last given), empty ones absent. */
export type FormFields = Record<string, string | string[]>;
/** A select of `options`, keeping the one the form sent; `none` labels an empty first choice. */
export const Choice = ({ name, options, form, none }: { name: string; options: readonly string[]; form: FormFields; none?: string }) => (
  <select name={name}>
    {none !== undefined && <option value="">{none}</option>}
    {options.map((option) => (
      <option selected={one(form, name) === option}>{option}</option>
    ))}
  </select>
);

export const one = (form: FormFields, name: string): string | undefined => {
  const value = form[name];
  const last = Array.isArray(value) ? value.at(-1) : value;
  return typeof last === 'string' && last.trim() !== '' ? last.trim() : undefined;
};
export const many = (form: FormFields, name: string): string[] => {
  const value = form[name];
  return (Array.isArray(value) ? value : value === undefined ? [] : [value]).filter((v) => typeof v === 'string' && v.trim() !== '');
};
/** A number field: the number, or the text as typed so that the API names the field. */
export const numberOf = (text: string | undefined) =>
  text === undefined ? undefined : Number.isFinite(Number(text)) ? Number(text) : text;
/** `datetime-local` is the browser's wall clock without a zone: the console reads and writes it as UTC, and says so. */
export const fromLocal = (text: string | undefined) =>
  text ? (Number.isNaN(Date.parse(`${text}Z`)) ? text : new Date(`${text}Z`).toISOString()) : null;
export const toLocal = (iso: string | null) => (iso ? iso.slice(0, 16) : '');
/** A comma- or space-separated list. */
export const listOf = (text: string | undefined) => (text ? text.split(/[\s,]+/).filter(Boolean) : []);
/** A JSON field: the value, or undefined with the reason. */
export function jsonOf(text: string | undefined): { value?: unknown; problem?: string } {
  try {
    return { value: JSON.parse(text ?? '') };
  } catch (error) {
    return { problem: `is not JSON: ${(error as Error).message}` };
  }
}
/** A text field as typed (a template's or a JSON body's whitespace matters); empty: absent. */
export const untrimmed = (form: FormFields, name: string): string | undefined => {
  const value = form[name];
  const last = Array.isArray(value) ? value.at(-1) : value;
  return typeof last === 'string' && last.trim() !== '' ? last.replace(/\r\n/g, '\n') : undefined;
};
