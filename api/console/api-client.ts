import { createHash } from 'node:crypto';
import type { Context } from 'hono';

/** The app's own `fetch` (api/app.ts hands it over): the console's one way to the data. */
export type AppFetch = (request: Request, env: unknown) => Response | Promise<Response>;

export interface ApiAnswer {
  status: number;
  body: any;
}

/**
 * The API's error body (api/errors.ts) as the console shows it: the message, and each field it
 * names with what is wrong, so the form can put the message beside the field.
 */
export interface ApiRefusal {
  status: number;
  message: string;
  fields: Record<string, string>;
}

/**
 * Calls the API in-process with the session's key as bearer, through the whole middleware chain
 * (authentication, role, validation, body limit, rate limits, idempotency). Chosen over calling
 * the routes' handler functions: a console form can then do exactly what its key can do over
 * HTTP and nothing else, answers with the same errors, and no handler needs a second calling
 * convention. The original request's `env` is passed on, so the API's per-address limits see the
 * browser's address. `formKey` (the posted form's id) makes each POST's Idempotency-Key.
 */
export function apiCaller(appFetch: AppFetch, c: Context, apiKey: string, formKey?: string) {
  return async (method: 'GET' | 'POST' | 'PATCH', path: string, body?: unknown): Promise<ApiAnswer> => {
    const headers: Record<string, string> = { authorization: `Bearer ${apiKey}` };
    if (formKey && method === 'POST')
      headers['idempotency-key'] = `console-${createHash('sha256').update(`${formKey}.${path}`).digest('base64url').slice(0, 32)}`;
    const forwarded = c.req.header('x-forwarded-for');
    if (forwarded) headers['x-forwarded-for'] = forwarded;
    if (body !== undefined) headers['content-type'] = 'application/json';
    const request = new Request(new URL(path, c.req.url), { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    const response = await appFetch(request, c.env);
    const text = await response.text();
    return { status: response.status, body: text && response.headers.get('content-type')?.includes('json') ? JSON.parse(text) : text };
  };
}
export type ApiCall = ReturnType<typeof apiCaller>;

/** A 4xx answer as a refusal to show on the form; anything else is not the form's fault and is thrown. */
export function refusalOf(answer: ApiAnswer): ApiRefusal {
  if (answer.status < 400 || answer.status >= 500)
    throw new Error(`the API answered ${answer.status}: ${JSON.stringify(answer.body).slice(0, 300)}`);
  const error = answer.body?.error ?? {};
  const fields: Record<string, string> = {};
  for (const detail of (error.details ?? []) as { path: string; message: string }[]) fields[detail.path] ??= detail.message;
  return { status: answer.status, message: String(error.message ?? `refused (${answer.status})`), fields };
}
