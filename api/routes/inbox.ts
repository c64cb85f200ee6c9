import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { html } from 'hono/html';
import { enqueueSignInEmail, repIsActive, spendSignInNonce } from '../../db/inbox';
import { listLeads } from '../../db/leads';
import { linkActions } from '../../domain/action-links';
import { checkSessionToken, checkSignInToken, inboxOrder, sessionToken, sessionValidForMs, type InboxSession } from '../../domain/inbox';
import { hashKey } from '../auth';
import type { ApiDeps, AppEnv } from '../context';
import { ApiError } from '../errors';
import { actOnLead, leadPageBody, page, PageRefusal, privatePage, slaWords, type PageAction } from '../lead-page';
import { leadIdParam, readLead } from '../lead-view';
import { pageSessions } from '../page-session';

/** The inbox's one script, a file rather than inline (the CSP allows no inline script): the SLA countdown. */
export const inboxScriptUrl = '/inbox/assets/inbox.js';

/**
 * Counts every `data-due` element down once a second. Without it the page shows the time left as
 * rendered; nothing on the page needs it.
 */
const countdownScript = `
const left = (dueAt) => {
  const seconds = Math.round((Date.parse(dueAt) - Date.now()) / 1000);
  const abs = Math.abs(seconds);
  const span = abs >= 3600 ? Math.floor(abs / 3600) + ' h ' + Math.floor((abs % 3600) / 60) + ' min' : Math.floor(abs / 60) + ' min ' + (abs % 60) + ' s';
  return seconds >= 0 ? span + ' left' : 'overdue by ' + span;
};
const tick = () => document.querySelectorAll('[data-due]').forEach((el) => { el.textContent = left(el.dataset.due); });
tick();
setInterval(tick, 1000);
`;

const cookieName = 'inbox_session';
/** The most open leads the inbox lists: far above any rep's capacity (reps.capacity). */
const inboxLimit = 200;
const pageActions = linkActions.filter((action): action is PageAction => action !== 'open');

const htmlAnswer = (description: string) => ({ description, content: { 'text/html': { schema: z.string() } } });
const pageErrors = (...statuses: number[]) => Object.fromEntries(statuses.map((status) => [status, htmlAnswer('a page saying why not')]));
const tokenParam = z.object({
  token: z
    .string()
    .max(400)
    .meta({ param: { name: 'token', in: 'path' }, description: 'the signed token of the sign-in link in the email' }),
});
const actionParams = leadIdParam.extend({ action: z.enum(pageActions).meta({ param: { name: 'action', in: 'path' } }) });

const signInRefusals = {
  malformed: new PageRefusal(400, 'Not a link we sent', 'This is not a sign-in link from us.'),
  bad_signature: new PageRefusal(403, 'Link not valid', 'This link was changed or signed with another key.'),
  expired: new PageRefusal(410, 'Link expired', 'Sign-in links last 15 minutes: ask for a new one.'),
};
const spent = new PageRefusal(410, 'Link already used', 'A sign-in link works once: ask for a new one.');
const signedOut = new PageRefusal(401, 'Signed out', 'Your session ended: sign in again.');
/** Another rep's lead reads as no lead at all, as in the API (docs/operations/security.md#what-each-role-can-see). */
const notInInbox = new PageRefusal(404, 'Not in your inbox', 'There is no such lead among yours.');
const forged = new PageRefusal(
  403,
  'Form not accepted',
  'This form did not come from your inbox: open the lead from your inbox and try again.',
);

/**
 * The rep's inbox (docs/features/rep-inbox.md): sign in by the rep's API key or by a link emailed
 * to the rep, then the rep's open leads, SLA due first, each with the lead page of the action links
 * (api/lead-page.ts). The session is a signed token (domain/inbox.ts) in an HttpOnly, SameSite=Strict
 * cookie, Secure where the API is reached over https; every form carries the session's CSRF token.
 * Without ACTION_LINK_SECRET the inbox is not in use (404), as `/act`.
 */
export function inboxRoutes(deps: ApiDeps, { repOfKey }: { repOfKey: (keyHash: string) => Promise<string | undefined> }) {
  const secret = () => {
    if (!deps.actionLinkSecret) throw new ApiError(404, 'not_found', 'the rep inbox is not in use here');
    return deps.actionLinkSecret;
  };
  const answer = (c: Context<AppEnv>, title: string, body: Parameters<typeof page>[1], status: 200 | PageRefusal['status'] = 200) =>
    c.html(page(title, body, { script: inboxScriptUrl }), status, privatePage);
  const refused = (c: Context<AppEnv>, error: unknown) => {
    if (!(error instanceof PageRefusal)) throw error;
    if (error === signedOut) return answer(c, error.title, signInForms(error.message), error.status);
    return answer(
      c,
      error.title,
      html`<p>${error.message}</p>
        <p><a href="/inbox">Your inbox</a></p>`,
      error.status,
    );
  };

  const sessions = pageSessions<InboxSession>(deps, secret, {
    cookie: cookieName,
    path: '/inbox',
    validForMs: sessionValidForMs,
    token: sessionToken,
    // A rep deactivated since signing in has no session.
    check: async (key, token) => {
      const session = checkSessionToken(key, token);
      return 'problem' in session || !(await repIsActive(deps.sql, session.repId)) ? undefined : session;
    },
  });
  const signIn = async (c: Context<AppEnv>, repId: string) => {
    sessions.start(c, { repId, sessionId: randomBytes(16).toString('base64url') });
    return c.redirect('/inbox', 303);
  };
  /** The signed-in rep, or undefined: no cookie, a bad or expired one, or a rep deactivated since. */
  const sessionOf = (c: Context<AppEnv>) => sessions.read(c);
  const requireSession = async (c: Context<AppEnv>) => {
    const session = await sessionOf(c);
    if (!session) throw signedOut;
    return session;
  };
  const requireCsrf = (session: InboxSession, form: Record<string, unknown>) => {
    if (!sessions.csrfMatches(session, form)) throw forged;
  };
  const formFields = (session: InboxSession) => ({ csrf: sessions.csrf(session), form: randomBytes(9).toString('base64url') });

  const signInForms = (message?: string) =>
    html`${message ? html`<p role="alert">${message}</p>` : ''}
      <form method="post" action="/inbox/sign-in">
        <label>Email <input type="email" name="email" autocomplete="email" required maxlength="320" /></label>
        <button type="submit">Email me a sign-in link</button>
      </form>
      <p>or</p>
      <form method="post" action="/inbox/sign-in">
        <label>API key <input type="password" name="key" autocomplete="current-password" required maxlength="500" /></label>
        <button type="submit">Sign in with my key</button>
      </form>`;

  const inboxPage = async (c: Context<AppEnv>, session: InboxSession) => {
    const { leads } = await listLeads(deps.sql, { ownerId: session.repId, status: ['sql', 'accepted'], limit: inboxLimit });
    const { csrf } = formFields(session);
    const rows = inboxOrder(leads).map(
      ({ lead, routing }) =>
        html`<tr data-lead="${lead.leadId}">
          <td><a href="/inbox/leads/${lead.leadId}">${lead.profile.company ?? lead.leadId}</a></td>
          <td>${lead.status}</td>
          <td>${routing.priority ?? '—'}</td>
          <td>
            ${slaWords({ dueAt: routing.dueAt, respondedAt: routing.respondedAt, responseMs: routing.responseMs, breaches: routing.breaches })}
          </td>
        </tr>`,
    );
    return answer(
      c,
      'Your leads',
      html`${
          rows.length
            ? html`<table id="leads">
                <thead>
                  <tr>
                    <th>Lead</th>
                    <th>Status</th>
                    <th>Priority</th>
                    <th>SLA</th>
                  </tr>
                </thead>
                <tbody>
                  ${rows}
                </tbody>
              </table>`
            : html`<p>No open leads: nothing waits for you.</p>`
        }
        <form method="post" action="/inbox/sign-out">
          <input type="hidden" name="csrf" value="${csrf}" /><button type="submit">Sign out</button>
        </form>`,
    );
  };

  const readOwnLead = async (session: InboxSession, leadId: string) => {
    try {
      return await readLead(
        deps,
        leadId,
        { role: 'rep', repId: session.repId },
        { temporalUiUrl: deps.temporalUiUrl, namespace: deps.namespace },
      );
    } catch (error) {
      if (error instanceof ApiError && error.status === 404) throw notInInbox;
      throw error;
    }
  };

  return new OpenAPIHono<AppEnv>()
    .openapi(
      createRoute({
        method: 'get',
        path: '/inbox',
        tags: ['rep inbox'],
        summary: "The signed-in rep's open leads, SLA due first; without a session, the sign-in forms",
        responses: {
          200: htmlAnswer('the inbox, or the sign-in page'),
          404: htmlAnswer('the inbox is not in use here (no ACTION_LINK_SECRET)'),
        },
      }),
      async (c) => {
        secret();
        const session = await sessionOf(c);
        return session ? inboxPage(c, session) : answer(c, 'Sign in to your leads', signInForms());
      },
    )
    .openapi(
      createRoute({
        method: 'post',
        path: '/inbox/sign-in',
        tags: ['rep inbox'],
        summary: 'Sign in by the rep’s API key (form field key), or ask for a sign-in link by email (form field email)',
        responses: {
          200: htmlAnswer('email: the same page whether or not the address is a rep’s'),
          303: { description: 'key: signed in, the session cookie set, on to /inbox' },
          ...pageErrors(400, 401, 404),
        },
      }),
      async (c) => {
        try {
          secret();
          const form = await c.req.parseBody().catch(() => ({}) as Record<string, unknown>);
          const key = typeof form.key === 'string' ? form.key.trim() : '';
          const email = typeof form.email === 'string' ? form.email.trim() : '';
          if (key) {
            const repId = key.length <= 500 ? await repOfKey(hashKey(key)) : undefined;
            if (!repId || !(await repIsActive(deps.sql, repId))) {
              return answer(c, 'Not signed in', signInForms('That key is not an active rep’s key.'), 401);
            }
            return await signIn(c, repId);
          }
          if (!email || email.length > 320 || !email.includes('@'))
            throw new PageRefusal(400, 'Check the form', 'Give your email address or your API key.');
          await enqueueSignInEmail(deps.sql, email, randomUUID());
          // The same words for any address: the page must not tell who is a rep.
          return answer(
            c,
            'Check your email',
            html`<p>If that address is a rep’s, a sign-in link is on its way. It works once, within 15 minutes.</p>`,
          );
        } catch (error) {
          return refused(c, error);
        }
      },
    )
    .openapi(
      createRoute({
        method: 'get',
        path: '/inbox/sign-in/{token}',
        tags: ['rep inbox'],
        summary: 'The page behind an emailed sign-in link: a button that signs in (opening it spends nothing)',
        request: { params: tokenParam },
        responses: { 200: htmlAnswer('a button that posts to the same link'), ...pageErrors(400, 403, 404, 410) },
      }),
      async (c) => {
        try {
          const { token } = c.req.valid('param');
          const link = checkSignInToken(secret(), token);
          if ('problem' in link) throw signInRefusals[link.problem];
          // Mail scanners follow links: only the button's POST spends the link.
          return answer(
            c,
            'Sign in to your leads',
            html`<form method="post" action="/inbox/sign-in/${token}"><button type="submit">Sign in</button></form>`,
          );
        } catch (error) {
          return refused(c, error);
        }
      },
    )
    .openapi(
      createRoute({
        method: 'post',
        path: '/inbox/sign-in/{token}',
        tags: ['rep inbox'],
        summary: 'Sign in with an emailed link: once, within 15 minutes of its sending',
        request: { params: tokenParam },
        responses: { 303: { description: 'signed in, the session cookie set, on to /inbox' }, ...pageErrors(400, 403, 404, 410) },
      }),
      async (c) => {
        try {
          const link = checkSignInToken(secret(), c.req.valid('param').token);
          if ('problem' in link) throw signInRefusals[link.problem];
          if (!(await spendSignInNonce(deps.sql, link.nonce, link.expiresAt))) throw spent;
          if (!(await repIsActive(deps.sql, link.repId))) throw new PageRefusal(403, 'Not signed in', 'This rep can no longer sign in.');
          return await signIn(c, link.repId);
        } catch (error) {
          return refused(c, error);
        }
      },
    )
    .openapi(
      createRoute({
        method: 'post',
        path: '/inbox/sign-out',
        tags: ['rep inbox'],
        summary: 'End the session (form field csrf)',
        responses: { 303: { description: 'signed out, on to the sign-in page' }, ...pageErrors(401, 403, 404) },
      }),
      async (c) => {
        try {
          const session = await requireSession(c);
          requireCsrf(session, await c.req.parseBody().catch(() => ({})));
          sessions.end(c);
          return c.redirect('/inbox', 303);
        } catch (error) {
          return refused(c, error);
        }
      },
    )
    .openapi(
      createRoute({
        method: 'get',
        path: '/inbox/leads/{id}',
        tags: ['rep inbox'],
        summary: "One of the signed-in rep's leads, with a form per action (another rep's lead: 404, as no lead)",
        request: { params: leadIdParam },
        responses: { 200: htmlAnswer('the lead page'), ...pageErrors(401, 404) },
      }),
      async (c) => {
        try {
          const session = await requireSession(c);
          const lead = await readOwnLead(session, c.req.valid('param').id);
          const fields = formFields(session);
          return answer(
            c,
            lead.company ?? 'Lead',
            leadPageBody(
              deps,
              lead,
              { action: (name) => `/inbox/leads/${lead.leadId}/${name}`, hidden: fields },
              html`<p><a href="/inbox">Your inbox</a></p>`,
            ),
          );
        } catch (error) {
          return refused(c, error);
        }
      },
    )
    .openapi(
      createRoute({
        method: 'post',
        path: '/inbox/leads/{id}/{action}',
        tags: ['rep inbox'],
        summary: 'Act on one of the signed-in rep’s leads (form fields csrf, form, and note, reason, name, amount as the action needs)',
        request: { params: actionParams },
        responses: { 200: htmlAnswer('a page saying what was done'), ...pageErrors(400, 401, 403, 404, 409) },
      }),
      async (c) => {
        try {
          const { id, action } = c.req.valid('param');
          const session = await requireSession(c);
          const form = await c.req.parseBody().catch(() => ({}) as Record<string, string>);
          requireCsrf(session, form);
          // One action per rendered form: a double click (or a resent POST) is the same update, which Temporal applies once.
          const formId = typeof form.form === 'string' ? form.form.slice(0, 40) : randomUUID();
          const digest = createHash('sha256').update([session.sessionId, id, action, formId].join('.')).digest('base64url').slice(0, 22);
          const title = await actOnLead(deps, { leadId: id, repId: session.repId, action }, form, {
            updateId: `inbox-${digest}`,
            notOwned: notInInbox,
          });
          return answer(c, title, html`<p><a href="/inbox/leads/${id}">Back to the lead</a> · <a href="/inbox">Your inbox</a></p>`);
        } catch (error) {
          return refused(c, error);
        }
      },
    )
    .get(inboxScriptUrl, (c) =>
      c.body(countdownScript, 200, { 'content-type': 'text/javascript; charset=utf-8', 'cache-control': 'no-cache' }),
    );
}
