import { createHash, randomBytes } from 'node:crypto';
import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { html } from 'hono/html';
import type { HtmlEscapedString } from 'hono/utils/html';
import { findLeadState } from '../../db/leads';
import { readTimeline } from '../../db/timeline';
import { actionBodies } from '../../domain/action-bodies';
import { actionLinkToken, checkActionLinkToken, linkActionEffects, type ActionLink, type LinkAction } from '../../domain/action-links';
import { recycleReasons } from '../../domain/actions';
import { durationMs } from '../../domain/duration';
import { closedStatuses, disqualificationReasons, type LeadStatus } from '../../domain/lead';
import type { ApiDeps, AppEnv } from '../context';
import { ApiError, errorResponses, validationFailed } from '../errors';
import { takeAction } from '../lead-actions';
import { readLead, type LeadView } from '../lead-view';

const tokenParam = z.object({
  token: z
    .string()
    .max(1200)
    .meta({ param: { name: 'token', in: 'path' }, description: 'the signed token of the link in the alert' }),
});
const htmlAnswer = { content: { 'text/html': { schema: z.string() } } };

/** The token is the credential: kept out of caches, referrers of anything the page loads, and search engines. */
const privatePage = { 'Cache-Control': 'no-store', 'Referrer-Policy': 'no-referrer', 'X-Robots-Tag': 'noindex' };

type Body = HtmlEscapedString | Promise<HtmlEscapedString> | string;
/** Every value is escaped by `html`; no script (the CSP in app.ts allows none inline). */
const page = (title: string, body: Body) =>
  html`<!doctype html>
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width" />
        <title>${title}</title>
      </head>
      <body style="font-family:system-ui,sans-serif;max-width:40rem;margin:3rem auto;padding:0 1rem">
        <h1>${title}</h1>
        ${body}
      </body>
    </html>`;

class LinkRefusal extends Error {
  constructor(
    readonly status: 400 | 403 | 404 | 409 | 410,
    readonly title: string,
    message: string,
  ) {
    super(message);
  }
}

const refusals = {
  malformed: new LinkRefusal(400, 'Not a link we sent', 'This is not an action link from a lead alert.'),
  bad_signature: new LinkRefusal(403, 'Link not valid', 'This link was changed or signed with another key.'),
  expired: new LinkRefusal(410, 'Link expired', 'This link has expired: open the lead from a newer alert or the dashboard.'),
};
/** Names nobody: the link's rep must not learn who has the lead now. */
const reassigned = new LinkRefusal(410, 'This lead was reassigned', 'You no longer own this lead, so this link does nothing.');

const done: Record<Exclude<LinkAction, 'open'>, string> = {
  accept: 'Accepted',
  call: 'Call logged',
  email: 'Email logged',
  disqualify: 'Disqualified',
  recycle: 'Recycled',
  convert: 'Converted',
};

/** A form's fields as the action's body (domain/action-bodies.ts): empty fields are absent. */
function bodyFrom(action: Exclude<LinkAction, 'open'>, form: Record<string, string | File | (string | File)[]>): Record<string, unknown> {
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

/** A timeline event in a few words: its type and the plain values that say what happened (no ids of people). */
const eventWords = (event: { type: string; data: Record<string, unknown> }) => {
  const details = ['source', 'type', 'channel', 'reason', 'how', 'status']
    .filter((key) => key in event.data && typeof event.data[key] !== 'object' && event.data[key] !== '')
    .map((key) => `${key}: ${String(event.data[key])}`);
  return details.length ? `${event.type.replaceAll('_', ' ')} (${details.join(', ')})` : event.type.replaceAll('_', ' ');
};

/**
 * One-click action links in rep alerts (domain/action-links.ts): `/act/{token}`, no API key (the
 * signed, expiring token binds one lead, one rep and one action). GET never acts: mail scanners and
 * chat previews follow links, so it only shows the lead with buttons, each posting to a freshly
 * minted link of its own. POST takes the token's action as `POST /leads/{id}/<action>` would, with
 * the rep as the actor; a repeated POST of one token is one action (the update id is the token's hash).
 */
export function actionLinkRoutes(deps: ApiDeps) {
  const validForMs = durationMs(deps.config.notify.actionLinksValidFor);
  const linkOf = (token: string): ActionLink => {
    if (!deps.actionLinkSecret) throw new ApiError(404, 'not_found', 'action links are not in use here');
    const check = checkActionLinkToken(deps.actionLinkSecret, token);
    if ('problem' in check) throw refusals[check.problem];
    return check;
  };
  const refused = (c: Context<AppEnv>, error: unknown) => {
    if (!(error instanceof LinkRefusal)) throw error;
    return c.html(page(error.title, html`<p>${error.message}</p>`), error.status, privatePage);
  };
  /** The lead as its owner sees it; a rep who no longer owns it learns nothing more about it. */
  const leadFor = async (link: ActionLink): Promise<LeadView> => {
    try {
      return await readLead(deps, link.leadId, { role: 'rep', repId: link.repId }, { temporalUiUrl: deps.temporalUiUrl, namespace: deps.namespace });
    } catch (error) {
      if (error instanceof ApiError && error.status === 404) throw reassigned;
      throw error;
    }
  };
  const mint = (link: ActionLink, action: LinkAction, nonce: string) =>
    `/act/${actionLinkToken(deps.actionLinkSecret!, { ...link, action, nonce }, new Date(Date.now() + validForMs))}`;

  const leadPage = async (link: ActionLink, lead: LeadView) => {
    const now = Date.now();
    const timeline = (await readTimeline(deps.sql, lead.leadId)).slice(-20).reverse();
    // One nonce per page view: each view's buttons are links of their own.
    const nonce = randomBytes(9).toString('base64url');
    const action = (name: LinkAction) => mint(link, name, nonce);
    const open = !closedStatuses.includes(lead.status);
    const explanation = `${lead.score ?? 'no score'}${lead.scoreBreakdown.length ? ` = ${lead.scoreBreakdown.map((l) => `${l.reason} ${l.points > 0 ? '+' : ''}${l.points}`).join(', ')}` : ''}`;
    const options = (values: readonly string[]) => values.map((value) => html`<option value="${value}">${value.replaceAll('_', ' ')}</option>`);
    const forms = open
      ? html`<h2>Act</h2>
          ${lead.status === 'sql' ? html`<form method="post" action="${action('accept')}"><button type="submit">Accept</button></form>` : ''}
          <form method="post" action="${action('call')}">
            <label>Call note <input name="note" maxlength="2000" /></label> <button type="submit">Log call</button>
          </form>
          <form method="post" action="${action('email')}">
            <label>Email note <input name="note" maxlength="2000" /></label> <button type="submit">Log email</button>
          </form>
          <form method="post" action="${action('disqualify')}">
            <label
              >Reason
              <select name="reason">
                ${options(disqualificationReasons)}
              </select></label
            >
            <label>Note (needed for other) <input name="note" maxlength="2000" /></label> <button type="submit">Disqualify</button>
          </form>
          <form method="post" action="${action('recycle')}">
            <label
              >Reason
              <select name="reason">
                ${options(recycleReasons)}
              </select></label
            >
            <label>Note (needed for other) <input name="note" maxlength="2000" /></label> <button type="submit">Recycle</button>
          </form>
          <form method="post" action="${action('convert')}">
            <label>Opportunity <input name="name" maxlength="300" /></label> <label>Amount <input name="amount" inputmode="decimal" /></label>
            <button type="submit">Convert</button>
          </form>`
      : html`<p>This lead is closed and takes no more actions.</p>`;
    return page(
      lead.company ?? 'Lead',
      html`<dl>
          <dt>Title</dt>
          <dd>${lead.title ?? '—'}</dd>
          <dt>Source</dt>
          <dd>${lead.source.replaceAll('_', ' ')}</dd>
          <dt>Status</dt>
          <dd>${lead.status}</dd>
          <dt>Score</dt>
          <dd>${explanation}</dd>
          <dt>SLA</dt>
          <dd>
            ${lead.sla?.respondedAt ? `responded${lead.sla.responseMs === null ? '' : ` in ${responseTime(lead.sla.responseMs)}`}` : lead.sla?.dueAt ? `due ${lead.sla.dueAt} (${timeLeft(lead.sla.dueAt, now)})` : 'no SLA clock'}
          </dd>
        </dl>
        ${forms}
        <h2>What the lead did</h2>
        <ul>
          ${timeline.map((event) => html`<li>${event.at}: ${eventWords(event)}</li>`)}
        </ul>`,
    );
  };

  /** Why the action was not taken, in words that name nobody. */
  const reasonOf = async (error: ApiError, link: ActionLink): Promise<LinkRefusal> => {
    if (error.status === 404) return reassigned;
    if (error.status === 409) {
      const state = await findLeadState(deps.sql, link.leadId);
      const status = state?.status as LeadStatus | undefined;
      if (status && closedStatuses.includes(status)) return new LinkRefusal(409, 'This lead is closed', `It is ${status} and takes no more actions.`);
      if (link.action === 'accept' && status === 'accepted') return new LinkRefusal(409, 'Already accepted', 'This lead is already accepted.');
      return new LinkRefusal(409, 'Not possible now', `${error.message}.`);
    }
    throw error;
  };

  return new OpenAPIHono<AppEnv>()
    .openapi(
      createRoute({
        method: 'get',
        path: '/act/{token}',
        tags: ['action links'],
        summary: 'The page behind an action link in a rep alert: the lead, and buttons that act (no API key; never acts itself)',
        request: { params: tokenParam },
        responses: { 200: { description: 'the lead, with forms that POST to fresh action links', ...htmlAnswer }, ...errorResponses(400, 403, 404, 410) },
      }),
      async (c) => {
        try {
          const link = linkOf(c.req.valid('param').token);
          return c.html(await leadPage(link, await leadFor(link)), 200, privatePage);
        } catch (error) {
          return refused(c, error);
        }
      },
    )
    .openapi(
      createRoute({
        method: 'post',
        path: '/act/{token}',
        tags: ['action links'],
        summary: "Take the link's action as its rep (no API key; form fields note, reason, name, amount)",
        request: { params: tokenParam },
        responses: { 200: { description: 'a page saying what was done', ...htmlAnswer }, ...errorResponses(400, 403, 404, 409, 410) },
      }),
      async (c) => {
        const { token } = c.req.valid('param');
        try {
          const link = linkOf(token);
          if (link.action === 'open') throw new LinkRefusal(400, 'Nothing to do', 'This link only opens the lead.');
          const form = await c.req.parseBody().catch(() => ({}));
          const effect = linkActionEffects[link.action];
          const parsed = actionBodies[effect.name].safeParse(bodyFrom(link.action, form));
          if (!parsed.success) {
            const problem = validationFailed(parsed.error, 'body');
            const fields = (problem.details ?? []).map((d) => `${d.path.replace(/^opportunity\./, '')} ${d.message}`).join('; ');
            throw new LinkRefusal(400, 'Check the form', `Not done: ${fields}.`);
          }
          // One action per link: a double click or a replayed POST is the same update, which Temporal applies once.
          const updateId = `action-link-${createHash('sha256').update(token).digest('base64url').slice(0, 22)}`;
          try {
            await takeAction(deps, link.leadId, effect.name, parsed.data as object, { role: 'rep', repId: link.repId }, { updateId });
          } catch (error) {
            if (error instanceof ApiError) throw await reasonOf(error, link);
            throw error;
          }
          return c.html(
            page(done[link.action], html`<p><a href="${mint(link, 'open', randomBytes(9).toString('base64url'))}">Back to the lead</a></p>`),
            200,
            privatePage,
          );
        } catch (error) {
          return refused(c, error);
        }
      },
    );
}
