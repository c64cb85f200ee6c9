import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { simpleParser, type ParsedMail } from 'mailparser';
import { SMTPServer } from 'smtp-server';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { loadLeadConfig } from '../../config/load';
import { consentConfirmationToken, unsubscribeToken } from '../../domain/unsubscribe';
import { emailDelivery } from '../../worker/email';
import { startNotifier } from '../../worker/notifier';
import { eventually, freshDatabase, startService, uniqueEmail, type ServiceUnderTest } from '../support/helpers';
import { captureLead } from '../support/fixtures';

/**
 * Consent ordering end to end (docs/operations/security.md, "Consent"): the real API, worker,
 * notifier, Temporal and Postgres, with an SMTP server in this process. A person who unsubscribed
 * stays unsubscribed whatever a later capture says, until they confirm by the link of the
 * confirmation email. Its own database: its cadence (seconds apart) must not reach other tests' leads.
 */

const secret = `consent-secret-${randomUUID()}`;
const { deadAfter } = loadLeadConfig('').notify;

let service: ServiceUnderTest;
let notifier: ReturnType<typeof startNotifier>;
let smtp: SMTPServer;
const messages: ParsedMail[] = [];
const to = (address: string) =>
  messages.filter((m) => (Array.isArray(m.to) ? m.to : [m.to]).some((t) => t?.value.some((v) => v.address === address)));

beforeAll(async () => {
  smtp = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onData: (stream, _session, callback) => void simpleParser(stream).then((mail) => (messages.push(mail), callback()), callback),
  });
  await new Promise<void>((resolve) => smtp.listen(0, '127.0.0.1', resolve));
  const smtpUrl = `smtp://127.0.0.1:${(smtp.server.address() as AddressInfo).port}`;
  service = await startService({
    databaseUrl: await freshDatabase('consent'),
    unsubscribeSecret: secret,
    config: {
      cadences: {
        'mql-nurture': [
          { after: 'PT8S', channel: 'email', template: 'test/nurture' },
          { after: 'PT20S', channel: 'email', template: 'test/nurture' },
        ],
      },
    },
  });
  notifier = startNotifier({
    sql: service.sql,
    email: emailDelivery({
      sql: service.sql,
      smtpUrl,
      from: 'Acme <m@acme.test>',
      publicBaseUrl: service.baseUrl,
      unsubscribeSecret: secret,
    }),
    deadAfter,
    pollMs: 100,
  });
  const template = { name: 'test/nurture', subject: 'Nurture', text: 'Hello.\nUnsubscribe: {{ unsubscribeUrl }}\n' };
  expect((await service.request('POST', '/templates', { key: 'marketing-dev', body: template })).status).toBe(201);
}, 120_000);

afterAll(async () => {
  await notifier?.stop();
  await service?.close();
  await new Promise<void>((resolve) => (smtp ? smtp.close(() => resolve()) : resolve()));
});

const form = { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'List-Unsubscribe=One-Click' };
const timeline = async (leadId: string) =>
  (await service.request('GET', `/leads/${leadId}/timeline`, { key: 'ops-dev' })).body.events as {
    type: string;
    actor: string;
    data: any;
  }[];
const storedConsent = async (leadId: string) =>
  (await service.sql<{ status: string | null }[]>`SELECT consent->'email'->>'status' AS status FROM leads WHERE lead_id = ${leadId}`)[0]
    ?.status;
const capture = async (email: string, extra: Record<string, unknown>) =>
  (await captureLead(service, { email, source: 'demo_request', country: 'US', employees: 250, ...extra })).leadId;

describe('an unsubscribe stays until the person confirms', () => {
  it('refuses re-subscription by captures dated 2001 and dated now, sends one confirmation, and re-subscribes on the confirmed link', async () => {
    const email = uniqueEmail('consent');
    const leadId = await capture(email, { consent: { email: 'opted_in' } });
    await eventually(async () => expect(await storedConsent(leadId)).toBe('opted_in'));
    expect(
      (await fetch(`${service.baseUrl}/unsubscribe/${unsubscribeToken(secret, leadId, new Date(Date.now() + 86_400_000))}`, form)).status,
    ).toBe(200);
    await eventually(async () => expect(await storedConsent(leadId)).toBe('opted_out'));

    // A form that claims the opt-in was given long ago, and one dated now: neither lifts the opt-out.
    await capture(email, { consent: { email: 'opted_in', capturedAt: '2001-01-01T00:00:00Z' }, occurredAt: '2001-01-01T00:00:00Z' });
    await capture(email, { consent: { email: 'opted_in', capturedAt: new Date().toISOString() } });
    const requests = await eventually(async () => {
      const found = (await timeline(leadId)).filter((e) => e.type === 'consent_confirmation_requested');
      expect(found).toHaveLength(2);
      return found;
    });
    // At most one confirmation email a day, whatever the number of forms.
    expect(requests.map((e) => e.data.sent).sort()).toEqual([false, true]);
    expect(requests[0]!.data).toMatchObject({ channel: 'email', status: 'opted_in', reason: 'needs_confirmation' });
    expect(await storedConsent(leadId)).toBe('opted_out');
    expect((await service.request('GET', `/leads/${leadId}`, { key: 'ops-dev' })).body.consent.email).toBe('opted_out');
    expect((await timeline(leadId)).filter((e) => e.type === 'consent_changed').map((e) => e.data.to)).toEqual(['opted_in', 'opted_out']);

    const [mail] = await eventually(() => {
      const received = to(email);
      expect(received).toHaveLength(1);
      return received;
    });
    expect(mail!.subject).toMatch(/confirm/i);
    const link = /(https?:\/\/\S+\/consent\/confirm\/\S+)/.exec(mail!.text ?? '')?.[1];
    expect(link).toBeDefined();

    // The first nurture step comes due while the person is unsubscribed: recorded, not sent.
    const step1 = await eventually(async () => {
      const step = (await timeline(leadId)).find((e) => e.type === 'cadence_step');
      expect(step).toBeDefined();
      return step!;
    });
    expect(step1.data).toMatchObject({ sent: false, skipped: 'email consent is opted_out' });
    expect(to(email).filter((m) => m.subject === 'Nurture')).toHaveLength(0);

    // A GET (a mail scanner) changes nothing.
    const page = await fetch(link!);
    expect(page.status).toBe(200);
    expect(page.headers.get('cache-control')).toBe('no-store');
    expect(await page.text()).toMatch(/<form method="post" action="\/consent\/confirm\/[^"]+">/);
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(await storedConsent(leadId)).toBe('opted_out');

    // The person confirms: opted in again, as of the service's time, once however often they click.
    const before = Date.now();
    expect((await fetch(link!, { method: 'POST' })).status).toBe(200);
    expect((await fetch(link!, { method: 'POST' })).status).toBe(200);
    await eventually(async () => expect(await storedConsent(leadId)).toBe('opted_in'));
    const changes = (await timeline(leadId)).filter((e) => e.type === 'consent_changed');
    expect(changes.map((e) => e.data.to)).toEqual(['opted_in', 'opted_out', 'opted_in']);
    expect(changes.at(-1)!.data).toMatchObject({ from: 'opted_out', source: 'confirmation_link' });
    const [stored] = await service.sql<{ at: string }[]>`SELECT consent->'email'->>'at' AS at FROM leads WHERE lead_id = ${leadId}`;
    expect(Date.parse(stored!.at)).toBeGreaterThanOrEqual(before - 1000);

    // The next nurture step goes out.
    const step2 = await vi.waitFor(
      async () => {
        const step = (await timeline(leadId)).filter((e) => e.type === 'cadence_step')[1];
        expect(step, JSON.stringify((await timeline(leadId)).map((e) => [e.type, e.data]))).toBeDefined();
        return step!;
      },
      { timeout: 40_000, interval: 200 },
    );
    expect(step2.data).toMatchObject({ sent: true });
    const nurture = await eventually(() => {
      const sent = to(email).filter((m) => m.subject === 'Nurture');
      expect(sent).toHaveLength(1);
      return sent;
    });
    expect(nurture[0]!.text).toContain('/unsubscribe/');
  }, 90_000);

  it('refuses tampered, foreign and expired confirmation links, and an unsubscribe link posted as one, changing nothing', async () => {
    const email = uniqueEmail('consent-bad');
    const leadId = await capture(email, { consent: { email: 'opted_out' } });
    await eventually(async () => expect(await storedConsent(leadId)).toBe('opted_out'));
    const inAWeek = new Date(Date.now() + 7 * 86_400_000);
    const post = (token: string) => fetch(`${service.baseUrl}/consent/confirm/${token}`, { method: 'POST' });
    expect((await post(consentConfirmationToken('another secret', leadId, inAWeek))).status).toBe(403);
    expect((await post(consentConfirmationToken(secret, leadId, new Date(Date.now() - 1000)))).status).toBe(410);
    expect((await post(unsubscribeToken(secret, leadId, inAWeek))).status).toBe(400);
    const valid = consentConfirmationToken(secret, leadId, inAWeek);
    expect((await post(`${valid.slice(0, -2)}AA`)).status).toBe(403);
    const refused = await post('nonsense');
    expect(refused.status).toBe(400);
    expect(await refused.json()).toMatchObject({ error: { code: 'invalid_token' } });
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(await storedConsent(leadId)).toBe('opted_out');
  });

  it('lists the confirmation link in the OpenAPI document, without an API key', async () => {
    const { body } = await service.request('GET', '/openapi.json', { key: null });
    expect(body.paths['/consent/confirm/{token}'].get.security).toBeUndefined();
    expect(body.paths['/consent/confirm/{token}'].post.security).toBeUndefined();
  });

  it("confirms a closed lead's stored consent by the same rule, so that a reactivation starts opted in", async () => {
    const email = uniqueEmail('consent-closed');
    const leadId = await capture(email, { consent: { email: 'opted_out' } });
    await eventually(async () => expect(await storedConsent(leadId)).toBe('opted_out'));
    expect(
      (await service.request('POST', `/leads/${leadId}/disqualify`, { key: 'ops-dev', body: { reason: 'no_budget' } })).body,
    ).toMatchObject({
      status: 'disqualified',
    });
    await eventually(async () => expect((await service.client.workflow.getHandle(leadId).describe()).status.name).toBe('COMPLETED'));

    const link = `${service.baseUrl}/consent/confirm/${consentConfirmationToken(secret, leadId, new Date(Date.now() + 86_400_000))}`;
    expect((await fetch(link, { method: 'POST' })).status).toBe(200);
    expect(await storedConsent(leadId)).toBe('opted_in');
    expect((await timeline(leadId)).filter((e) => e.type === 'consent_changed').at(-1)).toMatchObject({
      actor: 'confirmation_link',
      data: { channel: 'email', from: 'opted_out', to: 'opted_in' },
    });
    expect((await fetch(link, { method: 'POST' })).status).toBe(200);
    expect((await timeline(leadId)).filter((e) => e.type === 'consent_changed')).toHaveLength(2);

    await capture(email, {});
    await eventually(async () => expect((await timeline(leadId)).some((e) => e.type === 'reactivated')).toBe(true));
    expect((await service.request('GET', `/leads/${leadId}`, { key: 'ops-dev' })).body.consent.email).toBe('opted_in');
  });
});
