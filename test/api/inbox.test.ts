import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sessionToken, signInToken } from '../../domain/inbox';
import { startAlertMail } from '../support/alert-mail';
import { alwaysOpen as hours, salesReadyDemoRequests, captureLead } from '../support/fixtures';
import { eventually, freshDatabase, startService, type ServiceUnderTest } from '../support/helpers';

/**
 * The rep inbox through HTTP, on a database of its own (the notifier here delivers every due
 * entry in it, the sign-in emails to an SMTP server in this process): sign-in by key and by an
 * emailed link, the rep's open leads only, actions with the session's CSRF token.
 */

const secret = `inbox-secret-${randomUUID()}`;
const ops = { key: 'ops-dev' };
const suffix = randomUUID().slice(0, 6);
let service: ServiceUnderTest;
let mail: Awaited<ReturnType<typeof startAlertMail>>;
const reps: Record<'a' | 'b', { id: string; email: string; apiKey: string }> = {} as never;
const leads: Record<'a1' | 'a2' | 'b1', string> = {} as never;

const capture = async (country: string, source: string, n: number) =>
  (
    await captureLead(service, {
      email: `buyer${n}.${suffix}@prospect-${suffix}.com`,
      source,
      country,
      company: `Company ${n} & <Co>`,
      title: 'CTO',
    })
  ).leadId;
const lead = async (id: string) => (await service.request('GET', `/leads/${id}`, ops)).body;
const timeline = async (id: string) => (await service.request('GET', `/leads/${id}/timeline`, ops)).body.events as unknown[];

/** A form POST or a GET as a browser sends it, with the session cookie if given; redirects are not followed. */
async function browse(path: string, { cookie, form }: { cookie?: string; form?: Record<string, string> } = {}) {
  const response = await fetch(`${service.baseUrl}${path}`, {
    method: form ? 'POST' : 'GET',
    redirect: 'manual',
    headers: { ...(cookie && { cookie }), ...(form && { 'content-type': 'application/x-www-form-urlencoded' }) },
    ...(form && { body: new URLSearchParams(form) }),
  });
  return { status: response.status, text: await response.text(), headers: response.headers };
}
/** The cookie a sign-in set, as the next request sends it back. */
const cookieOf = (answer: { headers: Headers }) => answer.headers.get('set-cookie')!.split(';')[0]!;
const csrfIn = (text: string) => /name="csrf" value="([^"]+)"/.exec(text)?.[1];

beforeAll(async () => {
  // Made-up countries score −10 (outside the target region): a demo request (+50) is 40, sales-ready here.
  service = await startService({
    databaseUrl: await freshDatabase('inbox'),
    actionLinkSecret: secret,
    // A small limit of failed authentications per address, reached by the flood test alone.
    config: { ...salesReadyDemoRequests, unauthenticated: { perAddress: { requests: 12, per: 'PT1M' } } },
  });
  mail = await startAlertMail(service, secret);
  for (const [name, country] of [
    ['a', 'XA'],
    ['b', 'XE'],
  ] as const) {
    const team = await service.request('POST', '/teams', {
      ...ops,
      body: { id: `team-${name}-${suffix}`, name, countries: [country], businessHours: hours },
    });
    expect(team.status).toBe(201);
    const email = `rep-${name}-${suffix}@example.com`;
    const rep = await service.request('POST', '/reps', {
      ...ops,
      body: { id: `rep-${name}-${suffix}`, name, email, teamId: team.body.id },
    });
    expect(rep.status).toBe(201);
    reps[name] = { id: rep.body.id, email, apiKey: rep.body.apiKey };
  }
  leads.a1 = await capture('XA', 'demo_request', 1);
  leads.a2 = await capture('XA', 'demo_request', 2);
  leads.b1 = await capture('XE', 'demo_request', 3);
  for (const [id, owner] of [
    [leads.a1, reps.a.id],
    [leads.a2, reps.a.id],
    [leads.b1, reps.b.id],
  ] as const) {
    await eventually(async () => expect((await lead(id)).ownerId).toBe(owner));
  }
}, 120_000);
afterAll(async () => {
  await mail?.stop();
  await service?.close();
});

const signInByKey = async (key: string) => cookieOf(await browse('/inbox/sign-in', { form: { key } }));

describe('/inbox sign-in', () => {
  it('without a session shows the sign-in forms, no script inline, nothing from another host', async () => {
    const page = await browse('/inbox');
    expect(page.status).toBe(200);
    expect(page.text).toContain('action="/inbox/sign-in"');
    expect(page.text).toContain('name="key"');
    expect(page.text).toContain('name="email"');
    expect(page.text).toMatch(/<script src="\/inbox\/assets\/inbox.js" defer><\/script>/);
    expect(page.text).not.toMatch(/<script>|https?:\/\//);
    expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(page.headers.get('cache-control')).toBe('no-store');
  });

  it('by the rep’s key: a 303 to /inbox with an HttpOnly, SameSite=Strict session cookie for 12 h', async () => {
    const answer = await browse('/inbox/sign-in', { form: { key: reps.a.apiKey } });
    expect(answer.status).toBe(303);
    expect(answer.headers.get('location')).toBe('/inbox');
    const cookie = answer.headers.get('set-cookie')!;
    expect(cookie).toMatch(/^inbox_session=s1\./);
    expect(cookie).toContain('HttpOnly');
    expect(cookie).toContain('SameSite=Strict');
    expect(cookie).toContain('Path=/inbox');
    expect(cookie).toContain('Max-Age=43200');
    // Plain http here: Secure only where the API is reached over https.
    expect(cookie).not.toContain('Secure');
    // Nothing personal in the cookie: the rep's id and a session id, signed.
    expect(cookie).not.toContain(reps.a.email);
  });

  it('refuses a wrong key, an ops key and a tampered or expired session, and sets no cookie', async () => {
    for (const key of ['not-a-key', 'ops-dev']) {
      const answer = await browse('/inbox/sign-in', { form: { key } });
      expect(answer.status).toBe(401);
      expect(answer.text).toContain('not an active rep’s key');
      expect(answer.headers.get('set-cookie')).toBeNull();
    }
    const good = await signInByKey(reps.a.apiKey);
    const tampered = `${good.slice(0, -1)}${good.endsWith('A') ? 'B' : 'A'}`;
    const expired = `inbox_session=${sessionToken(secret, { repId: reps.a.id, sessionId: 'x' }, new Date(Date.now() - 1000))}`;
    const forged = `inbox_session=${sessionToken('another-secret', { repId: reps.a.id, sessionId: 'x' }, new Date(Date.now() + 3600_000))}`;
    for (const cookie of [tampered, expired, forged]) {
      const page = await browse('/inbox', { cookie });
      expect(page.status).toBe(200);
      expect(page.text).toContain('Sign in to your leads');
      expect(page.text).not.toContain(leads.a1);
      expect((await browse(`/inbox/leads/${leads.a1}`, { cookie })).status).toBe(401);
    }
  });

  it('by email: the same answer for a rep and a stranger; the rep gets one link, which signs in once', async () => {
    const forRep = await browse('/inbox/sign-in', { form: { email: reps.a.email.toUpperCase() } });
    const forStranger = await browse('/inbox/sign-in', { form: { email: `nobody-${suffix}@example.com` } });
    expect(forRep.status).toBe(200);
    expect(forStranger.status).toBe(200);
    expect(forStranger.text).toBe(forRep.text);
    expect(forRep.text).toContain('If that address is a rep’s');
    // A second request within the minute sends no second email.
    expect((await browse('/inbox/sign-in', { form: { email: reps.a.email } })).text).toBe(forRep.text);

    const message = await eventually(() => {
      const [found] = mail.mailbox.to(reps.a.email).filter((m) => m.subject === 'Sign in to your lead inbox');
      expect(found).toBeDefined();
      return found!;
    });
    const link = /(http\S+\/inbox\/sign-in\/i1\.\S+)/.exec(message.text!)![1]!;
    const path = new URL(link).pathname;
    // Opening the link (as a mail scanner would) spends nothing: a button posts.
    for (const _ of [1, 2]) {
      const opened = await browse(path);
      expect(opened.status).toBe(200);
      expect(opened.text).toContain(`<form method="post" action="${path}">`);
      expect(opened.headers.get('set-cookie')).toBeNull();
    }
    const signedIn = await browse(path, { form: {} });
    expect(signedIn.status).toBe(303);
    expect((await browse('/inbox', { cookie: cookieOf(signedIn) })).text).toContain(leads.a1);
    const again = await browse(path, { form: {} });
    expect(again.status).toBe(410);
    expect(again.text).toContain('Link already used');
    expect(again.headers.get('set-cookie')).toBeNull();

    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(mail.mailbox.to(reps.a.email).filter((m) => m.subject === 'Sign in to your lead inbox')).toHaveLength(1);
    expect(mail.mailbox.messages.filter((m) => m.subject === 'Sign in to your lead inbox')).toHaveLength(1);
  });

  it('refuses an expired, tampered or foreign sign-in link', async () => {
    const expired = `/inbox/sign-in/${signInToken(secret, { repId: reps.a.id, nonce: randomUUID() }, new Date(Date.now() - 1000))}`;
    expect((await browse(expired)).status).toBe(410);
    const answer = await browse(expired, { form: {} });
    expect(answer.status).toBe(410);
    expect(answer.text).toContain('Link expired');
    const foreign = `/inbox/sign-in/${signInToken('another-secret', { repId: reps.a.id, nonce: randomUUID() }, new Date(Date.now() + 60_000))}`;
    expect((await browse(foreign, { form: {} })).status).toBe(403);
    // An action link's or a session's token is no sign-in link.
    const session = sessionToken(secret, { repId: reps.a.id, sessionId: randomUUID() }, new Date(Date.now() + 60_000));
    expect((await browse(`/inbox/sign-in/${session}`, { form: {} })).status).toBe(400);
    expect((await browse('/inbox/sign-in/not-a-token', { form: {} })).headers.get('set-cookie')).toBeNull();
  });
});

describe('/inbox for a signed-in rep', () => {
  it('lists the rep’s open leads, SLA due first, and never another rep’s', async () => {
    const cookie = await signInByKey(reps.a.apiKey);
    const page = await browse('/inbox', { cookie });
    expect(page.status).toBe(200);
    const listed = [...page.text.matchAll(/<tr data-lead="([^"]+)">/g)].map((m) => m[1]);
    const [a1, a2] = [await lead(leads.a1), await lead(leads.a2)];
    const byDue = [a1, a2].sort((x, y) => Date.parse(x.sla.dueAt) - Date.parse(y.sla.dueAt)).map((l) => l.leadId);
    expect(listed).toEqual(byDue);
    expect(page.text).toContain('Company 1 &amp; &lt;Co&gt;');
    expect(page.text).toContain(`data-due="${a1.sla.dueAt}"`);
    expect(page.text).not.toContain(leads.b1);

    const other = await browse(`/inbox/leads/${leads.b1}`, { cookie });
    const none = await browse(`/inbox/leads/lead-${'0'.repeat(24)}`, { cookie });
    expect(other.status).toBe(404);
    expect(none.status).toBe(404);
    expect(other.text).toBe(none.text);
    expect(other.text).not.toContain('Company 3');
  });

  it('accepts from the lead page with the session’s CSRF token; without it, or with another, nothing is recorded', async () => {
    const cookie = await signInByKey(reps.a.apiKey);
    const page = await browse(`/inbox/leads/${leads.a1}`, { cookie });
    expect(page.status).toBe(200);
    expect(page.text).toContain(`action="/inbox/leads/${leads.a1}/accept"`);
    const csrf = csrfIn(page.text)!;
    expect(csrf).toBeDefined();
    const before = await timeline(leads.a1);

    const otherSession = csrfIn((await browse(`/inbox/leads/${leads.a1}`, { cookie: await signInByKey(reps.a.apiKey) })).text)!;
    for (const form of [{}, { csrf: 'forged' }, { csrf: otherSession }] as Record<string, string>[]) {
      const refused = await browse(`/inbox/leads/${leads.a1}/accept`, { cookie, form });
      expect(refused.status).toBe(403);
      expect(refused.text).toContain('Form not accepted');
    }
    expect((await browse(`/inbox/leads/${leads.a1}/accept`, { form: { csrf } })).status).toBe(401);
    // Another rep's lead, with a valid token: as no lead, and nothing done.
    const beforeB = await timeline(leads.b1);
    expect((await browse(`/inbox/leads/${leads.b1}/accept`, { cookie, form: { csrf } })).status).toBe(404);
    expect(await timeline(leads.b1)).toEqual(beforeB);
    expect(await timeline(leads.a1)).toEqual(before);
    expect((await lead(leads.a1)).status).toBe('sql');

    const form = { csrf, form: 'accept-form-1' };
    const accepted = await browse(`/inbox/leads/${leads.a1}/accept`, { cookie, form });
    expect(accepted.status).toBe(200);
    expect(accepted.text).toContain('Accepted');
    const after = await lead(leads.a1);
    expect(after.status).toBe('accepted');
    expect(after.sla.respondedAt).toEqual(expect.any(String));
    // A double click: the same form again records nothing more.
    await browse(`/inbox/leads/${leads.a1}/accept`, { cookie, form });
    const events = (await timeline(leads.a1)) as { type: string }[];
    expect(events.filter((e) => e.type === 'responded')).toHaveLength(1);

    const call = { csrf, form: 'call-form-1', note: 'left a voicemail' };
    expect((await browse(`/inbox/leads/${leads.a1}/call`, { cookie, form: call })).status).toBe(200);
    expect((await browse(`/inbox/leads/${leads.a1}/call`, { cookie, form: call })).status).toBe(200);
    await eventually(async () =>
      expect(((await timeline(leads.a1)) as { type: string }[]).filter((e) => e.type === 'touch')).toHaveLength(1),
    );
    // Accepted is still open: the lead stays in the inbox, responded.
    const inbox = await browse('/inbox', { cookie });
    expect(inbox.text).toContain(`data-lead="${leads.a1}"`);
    expect(inbox.text).toMatch(/responded in \d+ (s|min)/);
  });

  it('a reassigned lead leaves the inbox, and its page and forms answer as no lead', async () => {
    const cookie = await signInByKey(reps.a.apiKey);
    const csrf = csrfIn((await browse(`/inbox/leads/${leads.a2}`, { cookie })).text)!;
    const moved = await service.request('POST', `/leads/${leads.a2}/reassign`, { ...ops, body: { ownerId: reps.b.id } });
    expect(moved.status).toBeLessThan(300);
    await eventually(async () => expect((await lead(leads.a2)).ownerId).toBe(reps.b.id));
    await eventually(async () => expect((await browse('/inbox', { cookie })).text).not.toContain(leads.a2));
    expect((await browse(`/inbox/leads/${leads.a2}`, { cookie })).status).toBe(404);
    const before = await timeline(leads.a2);
    expect((await browse(`/inbox/leads/${leads.a2}/call`, { cookie, form: { csrf, note: 'too late' } })).status).toBe(404);
    expect(await timeline(leads.a2)).toEqual(before);
    // It is in the new owner's inbox.
    expect((await browse('/inbox', { cookie: await signInByKey(reps.b.apiKey) })).text).toContain(leads.a2);
  });

  it('signs out with the CSRF token; a deactivated rep’s session stops at once', async () => {
    const cookie = await signInByKey(reps.b.apiKey);
    const csrf = csrfIn((await browse('/inbox', { cookie })).text)!;
    expect((await browse('/inbox/sign-out', { cookie, form: {} })).status).toBe(403);
    const out = await browse('/inbox/sign-out', { cookie, form: { csrf } });
    expect(out.status).toBe(303);
    expect(out.headers.get('set-cookie')).toMatch(/^inbox_session=;.*Max-Age=0/);

    await service.request('PATCH', `/reps/${reps.b.id}`, { ...ops, body: { active: false } });
    const page = await browse('/inbox', { cookie });
    expect(page.text).toContain('Sign in to your leads');
    expect((await browse('/inbox/sign-in', { form: { key: reps.b.apiKey } })).status).toBe(401);
  });
});

describe('/inbox sign-in floods', () => {
  // Last of the file's sign-ins: the address stays limited for the rest of the minute.
  it('wrong keys from one address are cut off with 429 and Retry-After', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 15; i++) statuses.push((await browse('/inbox/sign-in', { form: { key: `guess-${i}` } })).status);
    expect(statuses).toContain(429);
    expect(statuses.slice(statuses.indexOf(429)).every((status) => status === 429)).toBe(true);
    const limited = await browse('/inbox/sign-in', { form: { key: reps.a.apiKey } });
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
  });
});

describe('/inbox without ACTION_LINK_SECRET', () => {
  it('is not in use: 404', async () => {
    const bare = await startService({ databaseUrl: await freshDatabase('inbox_off') });
    try {
      expect((await fetch(`${bare.baseUrl}/inbox`)).status).toBe(404);
      expect(
        (await fetch(`${bare.baseUrl}/inbox/sign-in`, { method: 'POST', body: new URLSearchParams({ email: 'x@example.com' }) })).status,
      ).toBe(404);
    } finally {
      await bare.close();
    }
  });
});
