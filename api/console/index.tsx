import { randomBytes } from 'node:crypto';
import { Hono, type Context } from 'hono';
import { createMiddleware } from 'hono/factory';
import {
  checkConsoleSessionToken,
  consolePages,
  consoleRoles,
  consoleSessionToken,
  consoleSessionValidForMs,
  mayOpen,
  type ConsoleRole,
  type ConsoleSession,
} from '../../domain/console-session';
import { hashKey, type Role } from '../auth';
import type { ApiDeps } from '../context';
import { ApiError } from '../errors';
import { PageRefusal } from '../lead-page';
import { pageSessions } from '../page-session';
import { apiCaller, type AppFetch } from './api-client';
import { consoleScript } from './script';
import { refusalPage, render, consoleScriptUrl, type ConsoleEnv } from './ui';
import { teamPages } from './teams';
import { repPages } from './reps';
import { accountPages } from './accounts';
import { sourcePages } from './sources';
import { templatePages } from './templates';
import { cadencePages } from './cadences';
import { scoringModelPages } from './scoring-models';
import { routingPreviewPages } from './routing-preview';
import { routingLogPages } from './routing-log';

const signedOut = new PageRefusal(401, 'Signed out', 'Your session ended: sign in again.');
const notYours = new PageRefusal(403, 'Not for your role', 'This page is not one of your role’s.');
const forged = new PageRefusal(403, 'Form not accepted', 'This form did not come from your console: open the page again and retry.');

const SignIn = ({ message }: { message?: string }) => (
  <>
    {message ? <p role="alert">{message}</p> : null}
    <form method="post" action="/console/sign-in">
      <label>
        API key (ops or marketing) <input type="password" name="key" autocomplete="current-password" required maxlength={500} />
      </label>{' '}
      <button type="submit">Sign in</button>
    </form>
  </>
);

/**
 * The console (docs/features/console.md): ops and marketing run the service from a browser. It is a
 * client of the API: each page reads and writes through the API's own routes with the signed-in
 * key (api/console/api-client.ts), so it can do nothing the key could not over HTTP. Sign-in takes
 * an ops or marketing key of `API_KEYS`; the session is the rep inbox's cookie machinery
 * (api/page-session.ts) with a sealed token of its own (domain/console-session.ts). Without
 * ACTION_LINK_SECRET, the key of those sessions, the console is not in use (404), as the inbox.
 */
export function consoleRoutes(
  deps: ApiDeps,
  { appFetch, roleOfKey }: { appFetch: AppFetch; roleOfKey: (keyHash: string) => Role | undefined },
) {
  const secret = () => {
    if (!deps.actionLinkSecret) throw new ApiError(404, 'not_found', 'the console is not in use here');
    return deps.actionLinkSecret;
  };
  const consoleRole = (key: string) => {
    const role = key.length <= 500 ? roleOfKey(hashKey(key)) : undefined;
    return (consoleRoles as readonly string[]).includes(role ?? '') ? (role as ConsoleRole) : undefined;
  };
  const sessions = pageSessions<ConsoleSession>(deps, secret, {
    cookie: 'console_session',
    path: '/console',
    validForMs: consoleSessionValidForMs,
    token: consoleSessionToken,
    // A key taken out of API_KEYS since (a restart with other keys) ends its sessions.
    check: (key, token) => {
      const session = checkConsoleSessionToken(key, token);
      return session && consoleRole(session.apiKey) === session.role ? session : undefined;
    },
  });
  const api = (c: Context<ConsoleEnv>) => apiCaller(appFetch, c, c.get('consoleSession').apiKey, c.get('formKey'));

  /** Every page but sign-in: a session of a role the page is for, and on a POST the session's CSRF token. */
  const signedIn = createMiddleware<ConsoleEnv>(async (c, next) => {
    const session = await sessions.read(c);
    if (!session) return refusalPage(c, signedOut, <SignIn />);
    c.set('consoleSession', session);
    c.set('csrf', sessions.csrf(session));
    const name = c.req.path.split('/')[2] ?? '';
    if (!mayOpen(session.role, name)) return refusalPage(c, notYours);
    if (c.req.method === 'POST') {
      const form = await c.req.parseBody({ all: true }).catch(() => ({}));
      if (!sessions.csrfMatches(session, form)) return refusalPage(c, forged);
      // One write per rendered form: the same form sent twice (a double click, a reload of the
      // answer) is one Idempotency-Key to the API, which answers the first result again.
      const formId = (form as Record<string, unknown>).form;
      if (typeof formId === 'string' && formId.length <= 40) c.set('formKey', `${session.sessionId}.${c.req.path}.${formId}`);
    }
    await next();
  });

  const pages = new Hono<ConsoleEnv>();
  for (const module of [
    teamPages,
    repPages,
    accountPages,
    sourcePages,
    routingPreviewPages,
    routingLogPages,
    templatePages,
    cadencePages,
    scoringModelPages,
  ])
    pages.route('/', module(api));

  return (
    new Hono<ConsoleEnv>()
      .get(consoleScriptUrl, (c) =>
        c.body(consoleScript, 200, { 'content-type': 'text/javascript; charset=utf-8', 'cache-control': 'no-cache' }),
      )
      // Without the secret no console (404); every page holds what the session may see, and some a secret shown once: never cached.
      .use('/console/*', async (c, next) => {
        secret();
        await next();
        c.header('Cache-Control', 'no-store');
      })
      .get('/console', async (c) => {
        const session = await sessions.read(c);
        if (!session) return render(c, 'Sign in to the console', <SignIn />);
        return c.redirect(`/console/${consolePages[session.role][0]}`, 303);
      })
      .post('/console/sign-in', async (c) => {
        // Sign-in has no session to take a CSRF token from: a form of another site (signing the
        // browser in as someone else) is told apart by the browser's own Sec-Fetch-Site. Not by
        // Origin, which a TLS-terminating proxy makes differ from the URL the app sees.
        if (c.req.header('sec-fetch-site') === 'cross-site') return refusalPage(c, forged);
        const form = await c.req.parseBody().catch(() => ({}) as Record<string, unknown>);
        const key = typeof form.key === 'string' ? form.key.trim() : '';
        const role = consoleRole(key);
        if (!role) return render(c, 'Not signed in', <SignIn message="That key is not an ops or marketing key." />, 401);
        sessions.start(c, { role, sessionId: randomBytes(16).toString('base64url'), apiKey: key });
        return c.redirect(`/console/${consolePages[role][0]}`, 303);
      })
      .post('/console/sign-out', async (c) => {
        const session = await sessions.read(c);
        const form = await c.req.parseBody().catch(() => ({}));
        if (session && !sessions.csrfMatches(session, form)) return refusalPage(c, forged);
        sessions.end(c);
        return c.redirect('/console', 303);
      })
      .use('/console/*', signedIn)
      .route('/', pages)
  );
}
