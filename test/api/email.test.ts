import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import type { ParsedMail } from 'mailparser';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { emailSettingsFrom, loadEnv, notifyWebhookSecretFrom } from '../../config/env';
import { loadLeadConfig } from '../../config/load';
import { enqueueNotifications } from '../../db/outbox';
import { unsubscribeToken } from '../../domain/unsubscribe';
import { emailDelivery } from '../../worker/email';
import { startNotifier } from '../../worker/notifier';
import { Mailbox } from '../support/mailbox';
import { eventually, freshDatabase, startService, uniqueEmail, type ServiceUnderTest } from '../support/helpers';
import { captureLead } from '../support/fixtures';

/**
 * Email out: a real SMTP server in this process receives what the notifier sends, and
 * mailparser reads it back. The service runs on a database of its own, because its cadence
 * (seconds apart, so that steps come due during the test) must not reach other tests' leads.
 */

const secret = `unsubscribe-secret-${randomUUID()}`;
const from = 'Acme Marketing <marketing@acme.test>';
const { deadAfter } = loadLeadConfig('').notify;

/** The raw value of a header as sent. */
const header = (mail: ParsedMail, name: string) =>
  mail.headerLines.find((h) => h.key === name.toLowerCase())?.line.replace(/^[^:]+:\s*/, '');

let service: ServiceUnderTest;
let mailbox: Mailbox;
let notifier: ReturnType<typeof startNotifier>;
const publicBaseUrl = () => service.baseUrl;

beforeAll(async () => {
  mailbox = await new Mailbox().start();
  service = await startService({
    databaseUrl: await freshDatabase('email'),
    unsubscribeSecret: secret,
    config: {
      notify: { testEmails: { requests: 5, per: 'PT1H' } },
      cadences: {
        'mql-nurture': [
          { after: 'PT2S', channel: 'email', template: 'test/welcome' },
          { after: 'PT6S', channel: 'email', template: 'test/welcome' },
        ],
      },
    },
  });
  notifier = startMailNotifier();
}, 120_000);

/** The notifier as the worker runs it with email configured (and no webhook). */
function startMailNotifier() {
  return startNotifier({
    sql: service.sql,
    email: emailDelivery({ sql: service.sql, smtpUrl: mailbox.url, from, publicBaseUrl: publicBaseUrl(), unsubscribeSecret: secret }),
    deadAfter,
    pollMs: 100,
  });
}

afterAll(async () => {
  await notifier?.stop();
  await service?.close();
  await mailbox?.stop();
});

const marketing = { key: 'marketing-dev' };
/** Posts `body` as marketing, expects a 400 validation_failed, and answers the fields it names. */
async function refusedFields(path: string, body: unknown): Promise<string[]> {
  const answer = await service.request('POST', path, { ...marketing, body });
  expect(answer.status).toBe(400);
  expect(answer.body.error.code).toBe('validation_failed');
  return answer.body.error.details.map((d: any) => d.path);
}
const template = {
  name: 'test/welcome',
  subject: 'Welcome, {{ lead.firstName | default: "there" }}',
  text: 'Hi {{ lead.firstName }} at {{ lead.company }} (step {{ step.step }} of {{ step.of }}).\nUnsubscribe: {{ unsubscribeUrl }}\n',
  html: '<p>Hi {{ lead.firstName }} at {{ lead.company }}</p><p><a href="{{ unsubscribeUrl }}">Unsubscribe</a></p>',
};

async function captureMql(extra: Record<string, unknown> = {}) {
  const email = uniqueEmail('mail');
  const { leadId } = await captureLead(service, {
    email,
    source: 'demo_request',
    country: 'US',
    employees: 250,
    firstName: 'Jane',
    company: 'Fish & <Chips>',
    consent: { email: 'opted_in' },
    ...extra,
  });
  return { email, leadId };
}

const timeline = async (leadId: string) =>
  (await service.request('GET', `/leads/${leadId}/timeline`, { key: 'ops-dev' })).body.events as { type: string; data: any }[];
const lead = async (leadId: string) => (await service.request('GET', `/leads/${leadId}`, { key: 'ops-dev' })).body;
/** The lead's email consent as stored in Postgres (what the notifier reads), once its row is written. */
const storedConsent = async (leadId: string) =>
  (await service.sql<{ status: string | null }[]>`SELECT consent->'email'->>'status' AS status FROM leads WHERE lead_id = ${leadId}`)[0]
    ?.status;
const outbox = (dedupeKey: string) =>
  service.sql<
    { status: string; last_error: string | null; channel: string; attempts: number }[]
  >`SELECT status, last_error, channel, attempts FROM notifications WHERE dedupe_key = ${dedupeKey}`;

describe('templates API', () => {
  it('refuses a template over the render budget, naming the field, without holding the API for long', async () => {
    const loop = '{% for a in (1..1500) %}{% for b in (1..1500) %}x{% endfor %}{% endfor %}';
    const started = Date.now();
    const result = await service.request('POST', '/templates', {
      ...marketing,
      body: { ...template, name: `test/loop-${randomUUID().slice(0, 8)}`, text: loop },
    });
    expect(result.status).toBe(400);
    expect(result.body.error.details.map((d: { path: string }) => d.path)).toContain('text');
    expect(Date.now() - started).toBeLessThan(500);
  });

  it('lets marketing publish numbered versions, ops read them, and no one else', async () => {
    const name = `test/roles-${randomUUID().slice(0, 8)}`;
    const first = await service.request('POST', '/templates', { ...marketing, body: { ...template, name } });
    expect(first.status).toBe(201);
    expect(first.body).toMatchObject({ name, version: 1 });
    const second = await service.request('POST', '/templates', { ...marketing, body: { ...template, name, subject: 'Second' } });
    expect(second.body.version).toBe(2);

    const list = await service.request('GET', '/templates', { key: 'ops-dev' });
    expect(list.status).toBe(200);
    expect(list.body.templates.find((t: any) => t.name === name)).toMatchObject({ version: 2, subject: 'Second', versions: 2 });
    const versions = await service.request('GET', `/templates?name=${encodeURIComponent(name)}`, marketing);
    expect(versions.body.templates.map((t: any) => [t.version, t.subject])).toEqual([
      [1, template.subject],
      [2, 'Second'],
    ]);
    expect((await service.request('GET', '/templates?name=test/none', marketing)).status).toBe(404);

    expect((await service.request('POST', '/templates', { key: 'ops-dev', body: { ...template, name } })).status).toBe(403);
    expect((await service.request('POST', '/templates', { body: { ...template, name } })).status).toBe(403); // capture key
    expect((await service.request('GET', '/templates')).status).toBe(403);
    expect((await service.request('GET', '/templates', { key: null })).status).toBe(401);

    // Published versions never change, even straight in the database.
    await expect(service.sql`UPDATE email_templates SET subject = 'changed' WHERE name = ${name}`).rejects.toThrow(/cannot change/);
    await expect(service.sql`DELETE FROM email_templates WHERE name = ${name}`).rejects.toThrow(/cannot change/);
  });

  it('answers 400 naming the field for bad input, Liquid syntax errors and unknown variables', async () => {
    const bad = (body: unknown) => refusedFields('/templates', body);
    expect(await bad({ name: 'test/x', text: 'hi' })).toEqual(['subject']);
    expect(await bad({ ...template, name: 'Not A Name' })).toEqual(['name']);
    expect(await bad({ ...template, extra: 1 })).toEqual(['extra']);
    expect(await bad({ ...template, text: 'Hi {{ lead.firstName ' })).toEqual(['text']);
    expect(await bad({ ...template, html: '{% if lead.company %}unclosed' })).toEqual(['html']);
    expect(await bad({ ...template, subject: 'Hi {{ lead.frstName }}' })).toEqual(['subject']);
    expect(await bad({ ...template, text: '{{ lead.company | no_such_filter }}' })).toEqual(['text']);
    // No file system: include/render find nothing.
    expect(await bad({ ...template, text: '{% include "/etc/passwd" %}' })).toEqual(['text']);
    const answer = await service.request('POST', '/templates', { ...marketing, body: { ...template, text: 'Hi {{ lead.firstName ' } });
    expect(answer.body.error.details[0].message).toMatch(/not a valid Liquid template: .*not closed/);
    // Nothing was published by any of these.
    expect((await service.request('GET', '/templates?name=test/x', marketing)).status).toBe(404);
  });

  it('lists the new endpoints in the OpenAPI document', async () => {
    const { body } = await service.request('GET', '/openapi.json', { key: null });
    expect(Object.keys(body.paths)).toEqual(expect.arrayContaining(['/templates', '/templates/test-email', '/unsubscribe/{token}']));
    expect(body.paths['/unsubscribe/{token}'].post.security).toBeUndefined();
  });
});

describe('test emails of a draft template', () => {
  const draft = {
    name: 'test/draft-welcome',
    subject: 'Hello {{ lead.firstName }} of {{ lead.company }}',
    text: 'Hi {{ lead.firstName }},\nthanks for your interest.\nUnsubscribe: {{ unsubscribeUrl }}\n',
    html: '<p>Hi {{ lead.firstName }} of {{ lead.company }}</p>',
  };

  it('sends the draft rendered on the sample lead to one address, marked as a test, publishing nothing', async () => {
    const to = uniqueEmail('marketer');
    const answer = await service.request('POST', '/templates/test-email', { ...marketing, body: { ...draft, to } });
    expect(answer).toMatchObject({ status: 202, body: { queued: true, subject: '[Test] Hello Jane of Acme' } });
    const mail = await eventually(() => {
      const received = mailbox.to(to);
      expect(received).toHaveLength(1);
      return received[0]!;
    });
    expect(mail.subject).toBe('[Test] Hello Jane of Acme');
    expect(mail.from?.value[0]?.address).toBe('marketing@acme.test');
    expect(mail.text).toContain('Hi Jane,\nthanks for your interest.');
    expect(mail.html).toContain('<p>Hi Jane of Acme</p>');
    // A draft stays a draft.
    expect((await service.request('GET', `/templates?name=${draft.name}`, marketing)).status).toBe(404);
    // Ops see it in the outbox as sent, by marketing; the address is in no field they list.
    const listed = await service.request('GET', '/notifications?limit=200', { key: 'ops-dev' });
    const entry = (listed.body.notifications as any[]).find((n) => n.kind === 'template_test' && n.status === 'sent');
    expect(entry).toMatchObject({ recipient: 'marketing', channel: 'email', leadId: null });
    expect(JSON.stringify(listed.body)).not.toContain(to);
  });

  it('answers 400 naming `to` for a bad address and the part for a bad draft, and 403 to other roles', async () => {
    const bad = (body: unknown) => refusedFields('/templates/test-email', body);
    expect(await bad({ ...draft, to: 'not-an-address' })).toEqual(['to']);
    expect(await bad({ ...draft, to: uniqueEmail('m'), subject: 'Hi {{ lead.frstName }}' })).toEqual(['subject']);
    const other = await service.request('POST', '/templates/test-email', { key: 'capture-dev', body: { ...draft, to: uniqueEmail('c') } });
    expect(other.status).toBe(403);
  });

  it('limits the test emails of each key (notify.testEmails), answering 429 with Retry-After, other keys unaffected', async () => {
    const to = uniqueEmail('ops-tests');
    const send = (key: string) => service.request('POST', '/templates/test-email', { key, body: { ...draft, to } });
    for (let i = 0; i < 5; i++) expect((await send('ops-dev')).status).toBe(202);
    const limited = await send('ops-dev');
    expect(limited.status).toBe(429);
    expect(limited.body.error.code).toBe('rate_limited');
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
    expect((await send('marketing-dev')).status).toBe(202);
    await eventually(() => expect(mailbox.to(to)).toHaveLength(6));
  });
});

describe('email to leads', () => {
  it('sends each cadence step rendered from the template, with one-click unsubscribe that stops the next step', async () => {
    expect((await service.request('POST', '/templates', { ...marketing, body: template })).status).toBe(201);
    const { email, leadId } = await captureMql();

    const [mail] = await eventually(() => {
      const received = mailbox.to(email);
      expect(received).toHaveLength(1);
      return received;
    });
    expect(mail!.from?.value[0]).toMatchObject({ address: 'marketing@acme.test', name: 'Acme Marketing' });
    expect(mail!.subject).toBe('Welcome, Jane');
    expect(mail!.text).toContain('Hi Jane at Fish & <Chips> (step 1 of 2).');
    expect(mail!.html).toContain('<p>Hi Jane at Fish &amp; &lt;Chips&gt;</p>'); // escaped in HTML
    const listUnsubscribe = header(mail!, 'List-Unsubscribe')!;
    expect(header(mail!, 'List-Unsubscribe-Post')).toBe('List-Unsubscribe=One-Click');
    const [, link] = /^<(https?:\/\/[^>]+)>$/.exec(listUnsubscribe)!;
    expect(link!.startsWith(`${publicBaseUrl()}/unsubscribe/`)).toBe(true);
    expect(link).not.toContain(email.split('@')[0]); // the link names the lead id (signed), never the address
    expect(mail!.text).toContain(`Unsubscribe: ${link}`);

    // The page a person sees asks first: a GET changes nothing.
    const page = await fetch(link!);
    expect(page.status).toBe(200);
    expect(page.headers.get('cache-control')).toBe('no-store'); // the token is a credential
    expect(page.headers.get('referrer-policy')).toBe('no-referrer');
    expect(await page.text()).toMatch(/<form method="post" action="\/unsubscribe\/[^"]+">/);
    expect((await lead(leadId)).consent.email).toBe('opted_in');
    const scoreBefore = (await lead(leadId)).score as number;

    // What a mail client sends for one-click unsubscribe (RFC 8058): no key, a form body.
    const oneClick = await fetch(link!, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'List-Unsubscribe=One-Click',
    });
    expect(oneClick.status).toBe(200);
    await eventually(async () => {
      const now = await lead(leadId);
      expect(now.consent.email).toBe('opted_out');
      expect(now.score).toBe(scoreBefore - 15);
    });
    // Posting again (a second click) records it once.
    expect(
      (
        await fetch(link!, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: 'List-Unsubscribe=One-Click',
        })
      ).status,
    ).toBe(200);

    // The second step comes due and is not sent.
    const step2 = await eventually(async () => {
      const step = (await timeline(leadId)).filter((e) => e.type === 'cadence_step')[1];
      expect(step).toBeDefined();
      return step!;
    });
    expect(step2.data).toMatchObject({ sent: false, skipped: 'email consent is opted_out' });
    expect((await timeline(leadId)).filter((e) => e.type === 'activity' && e.data?.type === 'unsubscribed')).toHaveLength(1);
    expect(mailbox.to(email)).toHaveLength(1);
  });

  it('checks consent again right before sending: an email queued before an unsubscribe is not sent', async () => {
    const { email, leadId } = await captureMql({ consent: { email: 'opted_out' } });
    await eventually(async () => expect(await storedConsent(leadId)).toBe('opted_out'));
    const key = `test-${randomUUID()}`;
    await service.sql.begin((tx) =>
      enqueueNotifications(tx, leadId, [
        {
          key,
          kind: 'cadence_step',
          recipient: email,
          message: 'queued earlier',
          data: { leadId, channel: 'email', template: 'test/welcome' },
        },
      ]),
    );
    await eventually(async () =>
      expect(await outbox(key)).toMatchObject([{ channel: 'email', status: 'skipped', last_error: 'email consent is opted_out' }]),
    );
    expect(mailbox.to(email)).toHaveLength(0);
  });

  it('retries an email whose template is not published yet, and sends it once it is', async () => {
    const { email, leadId } = await captureMql();
    await eventually(async () => expect(await storedConsent(leadId)).toBe('opted_in'));
    const name = `test/later-${randomUUID().slice(0, 8)}`;
    const key = `test-${randomUUID()}`;
    await service.sql.begin((tx) =>
      enqueueNotifications(tx, leadId, [
        {
          key,
          kind: 'reengagement',
          recipient: email,
          message: 'check-in',
          data: { leadId, channel: 'email', template: name, number: 1, of: 3 },
        },
      ]),
    );
    await eventually(async () =>
      expect((await outbox(key))[0]).toMatchObject({
        status: 'pending',
        last_error: `no version of email template "${name}" is published (POST /templates)`,
      }),
    );
    await service.request('POST', '/templates', {
      ...marketing,
      body: { name, subject: 'Still interested, {{ lead.firstName }}?', text: 'Check-in {{ step.number }} of {{ step.of }}' },
    });
    // The first retry is 2 s later.
    await eventually(async () => expect((await outbox(key))[0]!.status).toBe('sent'));
    const [mail] = mailbox.to(email).filter((m) => m.subject === 'Still interested, Jane?');
    expect(mail!.text).toContain('Check-in 1 of 3');
    expect(header(mail!, 'List-Unsubscribe-Post')).toBe('List-Unsubscribe=One-Click');
  });

  it('dead-letters an email the SMTP server refuses for good, without the address in the stored reason', async () => {
    const { email, leadId } = await captureMql();
    await eventually(async () => expect(await storedConsent(leadId)).toBe('opted_in'));
    mailbox.refuse.add(email);
    const key = `test-${randomUUID()}`;
    await service.sql.begin((tx) =>
      enqueueNotifications(tx, leadId, [
        { key, kind: 'cadence_step', recipient: email, message: 'step', data: { leadId, channel: 'email', template: 'test/welcome' } },
      ]),
    );
    const [row] = await eventually(async () => {
      const rows = await outbox(key);
      expect(rows[0]!.status).toBe('dead');
      return rows;
    });
    expect(row!.attempts).toBe(1);
    expect(row!.last_error).toMatch(/^SMTP: .*550/);
    expect(row!.last_error).not.toContain(email);
    // Ops see it among the dead letters, with its channel.
    const dead = await service.request('GET', '/notifications?status=dead', { key: 'ops-dev' });
    expect(dead.body.notifications.find((n: any) => n.leadId === leadId)).toMatchObject({
      channel: 'email',
      kind: 'cadence_step',
      status: 'dead',
    });
  });
});

describe('unsubscribe links', () => {
  it('refuses tampered, foreign, expired and malformed tokens with a 4xx, recording nothing', async () => {
    const { leadId } = await captureMql();
    await eventually(async () => expect(await storedConsent(leadId)).toBe('opted_in'));
    const inAWeek = new Date(Date.now() + 7 * 86_400_000);
    const valid = unsubscribeToken(secret, leadId, inAWeek);
    const post = (token: string) =>
      fetch(`${service.baseUrl}/unsubscribe/${token}`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: 'List-Unsubscribe=One-Click',
      });

    const tampered = valid.slice(0, -1) + (valid.endsWith('A') ? 'B' : 'A');
    expect((await post(tampered)).status).toBe(403);
    expect((await post(unsubscribeToken('another secret', leadId, inAWeek))).status).toBe(403);
    // Another lead's id under this lead's signature.
    const [, , expiry, signature] = valid.split('.');
    expect((await post(`v1.${Buffer.from('lead-other').toString('base64url')}.${expiry}.${signature}`)).status).toBe(403);
    const expired = await post(unsubscribeToken(secret, leadId, new Date(Date.now() - 1000)));
    expect(expired.status).toBe(410);
    expect(((await expired.json()) as any).error.code).toBe('link_expired');
    expect((await post('not-a-token')).status).toBe(400);
    expect((await fetch(`${service.baseUrl}/unsubscribe/${tampered}`)).status).toBe(403);

    expect((await timeline(leadId)).some((e) => e.type === 'activity' && e.data?.type === 'unsubscribed')).toBe(false);
    expect((await lead(leadId)).consent.email).toBe('opted_in');
    // The valid one works, also as the page's button posts it.
    expect((await post(valid)).status).toBe(200);
    await eventually(async () => expect((await lead(leadId)).consent.email).toBe('opted_out'));
  });
});

describe('unsubscribe from a closed lead', () => {
  it('withdraws the stored consent, so that a reactivated lead starts opted out', async () => {
    const { email, leadId } = await captureMql();
    await eventually(async () => expect(await storedConsent(leadId)).toBe('opted_in'));
    const closed = await service.request('POST', `/leads/${leadId}/disqualify`, { key: 'ops-dev', body: { reason: 'no_budget' } });
    expect(closed.body).toMatchObject({ status: 'disqualified' });
    await eventually(async () => expect((await service.client.workflow.getHandle(leadId).describe()).status.name).toBe('COMPLETED'));

    const link = `${service.baseUrl}/unsubscribe/${unsubscribeToken(secret, leadId, new Date(Date.now() + 86_400_000))}`;
    const answer = await fetch(link, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'List-Unsubscribe=One-Click',
    });
    expect(answer.status).toBe(200);
    expect(await storedConsent(leadId)).toBe('opted_out');
    expect((await timeline(leadId)).filter((e) => e.type === 'consent_changed').at(-1)).toMatchObject({
      actor: 'unsubscribe_link',
      data: { channel: 'email', from: 'opted_in', to: 'opted_out' },
    });

    // A new capture (without consent) reactivates the lead: still opted out, so no email step goes out.
    expect(
      (await service.request('POST', '/leads', { body: { email, source: 'demo_request', country: 'US', employees: 250 } })).status,
    ).toBe(202);
    await eventually(async () => expect((await timeline(leadId)).some((e) => e.type === 'reactivated')).toBe(true));
    expect((await lead(leadId)).consent.email).toBe('opted_out');
  });
});

describe('alerts to reps by email', () => {
  it("sends a rep's alert to the rep's address as well as to the webhook", async () => {
    const repId = `rep-${randomUUID().slice(0, 8)}`;
    const repAddress = uniqueEmail('rep');
    const created = await service.request('POST', '/reps', { key: 'ops-dev', body: { id: repId, name: 'Rita Rep', email: repAddress } });
    expect(created.status).toBe(201);
    const key = `test-${randomUUID()}`;
    await service.sql.begin((tx) =>
      enqueueNotifications(tx, 'lead-test', [
        { key, kind: 'assignment', recipient: repId, message: 'New P1 lead lead-test: respond within PT5M', data: {} },
      ]),
    );
    const [mail] = await eventually(() => {
      const received = mailbox.to(repAddress);
      expect(received).toHaveLength(1);
      return received;
    });
    expect(mail!.subject).toBe('Lead alert (assignment): lead-test');
    expect(mail!.text).toContain('New P1 lead lead-test: respond within PT5M');
    expect(header(mail!, 'List-Unsubscribe')).toBeUndefined(); // an alert to staff is not marketing
    // The webhook entry is its own (skipped here: no webhook configured), so one channel failing never holds the other.
    expect((await outbox(key))[0]).toMatchObject({ channel: 'webhook' });
    expect((await outbox(`${key}:email`))[0]).toMatchObject({ channel: 'email', status: 'sent' });
    // An alert to ops (no rep) has no email copy.
    const opsKey = `test-${randomUUID()}`;
    await service.sql.begin((tx) =>
      enqueueNotifications(tx, 'lead-test', [{ key: opsKey, kind: 'unassigned', recipient: 'ops', message: 'queue', data: {} }]),
    );
    expect(await outbox(`${opsKey}:email`)).toHaveLength(0);
  });
});

describe('signed webhook deliveries (Standard Webhooks)', () => {
  it('signs every delivery so that a receiver verifies it with the standardwebhooks package', async () => {
    const webhookSecret = `whsec_${Buffer.from(randomUUID() + randomUUID()).toString('base64')}`;
    const received: { raw: string; headers: Record<string, string> }[] = [];
    const server: Server = createServer(async (request, response) => {
      let raw = '';
      for await (const chunk of request) raw += chunk;
      received.push({ raw, headers: request.headers as Record<string, string> });
      response.writeHead(200).end('ok');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const webhookUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
    // This notifier alone, so that the one without a webhook does not mark the entry skipped first.
    await notifier.stop();
    const signed = startNotifier({ sql: service.sql, webhookUrl, webhookSecret, deadAfter, pollMs: 100 });
    try {
      const key = `test-${randomUUID()}`;
      await service.sql`INSERT INTO notifications (dedupe_key, lead_id, kind, recipient, message) VALUES (${key}, 'lead-test', 'escalation', 'ops', 'Lead lead-test escalated')`;
      const delivery = await eventually(() => {
        const found = received.find((r) => r.headers['idempotency-key'] === key);
        expect(found).toBeDefined();
        return found!;
      });
      expect(delivery.headers['webhook-id']).toBe(key);
      expect(Math.abs(Number(delivery.headers['webhook-timestamp']) - Date.now() / 1000)).toBeLessThan(60);
      expect(new Webhook(webhookSecret).verify(delivery.raw, delivery.headers)).toMatchObject({
        kind: 'escalation',
        leadId: 'lead-test',
        text: '[ops] Lead lead-test escalated',
      });
      // A tampered body or another secret fails verification.
      expect(() => new Webhook(webhookSecret).verify(delivery.raw.replace('escalated', 'resolved'), delivery.headers)).toThrow();
      expect(() =>
        new Webhook(`whsec_${Buffer.from(randomUUID() + randomUUID()).toString('base64')}`).verify(delivery.raw, delivery.headers),
      ).toThrow();
    } finally {
      await signed.stop();
      notifier = startMailNotifier();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});

describe('email and webhook settings', () => {
  const production = { NODE_ENV: 'production' };
  it('refuses to start production without what email needs, naming each setting', () => {
    expect(() => emailSettingsFrom(loadEnv(production))).toThrow(
      /email settings must be set because NODE_ENV is production: set SMTP_URL .*EMAIL_FROM .*PUBLIC_BASE_URL .*UNSUBSCRIBE_SECRET/,
    );
    const complete = {
      ...production,
      SMTP_URL: 'smtps://u:p@smtp.example.com:465',
      EMAIL_FROM: 'leads@example.com',
      PUBLIC_BASE_URL: 'https://leads.example.com/',
      UNSUBSCRIBE_SECRET: 'x'.repeat(40),
    };
    expect(emailSettingsFrom(loadEnv(complete))).toMatchObject({
      smtpUrl: complete.SMTP_URL,
      publicBaseUrl: 'https://leads.example.com',
      unsubscribeSecret: 'x'.repeat(40),
    });
    expect(() =>
      emailSettingsFrom(loadEnv({ ...complete, UNSUBSCRIBE_SECRET: 'lead-orchestration development unsubscribe secret' })),
    ).toThrow(/UNSUBSCRIBE_SECRET/);
    expect(() => emailSettingsFrom(loadEnv({ ...complete, PUBLIC_BASE_URL: 'http://leads.example.com' }))).toThrow(
      /PUBLIC_BASE_URL \(the API's public https:\/\/ address/,
    );
    // Off on purpose: no email, and no unsubscribe link is honoured without a real secret.
    expect(emailSettingsFrom(loadEnv({ ...production, SMTP_URL: 'off' }))).toMatchObject({
      smtpUrl: undefined,
      disabledBecause: 'SMTP_URL is off',
      unsubscribeSecret: undefined,
    });
    expect(() => loadEnv({ SMTP_URL: 'http://mail' })).toThrow(/SMTP_URL: must be smtp/);
    expect(() => loadEnv({ EMAIL_FROM: 'nobody' })).toThrow(/EMAIL_FROM/);
  });

  it('stops the worker and the API in production without them, saying what to set', async () => {
    const root = fileURLToPath(new URL('../..', import.meta.url));
    const env = {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '',
      PORT: '0',
      NODE_ENV: 'production',
      DATABASE_URL: 'postgres://leads@127.0.0.1:1/leads',
      API_KEYS: 'real-ops-key=ops',
      LEAD_PAYLOAD_KEYS: `k1:${Buffer.alloc(32, 9).toString('base64')}`,
      NOTIFY_WEBHOOK_URL: 'https://hooks.example.com/x',
    };
    const run = (script: string, extra: Record<string, string> = {}) =>
      new Promise<{ code: number | null; stderr: string }>((resolve) => {
        const child = execFile(
          `${root}node_modules/.bin/tsx`,
          [script],
          { cwd: root, env: { ...env, ...extra }, timeout: 30_000 },
          (_error, _stdout, stderr) => resolve({ code: child.exitCode, stderr }),
        );
      });
    const [worker, api] = await Promise.all([run('worker/main.ts', { SMTP_URL: 'off' }), run('api/main.ts')]);
    expect(worker.code).not.toBe(0);
    expect(worker.code).not.toBeNull();
    expect(worker.stderr).toContain('NOTIFY_WEBHOOK_SECRET must be set (not the development secret) because NODE_ENV is production');
    expect(api.code).not.toBe(0);
    expect(api.code).not.toBeNull();
    expect(api.stderr).toContain('email settings must be set because NODE_ENV is production: set SMTP_URL');
  }, 60_000);

  it('has development defaults on the embedded stack, email disabled without SMTP_URL', () => {
    const embedded = emailSettingsFrom(loadEnv({ NODE_ENV: 'development' }));
    expect(embedded).toMatchObject({ smtpUrl: undefined, disabledBecause: 'SMTP_URL is not set', publicBaseUrl: 'http://localhost:3000' });
    expect(embedded.unsubscribeSecret).toBeTruthy();
  });

  it('requires a real NOTIFY_WEBHOOK_SECRET for a webhook in production', () => {
    const url = { NODE_ENV: 'production', NOTIFY_WEBHOOK_URL: 'https://hooks.example.com/x' };
    expect(() => notifyWebhookSecretFrom(loadEnv(url))).toThrow(/NOTIFY_WEBHOOK_SECRET must be set/);
    const real = `whsec_${Buffer.from('0123456789abcdef0123456789abcdef').toString('base64')}`;
    expect(notifyWebhookSecretFrom(loadEnv({ ...url, NOTIFY_WEBHOOK_SECRET: real }))).toBe(real);
    expect(() => loadEnv({ NOTIFY_WEBHOOK_SECRET: 'plain' })).toThrow(/NOTIFY_WEBHOOK_SECRET: must be whsec_/);
    expect(notifyWebhookSecretFrom(loadEnv({}))).toMatch(/^whsec_/);
  });
});
