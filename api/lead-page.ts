import { html } from 'hono/html';
import type { HtmlEscapedString } from 'hono/utils/html';
import { findLeadState } from '../db/leads';
import { readTimeline } from '../db/timeline';
import { actionBodies } from '../domain/action-bodies';
import { linkActionEffects, type LinkAction } from '../domain/action-links';
import { recycleReasons } from '../domain/actions';
import { closedStatuses, disqualificationReasons, type LeadStatus } from '../domain/lead';
import type { ApiDeps } from './context';
import { ApiError, validationFailed } from './errors';
import { takeAction } from './lead-actions';
import type { LeadView } from './lead-view';

/**
 * The lead page a rep acts from, server-rendered, shared by the action links of alerts
 * (`/act/{token}`, api/routes/action-links.ts) and the rep inbox (`/inbox/leads/{id}`,
 * api/routes/inbox.ts): what the page shows and what its forms post, and taking the posted action.
 * The two differ only in where each form posts and what credential rides along.
 */

/** The page's actions: every action link but `open`. */
export type PageAction = Exclude<LinkAction, 'open'>;

/** A credential is in the URL or the page: kept out of caches, referrers of anything the page loads, and search engines. */
export const privatePage = { 'Cache-Control': 'no-store', 'Referrer-Policy': 'no-referrer', 'X-Robots-Tag': 'noindex' };

type Body = HtmlEscapedString | Promise<HtmlEscapedString> | string;

/**
 * Every value is escaped by `html`; no inline script (the CSP in app.ts allows none), only a file of
 * the app's own. The console (api/console/) adds its nav above the title and a wider column for its tables.
 */
export const page = (title: string, body: Body, { script, nav, wide }: { script?: string; nav?: Body; wide?: boolean } = {}) =>
  html`<!doctype html>
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width" />
        <title>${title}</title>
        ${script ? html`<script src="${script}" defer></script>` : ''}
      </head>
      <body style="font-family:system-ui,sans-serif;max-width:${wide ? '72rem' : '40rem'};margin:3rem auto;padding:0 1rem">
        ${nav ?? ''}
        <h1>${title}</h1>
        ${body}
      </body>
    </html>`;

/** A page that refuses, with its status: what the rep reads instead of the lead. */
export class PageRefusal extends Error {
  constructor(
    readonly status: 400 | 401 | 403 | 404 | 409 | 410 | 429,
    readonly title: string,
    message: string,
  ) {
    super(message);
  }
}

export const doneTitles: Record<PageAction, string> = {
  accept: 'Accepted',
  call: 'Call logged',
  email: 'Email logged',
  disqualify: 'Disqualified',
  recycle: 'Recycled',
  convert: 'Converted',
};

/** A form's fields as the action's body (domain/action-bodies.ts): empty fields are absent. */
function bodyFrom(action: PageAction, form: Record<string, string | File | (string | File)[]>): Record<string, unknown> {
  const field = (name: string) => {
    const value = form[name];
    return typeof value === 'string' && value.trim() !== '' ? value.trim() : undefined;
  };
  const note = field('note');
  switch (action) {
    case 'accept':
      return {};
    case 'call':
    case 'email':
      return { ...linkActionEffects[action].body, ...(note && { note }) };
    case 'disqualify':
    case 'recycle':
      return { reason: field('reason'), ...(note && { note }) };
    case 'convert': {
      const name = field('name');
      const amount = field('amount');
      const opportunity = { ...(name && { name }), ...(amount && { amount: Number(amount) }) };
      return Object.keys(opportunity).length ? { opportunity } : {};
    }
  }
}

const timeLeft = (dueAt: string, now: number) => {
  const minutes = Math.round((Date.parse(dueAt) - now) / 60_000);
  const span = Math.abs(minutes) >= 120 ? `${Math.round(Math.abs(minutes) / 60)} h` : `${Math.abs(minutes)} min`;
  return minutes >= 0 ? `${span} left` : `overdue by ${span}`;
};

/** How long the rep took to respond, in the unit that reads best. */
const responseTime = (ms: number) =>
  ms < 120_000 ? `${Math.round(ms / 1000)} s` : ms < 7_200_000 ? `${Math.round(ms / 60_000)} min` : `${Math.round(ms / 3_600_000)} h`;

/**
 * The SLA in words: the due time and the time left (the inbox's script, api/routes/inbox.ts, counts
 * it down in `data-due`; without it the words stay as rendered), or how fast the rep responded.
 */
export function slaWords(sla: LeadView['sla'], now = Date.now()) {
  if (sla?.respondedAt) return `responded${sla.responseMs === null ? '' : ` in ${responseTime(sla.responseMs)}`}`;
  if (!sla?.dueAt) return 'no SLA clock';
  const due = `${sla.dueAt.slice(0, 10)} ${sla.dueAt.slice(11, 16)} UTC`;
  return html`due <time datetime="${sla.dueAt}">${due}</time> (<span data-due="${sla.dueAt}">${timeLeft(sla.dueAt, now)}</span>)`;
}

/** A timeline event in a few words: its type and the plain values that say what happened (no ids of people). */
const eventWords = (event: { type: string; data: Record<string, unknown> }) => {
  const details = ['source', 'type', 'channel', 'reason', 'how', 'status']
    .filter((key) => key in event.data && typeof event.data[key] !== 'object' && event.data[key] !== '')
    .map((key) => `${key}: ${String(event.data[key])}`);
  return details.length ? `${event.type.replaceAll('_', ' ')} (${details.join(', ')})` : event.type.replaceAll('_', ' ');
};

export interface LeadPageForms {
  /** Where the form of `action` posts. */
  action: (action: PageAction) => string;
  /** Hidden fields every form carries (the inbox's CSRF token and form id). */
  hidden?: Record<string, string>;
}

/** The lead as its owner sees it: profile, score and why, SLA, what the lead did, and a form per action. */
export async function leadPageBody(deps: Pick<ApiDeps, 'sql'>, lead: LeadView, { action, hidden = {} }: LeadPageForms, footer: Body = '') {
  const timeline = (await readTimeline(deps.sql, lead.leadId)).slice(-20).reverse();
  const open = !closedStatuses.includes(lead.status);
  const explanation = `${lead.score ?? 'no score'}${lead.scoreBreakdown.length ? ` = ${lead.scoreBreakdown.map((l) => `${l.reason} ${l.points > 0 ? '+' : ''}${l.points}`).join(', ')}` : ''}`;
  const options = (values: readonly string[]) =>
    values.map((value) => html`<option value="${value}">${value.replaceAll('_', ' ')}</option>`);
  const fields = Object.entries(hidden).map(([name, value]) => html`<input type="hidden" name="${name}" value="${value}" />`);
  const noteForm = (name: 'call' | 'email', label: string, button: string) =>
    html`<form method="post" action="${action(name)}">
      ${fields}<label>${label} <input name="note" maxlength="2000" /></label> <button type="submit">${button}</button>
    </form>`;
  // Disqualify and recycle: a standard reason, and a note that `other` needs.
  const reasonForm = (name: 'disqualify' | 'recycle', reasons: readonly string[], button: string) =>
    html`<form method="post" action="${action(name)}">
      ${fields}<label
        >Reason
        <select name="reason">
          ${options(reasons)}
        </select></label
      >
      <label>Note (needed for other) <input name="note" maxlength="2000" /></label> <button type="submit">${button}</button>
    </form>`;
  const forms = open
    ? html`<h2>Act</h2>
        ${lead.status === 'sql' ? html`<form method="post" action="${action('accept')}">${fields}<button type="submit">Accept</button></form>` : ''}
        ${noteForm('call', 'Call note', 'Log call')} ${noteForm('email', 'Email note', 'Log email')}
        ${reasonForm('disqualify', disqualificationReasons, 'Disqualify')} ${reasonForm('recycle', recycleReasons, 'Recycle')}
        <form method="post" action="${action('convert')}">
          ${fields}<label>Opportunity <input name="name" maxlength="300" /></label>
          <label>Amount <input name="amount" inputmode="decimal" /></label>
          <button type="submit">Convert</button>
        </form>`
    : html`<p>This lead is closed and takes no more actions.</p>`;
  return html`<dl>
      <dt>Title</dt>
      <dd>${lead.title ?? '—'}</dd>
      <dt>Source</dt>
      <dd>${lead.source.replaceAll('_', ' ')}</dd>
      <dt>Status</dt>
      <dd id="status">${lead.status}</dd>
      <dt>Score</dt>
      <dd>${explanation}</dd>
      <dt>SLA</dt>
      <dd id="sla">${slaWords(lead.sla)}</dd>
    </dl>
    ${forms}
    <h2>What the lead did</h2>
    <ul id="timeline">
      ${timeline.map((event) => html`<li>${event.at}: ${eventWords(event)}</li>`)}
    </ul>
    ${footer}`;
}

/**
 * Takes a posted form's action on the lead as its rep, as `POST /leads/{id}/<action>` would
 * (api/lead-actions.ts), and answers the page's title; refusals in words that name nobody.
 * `notOwned` is what a rep who does not (or no longer) own the lead reads.
 */
export async function actOnLead(
  deps: Pick<ApiDeps, 'sql' | 'temporal'>,
  { leadId, repId, action }: { leadId: string; repId: string; action: PageAction },
  form: Record<string, string | File | (string | File)[]>,
  { updateId, notOwned }: { updateId: string; notOwned: PageRefusal },
): Promise<string> {
  const effect = linkActionEffects[action];
  const parsed = actionBodies[effect.name].safeParse(bodyFrom(action, form));
  if (!parsed.success) {
    const problem = validationFailed(parsed.error, 'body');
    const fields = (problem.details ?? []).map((d) => `${d.path.replace(/^opportunity\./, '')} ${d.message}`).join('; ');
    throw new PageRefusal(400, 'Check the form', `Not done: ${fields}.`);
  }
  try {
    await takeAction(deps, leadId, effect.name, parsed.data as object, { role: 'rep', repId }, { updateId });
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    if (error.status === 404) throw notOwned;
    if (error.status === 409) {
      const state = await findLeadState(deps.sql, leadId);
      const status = state?.status as LeadStatus | undefined;
      if (status && closedStatuses.includes(status))
        throw new PageRefusal(409, 'This lead is closed', `It is ${status} and takes no more actions.`);
      if (action === 'accept' && status === 'accepted') throw new PageRefusal(409, 'Already accepted', 'This lead is already accepted.');
      throw new PageRefusal(409, 'Not possible now', `${error.message}.`);
    }
    throw error;
  }
  return doneTitles[action];
}
