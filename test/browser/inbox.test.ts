import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAlertMail } from '../support/alert-mail';
import { cspRefusals, launchChromium } from '../support/browser';
import { alwaysOpen as hours, salesReadyDemoRequests } from '../support/fixtures';
import { eventually, freshDatabase, startService, type ServiceUnderTest } from '../support/helpers';

/**
 * The rep inbox in headless Chromium, on a database of its own: a rep signs in by an emailed link
 * (or by key), sees their open leads with a live SLA countdown, accepts one (the clock stops), and
 * a lead reassigned away or another rep's lead is not there.
 */

/** Screenshots a person can look at after the run (gitignored). */
const artifacts = join(import.meta.dirname, '..', 'artifacts');
const secret = `inbox-secret-${randomUUID()}`;
const ops = { key: 'ops-dev' };
const suffix = randomUUID().slice(0, 6);
let service: ServiceUnderTest;
let mail: Awaited<ReturnType<typeof startAlertMail>>;
let browser: Browser;
const reps: Record<'a' | 'b', { id: string; email: string; apiKey: string }> = {} as never;
const leads: Record<'a1' | 'a2' | 'b1', string> = {} as never;
const lead = async (id: string) => (await service.request('GET', `/leads/${id}`, ops)).body;

beforeAll(async () => {
  // Made-up countries score −10 (outside the target region): a demo request (+50) is 40, sales-ready here.
  service = await startService({
    databaseUrl: await freshDatabase('inbox_browser'),
    actionLinkSecret: secret,
    config: salesReadyDemoRequests,
  });
  mail = await startAlertMail(service, secret);
  browser = await launchChromium();
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
  for (const [key, country, n] of [
    ['a1', 'XA', 1],
    ['a2', 'XA', 2],
    ['b1', 'XE', 3],
  ] as const) {
    const captured = await service.request('POST', '/leads', {
      body: { email: `buyer${n}.${suffix}@prospect-${suffix}.com`, source: 'demo_request', country, company: `Company ${n}`, title: 'CTO' },
    });
    expect(captured.status).toBe(202);
    leads[key] = captured.body.leadId;
  }
  for (const [id, owner] of [
    [leads.a1, reps.a.id],
    [leads.a2, reps.a.id],
    [leads.b1, reps.b.id],
  ] as const) {
    await eventually(async () => expect((await lead(id)).ownerId).toBe(owner));
  }
}, 120_000);
afterAll(async () => {
  await browser?.close();
  await mail?.stop();
  await service?.close();
});

const listed = (page: Page) => page.locator('tr[data-lead]').evaluateAll((rows) => rows.map((row) => row.getAttribute('data-lead')));

describe('/inbox in Chromium', () => {
  it('signs in by an emailed link, counts the SLA down, accepts a lead (clock stopped), and shows only the rep’s own leads', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    const refused = cspRefusals(page);
    const requested: string[] = [];
    page.on('request', (request) => requested.push(request.url()));

    await page.goto(`${service.baseUrl}/inbox`);
    await page.fill('input[name=email]', reps.a.email);
    await page.getByRole('button', { name: 'Email me a sign-in link' }).click();
    await expect.poll(() => page.locator('h1').textContent()).toBe('Check your email');
    const message = await eventually(() => {
      const [found] = mail.mailbox.to(reps.a.email).filter((m) => m.subject === 'Sign in to your lead inbox');
      expect(found).toBeDefined();
      return found!;
    });
    await page.goto(/(http\S+\/inbox\/sign-in\/\S+)/.exec(message.text!)![1]!);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect.poll(() => page.locator('h1').textContent()).toBe('Your leads');

    // The rep's open leads, SLA due first; never the other rep's.
    const [a1, a2] = [await lead(leads.a1), await lead(leads.a2)];
    const byDue = [a1, a2].sort((x, y) => Date.parse(x.sla.dueAt) - Date.parse(y.sla.dueAt)).map((l) => l.leadId);
    expect(await listed(page)).toEqual(byDue);
    // The countdown runs (the script's minutes and seconds; the server renders whole minutes).
    const countdown = page.locator(`tr[data-lead="${leads.a1}"] [data-due]`);
    await expect.poll(() => countdown.textContent()).toMatch(/^\d+ min \d+ s left$/);
    const first = await countdown.textContent();
    await expect.poll(() => countdown.textContent(), { timeout: 5000 }).not.toBe(first);

    // Accept the first lead from its page.
    await page.getByRole('link', { name: 'Company 1' }).click();
    await expect.poll(() => page.locator('h1').textContent()).toBe('Company 1');
    expect(await page.locator('#status').textContent()).toBe('sql');
    await page.getByRole('button', { name: 'Accept' }).click();
    await expect.poll(() => page.locator('h1').textContent()).toBe('Accepted');
    await page.getByRole('link', { name: 'Back to the lead' }).click();
    await expect.poll(() => page.locator('#status').textContent()).toBe('accepted');
    expect(await page.locator('#sla').textContent()).toMatch(/^responded in \d+ (s|min)$/);
    expect(await page.locator('#timeline').textContent()).toContain('responded (how: accept)');
    const accepted = await lead(leads.a1);
    expect(accepted.status).toBe('accepted');
    expect(accepted.sla.respondedAt).toEqual(expect.any(String));
    expect(accepted.sla.breaches).toBe(0);
    const events = (await service.request('GET', `/leads/${leads.a1}/timeline`, ops)).body.events as {
      type: string;
      data: Record<string, unknown>;
    }[];
    expect(events.filter((e) => e.type === 'responded').map((e) => e.data)).toEqual([
      expect.objectContaining({ how: 'accept', responseMs: accepted.sla.responseMs, withinSla: true }),
    ]);

    // Another rep's lead: as no lead.
    await page.goto(`${service.baseUrl}/inbox/leads/${leads.b1}`);
    expect(await page.locator('h1').textContent()).toBe('Not in your inbox');
    expect(await page.locator('body').textContent()).not.toContain('Company 3');

    // A lead reassigned away leaves the inbox.
    await page.goto(`${service.baseUrl}/inbox`);
    expect(await listed(page)).toContain(leads.a2);
    const moved = await service.request('POST', `/leads/${leads.a2}/reassign`, { ...ops, body: { ownerId: reps.b.id } });
    expect(moved.status).toBeLessThan(300);
    await eventually(async () => {
      await page.reload();
      expect(await listed(page)).toEqual([leads.a1]);
    });
    await page.goto(`${service.baseUrl}/inbox/leads/${leads.a2}`);
    expect(await page.locator('h1').textContent()).toBe('Not in your inbox');

    const origin = new URL(service.baseUrl).origin;
    expect(requested.filter((url) => new URL(url).origin !== origin)).toEqual([]);
    expect(requested).toContain(`${origin}/inbox/assets/inbox.js`);
    expect(refused).toEqual([]);
    await context.close();
  });

  it('works without JavaScript: signs in by key (a wrong one refused on the page), accepts and logs a call, signs out', async () => {
    const context = await browser.newContext({ javaScriptEnabled: false });
    const page = await context.newPage();
    await page.goto(`${service.baseUrl}/inbox`);
    await page.fill('input[name=key]', 'not-a-key');
    await page.getByRole('button', { name: 'Sign in with my key' }).click();
    await expect.poll(() => page.locator('[role=alert]').textContent()).toContain('not an active rep’s key');
    await page.fill('input[name=key]', reps.b.apiKey);
    await page.getByRole('button', { name: 'Sign in with my key' }).click();
    await expect.poll(() => page.locator('h1').textContent()).toBe('Your leads');
    expect((await listed(page)).sort()).toEqual([leads.a2, leads.b1].sort());
    // Without the script the time left stays as rendered.
    expect(await page.locator(`tr[data-lead="${leads.b1}"] [data-due]`).textContent()).toMatch(/^\d+ (min|h) left$/);
    const [cookie] = await context.cookies();
    expect(cookie).toMatchObject({ name: 'inbox_session', httpOnly: true, sameSite: 'Strict', path: '/inbox', secure: false });

    await page.getByRole('link', { name: 'Company 3' }).click();
    await page.getByRole('button', { name: 'Accept' }).click();
    await expect.poll(() => page.locator('h1').textContent()).toBe('Accepted');
    await page.getByRole('link', { name: 'Back to the lead' }).click();
    await page.fill('input[name=note] >> nth=0', 'left a voicemail');
    await page.getByRole('button', { name: 'Log call' }).click();
    await expect.poll(() => page.locator('h1').textContent()).toBe('Call logged');
    expect((await lead(leads.b1)).status).toBe('accepted');
    await eventually(async () => {
      const events = (await service.request('GET', `/leads/${leads.b1}/timeline`, ops)).body.events as {
        type: string;
        data: Record<string, unknown>;
      }[];
      expect(events.filter((e) => e.type === 'touch').map((e) => e.data.note)).toEqual(['left a voicemail']);
    });

    mkdirSync(artifacts, { recursive: true });
    await page.goto(`${service.baseUrl}/inbox`);
    await page.screenshot({ path: join(artifacts, 'inbox.png'), fullPage: true });
    await page.getByRole('button', { name: 'Sign out' }).click();
    await expect.poll(() => page.locator('h1').textContent()).toBe('Sign in to your leads');
    expect(await context.cookies()).toEqual([]);
    await context.close();
  });
});
