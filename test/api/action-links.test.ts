import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { actionLinkToken, type LinkAction } from '../../domain/action-links';
import { alwaysOpen as hours, salesReadyDemoRequests } from '../support/fixtures';
import { eventually, freshDatabase, startService, type ServiceUnderTest } from '../support/helpers';
import { startAlertMail } from '../support/alert-mail';
import type { Mailbox } from '../support/mailbox';

/**
 * Action links in rep alerts, end to end: the assignment email (a real SMTP server in this
 * process) carries `/act` links; following them shows the lead and acts through its workflow, on a
 * database of its own (the notifier here delivers every due entry in it).
 */

const secret = `action-link-secret-${randomUUID()}`;
const ops = { key: 'ops-dev' };

let service: ServiceUnderTest;
let mailbox: Mailbox;
let alertMail: Awaited<ReturnType<typeof startAlertMail>>;
let reps: { id: string; email: string }[];
let lead: { leadId: string; ownerId: string };
let links: Record<string, string>;
let webhook: Server;
const posted: { text: string; kind: string; recipient: string; leadId: string; links?: Record<string, string> }[] = [];

beforeAll(async () => {
  webhook = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk) => (body += chunk));
    request.on('end', () => {
      posted.push(JSON.parse(body));
      response.end('ok');
    });
  });
  await new Promise<void>((resolve) => webhook.listen(0, '127.0.0.1', resolve));
  // Made-up countries score −10 (outside the target region): a demo request (+50) is 40, sales-ready here.
  service = await startService({
    databaseUrl: await freshDatabase('action_links'),
    actionLinkSecret: secret,
    config: salesReadyDemoRequests,
  });
  alertMail = await startAlertMail(service, secret, { webhookUrl: `http://127.0.0.1:${(webhook.address() as AddressInfo).port}/hook` });
  mailbox = alertMail.mailbox;
  const suffix = randomUUID().slice(0, 6);
  const team = await service.request('POST', '/teams', {
    ...ops,
    body: { id: `team-${suffix}`, name: 'Links', countries: ['XL'], businessHours: hours },
  });
  expect(team.status).toBe(201);
  reps = [];
  for (const i of [1, 2]) {
    const email = `rep${i}-${suffix}@example.com`;
    const rep = await service.request('POST', '/reps', {
      ...ops,
      body: { id: `rep-${i}-${suffix}`, name: `Rep ${i}`, email, teamId: team.body.id },
    });
    expect(rep.status).toBe(201);
    reps.push({ id: rep.body.id, email });
  }
  const captured = await service.request('POST', '/leads', {
    body: {
      email: `buyer.${suffix}@prospect-${suffix}.com`,
      source: 'demo_request',
      country: 'XL',
      company: 'Widgets & <Co>',
      title: 'CTO',
    },
  });
  expect(captured.status).toBe(202);
  lead = await eventually(async () => {
    const view = await service.request('GET', `/leads/${captured.body.leadId}`, ops);
    expect(view.body.status).toBe('sql');
    expect(view.body.ownerId).toEqual(expect.any(String));
    return view.body;
  });
  const owner = reps.find((r) => r.id === lead.ownerId)!;
  const mail = await eventually(() => {
    const [message] = mailbox.to(owner.email);
    expect(message?.text).toContain('/act/');
    return message!;
  });
  links = Object.fromEntries(
    [...mail.text!.matchAll(/^(Open lead|Accept|Log call|Log email): (\S+)$/gm)].map(([, label, url]) => [
      { 'Open lead': 'open', Accept: 'accept', 'Log call': 'call', 'Log email': 'email' }[label!]!,
      url!,
    ]),
  );
}, 120_000);

afterAll(async () => {
  await alertMail?.stop();
  await service?.close();
  await new Promise((resolve) => webhook?.close(resolve));
});

const timeline = async () =>
  (await service.request('GET', `/leads/${lead.leadId}/timeline`, ops)).body.events as { type: string; data: Record<string, unknown> }[];
const count = async (type: string, where: (data: Record<string, unknown>) => boolean = () => true) =>
  (await timeline()).filter((e) => e.type === type && where(e.data)).length;
const status = async () => (await service.request('GET', `/leads/${lead.leadId}`, ops)).body.status as string;

async function follow(url: string, method: 'GET' | 'POST' = 'GET', form: Record<string, string> = {}) {
  const response = await fetch(url, {
    method,
    ...(method === 'POST' && { body: new URLSearchParams(form), headers: { 'content-type': 'application/x-www-form-urlencoded' } }),
  });
  return { status: response.status, text: await response.text(), headers: response.headers };
}
const mint = (repId: string, action: LinkAction, expiresAt = new Date(Date.now() + 3600_000)) =>
  `${service.baseUrl}/act/${actionLinkToken(secret, { leadId: lead.leadId, repId, action, nonce: randomUUID() }, expiresAt)}`;

describe('action links in rep alerts', () => {
  it('the assignment email carries open, accept, call and email links to /act', () => {
    expect(Object.keys(links).sort()).toEqual(['accept', 'call', 'email', 'open']);
    for (const url of Object.values(links)) expect(url.startsWith(`${service.baseUrl}/act/a1.`)).toBe(true);
  });

  it('the webhook delivery carries links too, and Slack link markup in its text', async () => {
    const delivery = await eventually(() => {
      const found = posted.find((p) => p.kind === 'assignment' && p.leadId === lead.leadId);
      expect(found).toBeDefined();
      return found!;
    });
    expect(delivery.recipient).toBe(lead.ownerId);
    expect(Object.keys(delivery.links!).sort()).toEqual(['accept', 'call', 'email', 'open']);
    expect(delivery.text).toContain(`<${delivery.links!.open}|Open lead> · <${delivery.links!.accept}|Accept>`);
    // Minted at delivery, with a nonce of its own: not the email's links.
    expect(delivery.links!.accept).not.toBe(links.accept);
    // Ops alerts carry none.
    expect(posted.filter((p) => p.recipient === 'ops' && p.links)).toEqual([]);
  });

  it('GET shows the lead (escaped) with its score explained and forms, and records nothing', async () => {
    const before = await timeline();
    const page = await follow(links.accept!);
    expect(page.status).toBe(200);
    expect(page.headers.get('cache-control')).toBe('no-store');
    expect(page.headers.get('referrer-policy')).toBe('no-referrer');
    expect(page.text).toContain('Widgets &amp; &lt;Co&gt;');
    expect(page.text).not.toContain('<Co>');
    expect(page.text).toMatch(/60 = requested a demo \+50, title &quot;CTO&quot; is C-level \+20/);
    expect(page.text).toContain('<form method="post" action="/act/a1.');
    expect(page.text).not.toContain('<script');
    expect(await timeline()).toEqual(before);
    expect(await status()).toBe('sql');
  });

  it('another rep’s link shows and does nothing, naming nobody', async () => {
    const other = reps.find((r) => r.id !== lead.ownerId)!;
    const before = await timeline();
    for (const [method, action] of [
      ['GET', 'open'],
      ['POST', 'call'],
      ['POST', 'accept'],
    ] as const) {
      const page = await follow(mint(other.id, action), method);
      expect(page.status).toBe(410);
      expect(page.text).toContain('This lead was reassigned');
      expect(page.text).not.toContain(lead.ownerId);
      expect(page.text).not.toContain('Widgets');
    }
    expect(await timeline()).toEqual(before);
  });

  it('a changed, expired or malformed link is refused and records nothing', async () => {
    const before = await timeline();
    const accept = links.accept!;
    const tampered = accept.slice(0, -1) + (accept.endsWith('A') ? 'B' : 'A');
    expect((await follow(tampered, 'POST')).status).toBe(403);
    expect((await follow(tampered)).status).toBe(403);
    const expired = await follow(mint(lead.ownerId, 'accept', new Date(Date.now() - 1000)), 'POST');
    expect(expired.status).toBe(410);
    expect(expired.text).toContain('expired');
    expect((await follow(`${service.baseUrl}/act/not-a-token`, 'POST')).status).toBe(400);
    expect((await follow(links.open!, 'POST')).status).toBe(400);
    expect(await timeline()).toEqual(before);
    expect(await status()).toBe('sql');
  });

  it('POST accept accepts once: a second POST of the same link records nothing more', async () => {
    const first = await follow(links.accept!, 'POST');
    expect(first.status).toBe(200);
    expect(first.text).toContain('Accepted');
    expect(await status()).toBe('accepted');
    const second = await follow(links.accept!, 'POST');
    expect(second.text).toContain('Already accepted');
    expect(await count('responded')).toBe(1);
    expect(await count('status_changed', (d) => d.status === 'accepted')).toBe(1);
  });

  it('a call link logs one touch, also when posted twice', async () => {
    const first = await follow(links.call!, 'POST', { note: 'left a voicemail' });
    expect(first.status).toBe(200);
    expect(first.text).toContain('Call logged');
    const again = await follow(links.call!, 'POST', { note: 'left a voicemail' });
    expect(again.status).toBe(200);
    await eventually(async () => expect(await count('touch', (d) => d.channel === 'call')).toBe(1));
    expect((await timeline()).find((e) => e.type === 'touch')?.data.note).toBe('left a voicemail');
  });

  it('disqualify with reason other and no note answers 400 naming note, and changes nothing', async () => {
    const page = await follow(links.open!);
    const action =
      /<form method="post" action="(\/act\/[^"]+)">\s*<label\s*>Reason\s*<select name="reason">\s*<option value="wrong_fit"/.exec(
        page.text,
      )?.[1];
    expect(action).toBeDefined();
    const refused = await follow(`${service.baseUrl}${action}`, 'POST', { reason: 'other' });
    expect(refused.status).toBe(400);
    expect(refused.text).toContain('note');
    expect(await status()).toBe('accepted');
    const done = await follow(`${service.baseUrl}${action}`, 'POST', { reason: 'other', note: 'went with an agency' });
    expect(done.status).toBe(200);
    expect(done.text).toContain('Disqualified');
    expect(await status()).toBe('disqualified');
  });
});
