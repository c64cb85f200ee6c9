import type { Context } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import { csrfMatches, csrfToken } from '../domain/inbox';
import type { ApiDeps } from './context';

/**
 * The session cookie of the app's signed-in pages, the rep inbox (`/inbox`) and the console
 * (`/console`): one signed token per session in an HttpOnly, SameSite=Strict cookie scoped to the
 * pages' path, Secure where the API is reached over https, and a CSRF token derived from the
 * session id in every form (docs/operations/security.md#the-rep-inbox). Each page set brings its
 * own token kind (domain/inbox.ts, domain/console-session.ts), so a session of one is no session
 * of the other.
 */
export interface PageSessionSpec<S extends { sessionId: string }> {
  cookie: string;
  path: string;
  validForMs: number;
  token: (secret: string, session: S, expiresAt: Date) => string;
  /** The session in a token, or undefined for a bad or expired one (or a principal gone since). */
  check: (secret: string, token: string) => S | undefined | Promise<S | undefined>;
}

export function pageSessions<S extends { sessionId: string }>(
  deps: Pick<ApiDeps, 'publicBaseUrl'>,
  secret: () => string,
  spec: PageSessionSpec<S>,
) {
  return {
    /** Sets the cookie; the caller redirects. */
    start(c: Context, session: S) {
      const secure = new URL(c.req.url).protocol === 'https:' || Boolean(deps.publicBaseUrl?.startsWith('https:'));
      setCookie(c, spec.cookie, spec.token(secret(), session, new Date(Date.now() + spec.validForMs)), {
        path: spec.path,
        httpOnly: true,
        secure,
        sameSite: 'Strict',
        maxAge: spec.validForMs / 1000,
      });
      c.header('Cache-Control', 'no-store');
    },
    async read(c: Context): Promise<S | undefined> {
      const token = getCookie(c, spec.cookie);
      return token ? await spec.check(secret(), token) : undefined;
    },
    end(c: Context) {
      deleteCookie(c, spec.cookie, { path: spec.path });
    },
    csrf: (session: S) => csrfToken(secret(), session.sessionId),
    csrfMatches: (session: S, form: Record<string, unknown>) => csrfMatches(secret(), session.sessionId, form.csrf),
  };
}
