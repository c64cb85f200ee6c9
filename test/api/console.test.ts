import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { consoleSessionToken } from '../../domain/console-session';
import { sessionToken } from '../../domain/inbox';
import { alwaysOpen as hours } from '../support/fixtures';
import { freshDatabase, startService, type ServiceUnderTest } from '../support/helpers';

/**
 * `/console` over HTTP, without a browser: who may sign in, which cookies are sessions, the CSRF
 * token, the console writing only through the API (an API refusal is the form's), and without
 * ACTION_LINK_SECRET no console.
 */
const secret = `console-api-${randomUUID()}`;
let service: ServiceUnderTest;
const ops = { key: 'ops-dev' };
const later = () => new Date(Date.now() + 3600_000);

beforeAll(async () => {
  service = await startService({
    databaseUrl: await freshDatabase('console_api'),
    actionLinkSecret: secret,
    config: { unauthenticated: { perAddress: { requests: 12, per: 'PT1M' } } },
  });
}, 120_000);
afterAll(async () => service?.close());

const get = (path: string, cookie?: string) =>
  fetch(`${service.baseUrl}${path}`, { headers: cookie ? { cookie } : {}, redirect: 'manual' });
const post = (path: string, form: Record<string, string>, cookie?: string) =>
  fetch(`${service.baseUrl}${path}`, {
    method: 'POST',
    body: new URLSearchParams(form),
    headers: cookie ? { cookie } : {},
    redirect: 'manual',
  });
const signIn = async (key: string) => {
  const answer = await post('/console/sign-in', { key });
  return { answer, cookie: answer.headers.get('set-cookie')?.split(';')[0] };
};
const csrfOf = async (cookie: string, path: string) => /name="csrf" value="([^"]+)"/.exec(await (await get(path, cookie)).text())![1]!;

describe('/console over HTTP', () => {
  it('signs in ops and marketing keys only, with a sealed HttpOnly SameSite=Strict cookie for /console', async () => {
    for (const key of ['capture-dev', 'metrics-dev', 'not-a-key', 'x'.repeat(600)]) {
      const { answer } = await signIn(key);
      expect(answer.status).toBe(401);
      expect(answer.headers.get('set-cookie')).toBeNull();
    }
    const { answer, cookie } = await signIn('ops-dev');
    expect(answer.status).toBe(303);
    expect(answer.headers.get('location')).toBe('/console/teams');
    expect(answer.headers.get('set-cookie')).toMatch(
      /^console_session=k1\.[^;]+; Max-Age=43200; Path=\/console; HttpOnly; SameSite=Strict$/,
    );
    expect(cookie).not.toContain('ops-dev');
    expect((await get('/console/teams', cookie)).status).toBe(200);
    expect((await signIn('marketing-dev')).answer.headers.get('location')).toBe('/console/templates');
    // Another site's form posting a key of its own (to sign the browser in as someone else): refused.
    const crossSite = await fetch(`${service.baseUrl}/console/sign-in`, {
      method: 'POST',
      body: new URLSearchParams({ key: 'ops-dev' }),
      headers: { 'sec-fetch-site': 'cross-site' },
      redirect: 'manual',
    });
    expect(crossSite.status).toBe(403);
    expect(crossSite.headers.get('set-cookie')).toBeNull();
  });

  it('takes no cookie but its own: tampered, expired, another secret, an inbox session', async () => {
    const good = consoleSessionToken(secret, { role: 'ops', sessionId: 's', apiKey: 'ops-dev' }, later());
    expect((await get('/console/teams', `console_session=${good}`)).status).toBe(200);
    for (const token of [
      `${good.slice(0, -2)}${good.endsWith('A') ? 'B' : 'A'}A`,
      consoleSessionToken(secret, { role: 'ops', sessionId: 's', apiKey: 'ops-dev' }, new Date(Date.now() - 1000)),
      consoleSessionToken('another-secret', { role: 'ops', sessionId: 's', apiKey: 'ops-dev' }, later()),
      // A session sealed with a key that is not (or no longer) in API_KEYS.
      consoleSessionToken(secret, { role: 'ops', sessionId: 's', apiKey: 'retired-key' }, later()),
      // The right key under the wrong role.
      consoleSessionToken(secret, { role: 'ops', sessionId: 's', apiKey: 'marketing-dev' }, later()),
      sessionToken(secret, { repId: 'rep-1', sessionId: 's' }, later()),
    ]) {
      const answer = await get('/console/teams', `console_session=${token}`);
      expect(answer.status).toBe(401);
      expect(await answer.text()).toContain('Sign in');
    }
  });

  it('refuses a form without its session’s CSRF token, and shows the API’s refusal of a bad one', async () => {
    const { cookie } = await signIn('ops-dev');
    const other = (await signIn('ops-dev')).cookie!;
    const foreignCsrf = await csrfOf(other, '/console/accounts');
    const form = { domain: `csrf-${randomUUID().slice(0, 6)}.io`, name: 'Csrf' };
    expect((await post('/console/accounts', form, cookie)).status).toBe(403);
    expect((await post('/console/accounts', { ...form, csrf: foreignCsrf }, cookie)).status).toBe(403);
    expect((await service.request('GET', '/accounts', { key: 'ops-dev' })).body.accounts).toEqual([]);

    const csrf = await csrfOf(cookie!, '/console/accounts');
    const refused = await post('/console/accounts', { csrf, domain: 'not a domain', name: 'Bad' }, cookie);
    expect(refused.status).toBe(400);
    expect(await refused.text()).toMatch(/data-error-for="domain"[^>]*>\s*must be a domain such as acme.io/);
    const saved = await post('/console/accounts', { csrf, ...form }, cookie);
    expect(saved.status).toBe(303);
    expect((await service.request('GET', '/accounts', { key: 'ops-dev' })).body.accounts).toEqual([
      expect.objectContaining({ domain: form.domain }),
    ]);
  });

  it('signs out: the cookie cleared', async () => {
    const { cookie } = await signIn('marketing-dev');
    const csrf = await csrfOf(cookie!, '/console/templates');
    const out = await post('/console/sign-out', { csrf }, cookie);
    expect(out.status).toBe(303);
    expect(out.headers.get('set-cookie')).toMatch(/^console_session=; Max-Age=0; Path=\/console/);
  });

  it('cuts off wrong keys from one address with 429', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 15; i++) statuses.push((await signIn(`wrong-${i}`)).answer.status);
    expect(statuses).toContain(429);
  });

  // The API route the console's team edit calls; here, on this file's own database, where no other test's leads look for a team in XK or XL.
  it('PATCH /teams/{id} changes exactly the fields it names, keeps the routing order, and names bad fields', async () => {
    const suffix = randomUUID().slice(0, 6);
    const made = await service.request('POST', '/teams', {
      ...ops,
      body: { id: `team-patch-${suffix}`, name: 'Patch', countries: ['xk'], businessHours: hours },
    });
    expect(made.status).toBe(201);
    const order = async () => ((await service.request('GET', '/teams', ops)).body.teams as { id: string }[]).map((t) => t.id);
    const before = await order();

    const widened = await service.request('PATCH', `/teams/${made.body.id}`, {
      ...ops,
      body: { countries: ['xk', 'xl'], segments: ['enterprise'] },
    });
    expect(widened.status).toBe(200);
    expect(widened.body).toEqual({ ...made.body, countries: ['XK', 'XL'], segments: ['enterprise'] });
    const hoursChanged = await service.request('PATCH', `/teams/${made.body.id}`, {
      ...ops,
      body: { businessHours: { timeZone: 'Europe/Belgrade', days: [1, 2], start: '08:00', end: '16:00' } },
    });
    expect(hoursChanged.body).toEqual({
      ...widened.body,
      businessHours: { timeZone: 'Europe/Belgrade', days: [1, 2], start: '08:00', end: '16:00' },
    });
    expect(await order()).toEqual(before);

    const bad = await service.request('PATCH', `/teams/${made.body.id}`, {
      ...ops,
      body: { countries: ['Kosovo'], managerId: 'rep-missing' },
    });
    expect(bad.status).toBe(400);
    expect(bad.body.error.details.map((d: { path: string }) => d.path)).toEqual(['countries.0']);
    const noManager = await service.request('PATCH', `/teams/${made.body.id}`, { ...ops, body: { managerId: 'rep-missing' } });
    expect(noManager.body.error.details).toEqual([{ path: 'managerId', message: 'no rep with id rep-missing' }]);
    expect((await service.request('PATCH', '/teams/team-none', { ...ops, body: { name: 'X' } })).status).toBe(404);
    expect((await service.request('PATCH', `/teams/${made.body.id}`, { key: 'marketing-dev', body: { name: 'X' } })).status).toBe(403);
    expect((await service.request('GET', '/teams', ops)).body.teams).toContainEqual(hoursChanged.body);
  });

  it('is not in use without ACTION_LINK_SECRET: 404', async () => {
    const bare = await startService({ databaseUrl: await freshDatabase('console_off') });
    try {
      expect((await fetch(`${bare.baseUrl}/console`)).status).toBe(404);
      expect(
        (await fetch(`${bare.baseUrl}/console/sign-in`, { method: 'POST', body: new URLSearchParams({ key: 'ops-dev' }) })).status,
      ).toBe(404);
      expect((await fetch(`${bare.baseUrl}/console/teams`)).status).toBe(404);
    } finally {
      await bare.close();
    }
  });
});
