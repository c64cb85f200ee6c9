import { randomUUID } from 'node:crypto';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAlertMail, linksIn } from '../support/alert-mail';
import { cspRefusals, launchChromium } from '../support/browser';
import { alwaysOpen as hours, salesReadyDemoRequests } from '../support/fixtures';
import { eventually, freshDatabase, startService, type ServiceUnderTest } from '../support/helpers';

/**
 * A rep works a lead from the alert, end to end: the lead is routed, the assignment email arrives
 * on an SMTP server in this process, and its Accept link, opened in headless Chromium, shows the
 * lead (recording nothing) and accepts it with one click, which stops the SLA clock.
 */

const secret = `action-link-secret-${randomUUID()}`;
const ops = { key: 'ops-dev' };
let service: ServiceUnderTest;
let mail: Awaited<ReturnType<typeof startAlertMail>>;
let browser: Browser;

beforeAll(async () => {
  // Made-up countries score −10 (outside the target region): a demo request (+50) is 40, sales-ready here.
  service = await startService({
    databaseUrl: await freshDatabase('action_link_browser'),
    actionLinkSecret: secret,
    config: salesReadyDemoRequests,
  });
  mail = await startAlertMail(service, secret);
  browser = await launchChromium();
}, 120_000);
afterAll(async () => {
  await browser?.close();
  await mail?.stop();
  await service?.close();
});

describe('the accept link of an assignment email, in Chromium', () => {
  it('shows the lead without acting, and one click accepts it: responded with the response time, SLA clock stopped', async () => {
    const suffix = randomUUID().slice(0, 6);
    const team = await service.request('POST', '/teams', {
      ...ops,
      body: { id: `team-${suffix}`, name: 'Alerts', countries: ['XB'], businessHours: hours },
    });
    expect(team.status).toBe(201);
    const email = `rep-${suffix}@example.com`;
    const rep = await service.request('POST', '/reps', { ...ops, body: { id: `rep-${suffix}`, name: 'Rep', email, teamId: team.body.id } });
    expect(rep.status).toBe(201);
    const captured = await service.request('POST', '/leads', {
      body: {
        email: `buyer.${suffix}@prospect-${suffix}.com`,
        source: 'demo_request',
        country: 'XB',
        company: 'Gadgets Ltd',
        title: 'CTO',
      },
    });
    expect(captured.status).toBe(202);
    const leadId: string = captured.body.leadId;
    const routed = await eventually(async () => {
      const view = await service.request('GET', `/leads/${leadId}`, ops);
      expect(view.body.ownerId).toBe(rep.body.id);
      expect(view.body.sla.dueAt).toEqual(expect.any(String));
      return view.body;
    });

    const message = await eventually(() => {
      const [found] = mail.mailbox.to(email);
      expect(found?.text).toContain('/act/');
      return found!;
    });
    const accept = linksIn(message).accept!;
    expect(accept.startsWith(`${service.baseUrl}/act/a1.`)).toBe(true);
    const timeline = async () =>
      (await service.request('GET', `/leads/${leadId}/timeline`, ops)).body.events as { type: string; data: Record<string, any> }[];
    const before = await timeline();

    const page = await browser.newPage();
    const refused = cspRefusals(page);
    const response = await page.goto(accept);
    expect(response?.status()).toBe(200);
    await expect.poll(() => page.locator('h1').textContent()).toBe('Gadgets Ltd');
    expect(await page.locator('body').textContent()).toMatch(/due \d{4}-\d\d-\d\d \d\d:\d\d UTC \(\d+ (min|h) left\)/);
    // Opening the link (as a mail scanner would) records nothing.
    expect(await timeline()).toEqual(before);
    expect((await service.request('GET', `/leads/${leadId}`, ops)).body.status).toBe('sql');

    await page.getByRole('button', { name: 'Accept' }).click();
    await expect.poll(() => page.locator('h1').textContent()).toBe('Accepted');

    const lead = (await service.request('GET', `/leads/${leadId}`, ops)).body;
    expect(lead.status).toBe('accepted');
    // The SLA clock stopped: the response is recorded within the SLA, and no deadline is pending.
    expect(lead.sla.respondedAt).toEqual(expect.any(String));
    expect(lead.sla.responseMs).toBeGreaterThanOrEqual(0);
    expect(lead.sla.breaches).toBe(0);
    const responded = (await timeline()).filter((event) => event.type === 'responded');
    expect(responded).toHaveLength(1);
    expect(responded[0]!.data).toMatchObject({ by: `rep:${rep.body.id}`, how: 'accept', responseMs: lead.sla.responseMs, withinSla: true });
    expect(Date.parse(lead.sla.respondedAt)).toBeLessThanOrEqual(Date.parse(routed.sla.dueAt));

    // Back on the lead, it reads as accepted and responded.
    await page.getByRole('link', { name: 'Back to the lead' }).click();
    await expect.poll(() => page.locator('body').textContent()).toContain('accepted');
    expect(await page.locator('body').textContent()).toMatch(/responded in \d+ (s|min)/);
    expect(await page.getByRole('button', { name: 'Accept' }).count()).toBe(0);
    expect(refused).toEqual([]);
    await page.close();
  });
});
