import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cspRefusals, launchChromium } from '../support/browser';
import { alwaysOpen } from '../support/fixtures';
import { eventually, freshDatabase, startService, type ServiceUnderTest } from '../support/helpers';
import { startAlertMail } from '../support/alert-mail';

/**
 * The console in headless Chromium, on a database of its own: ops signs in and builds a team of two
 * reps from forms; marketing publishes a template after its live preview, runs a backtest and sees
 * its band matrix, publishes a model with a rollout; ops previews a lead's routing (nothing written),
 * captures it and finds its decision in the routing log; a marketing key never sees rep management;
 * every page carries the CSP and loads nothing from another origin.
 */

/** Screenshots a person can look at after the run (gitignored); docs/features/console.md shows one. */
const artifacts = join(import.meta.dirname, '..', 'artifacts');
const secret = `console-secret-${randomUUID()}`;
const ops = { key: 'ops-dev' };
const suffix = randomUUID().slice(0, 6);
let service: ServiceUnderTest;
let browser: Browser;
// Test emails from the template editor go out through the notifier to a real SMTP server in this process.
let alertMail: Awaited<ReturnType<typeof startAlertMail>>;
let origin: string;

/** Every console page's answer headers, and every request any page made. */
const documents: { url: string; status: number; headers: Record<string, string> }[] = [];
const requested: string[] = [];

async function signedIn(key: string): Promise<{ context: BrowserContext; page: Page; refused: string[] }> {
  const context = await browser.newContext();
  const page = await context.newPage();
  const refused = cspRefusals(page);
  page.on('request', (request) => requested.push(request.url()));
  page.on('response', async (response) => {
    if (response.request().resourceType() === 'document' && new URL(response.url()).pathname.startsWith('/console')) {
      documents.push({ url: response.url(), status: response.status(), headers: await response.allHeaders() });
    }
  });
  await page.goto(`${service.baseUrl}/console`);
  await page.fill('input[name=key]', key);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(/\/console\/[a-z-]+$/);
  return { context, page, refused };
}
const heading = (page: Page) => page.locator('h1').textContent();
const navLinks = (page: Page) => page.locator('nav[aria-label=console] a').allTextContents();
const shoot = (page: Page, name: string) => page.screenshot({ path: join(artifacts, `console-${name}.png`), fullPage: true });

beforeAll(async () => {
  service = await startService({ databaseUrl: await freshDatabase('console_browser'), actionLinkSecret: secret });
  origin = new URL(service.baseUrl).origin;
  alertMail = await startAlertMail(service, secret);
  browser = await launchChromium();
  mkdirSync(artifacts, { recursive: true });
  // Leads for the backtest, in a country no team serves (they wait unassigned): a demo request and a newsletter sign-up.
  for (const [n, source] of [
    [1, 'demo_request'],
    [2, 'newsletter'],
    [3, 'webinar'],
  ] as const) {
    const captured = await service.request('POST', '/leads', {
      body: { email: `buyer${n}.${suffix}@prospect-${suffix}.com`, source, country: 'XL', company: `Backtest ${n}`, title: 'CTO' },
    });
    expect(captured.status).toBe(202);
    await eventually(async () =>
      expect((await service.request('GET', `/leads/${captured.body.leadId}`, ops)).body.score).toEqual(expect.any(Number)),
    );
  }
}, 120_000);
afterAll(async () => {
  await browser?.close();
  await alertMail?.stop();
  await service?.close();
});

describe('/console in Chromium', () => {
  it('ops signs in, creates and changes a team, adds two reps to it, edits one, sees the API’s error on the form', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${service.baseUrl}/console`);
    await page.fill('input[name=key]', 'capture-dev');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect.poll(() => page.locator('[role=alert]').textContent()).toContain('not an ops or marketing key');
    await context.close();

    const { context: opsContext, page: console_, refused } = await signedIn('ops-dev');
    expect(await heading(console_)).toBe('Teams and territories');
    expect(await navLinks(console_)).toEqual(['Teams and territories', 'Reps', 'Accounts', 'Sources', 'Routing preview', 'Routing log']);
    const [cookie] = await opsContext.cookies();
    expect(cookie).toMatchObject({ name: 'console_session', httpOnly: true, sameSite: 'Strict', path: '/console' });
    expect(cookie!.value).not.toContain('ops-dev');

    // A wrong time zone: the API's 400 names the field, shown beside it, the form kept as typed.
    const teamId = `team-xk-${suffix}`;
    await console_.fill('#team-form input[name=id]', teamId);
    await console_.fill('#team-form input[name=name]', 'Kosovo inside sales');
    await console_.fill('#team-form input[name=countries]', 'xk');
    await console_.check('#team-form input[name=segments][value=smb]');
    await console_.fill('#team-form input[name=timeZone]', 'Mars/Olympus');
    await console_.getByRole('button', { name: 'Add team' }).click();
    await expect.poll(() => console_.locator('[data-error-for="businessHours.timeZone"]').textContent()).toContain('IANA time zone');
    expect(await console_.inputValue('#team-form input[name=name]')).toBe('Kosovo inside sales');
    await console_.fill('#team-form input[name=timeZone]', 'Europe/Belgrade');
    await console_.getByRole('button', { name: 'Add team' }).click();
    await expect.poll(() => console_.locator('[role=status]').textContent()).toContain(`Team ${teamId} added`);
    expect(await console_.locator(`tr[data-team="${teamId}"]`).textContent()).toContain('Mon Tue Wed Thu Fri 09:00–17:00 Europe/Belgrade');
    await shoot(console_, 'teams');
    const team = ((await service.request('GET', '/teams', ops)).body.teams as any[]).find((t) => t.id === teamId);
    expect(team).toMatchObject({
      countries: ['XK'],
      segments: ['smb'],
      businessHours: { timeZone: 'Europe/Belgrade', days: [1, 2, 3, 4, 5], start: '09:00', end: '17:00' },
    });

    // The territory widened and the hours changed from the team's page.
    await console_.getByRole('link', { name: teamId }).click();
    expect(await console_.inputValue('#team-form input[name=countries]')).toBe('XK');
    await console_.fill('#team-form input[name=countries]', 'XK, xl');
    await console_.fill('#team-form input[name=end]', '18:30');
    await console_.check('#team-form input[name=days][value="6"]');
    await console_.getByRole('button', { name: 'Save team' }).click();
    await expect.poll(() => console_.locator('[role=status]').textContent()).toBe('Saved.');
    await shoot(console_, 'team');
    const changed = ((await service.request('GET', '/teams', ops)).body.teams as any[]).find((t) => t.id === teamId);
    expect(changed).toMatchObject({
      countries: ['XK', 'XL'],
      segments: ['smb'],
      businessHours: { days: [1, 2, 3, 4, 5, 6], start: '09:00', end: '18:30' },
    });

    // Two reps on the team; each key shown once.
    await console_.getByRole('link', { name: 'Reps' }).click();
    const keys: string[] = [];
    for (const n of [1, 2]) {
      await console_.fill('#rep-form input[name=name]', `Rep ${n}`);
      await console_.fill('#rep-form input[name=email]', `rep${n}-${suffix}@example.com`);
      await console_.selectOption('#rep-form select[name=teamId]', teamId);
      await console_.fill('#rep-form input[name=capacity]', String(10 * n));
      await console_.getByRole('button', { name: 'Add rep' }).click();
      await expect.poll(() => console_.locator('#api-key').count()).toBe(1);
      keys.push((await console_.locator('#api-key [data-secret]').textContent())!);
    }
    const reps = ((await service.request('GET', '/reps', ops)).body.reps as any[]).filter((r) => r.teamId === teamId);
    expect(reps.map((r) => [r.name, r.capacity]).sort()).toEqual([
      ['Rep 1', 10],
      ['Rep 2', 20],
    ]);
    expect(keys.every((k) => k.startsWith('rk_'))).toBe(true);
    await console_.goto(`${service.baseUrl}/console/reps`);
    expect(await console_.locator('#api-key').count()).toBe(0);
    // The same rendered form sent twice (a double click) adds one rep; the second answer has no key.
    const twice = {
      csrf: await console_.inputValue('#rep-form input[name=csrf]'),
      form: await console_.inputValue('#rep-form input[name=form]'),
      name: 'Twice',
      email: `twice-${suffix}@example.com`,
    };
    const first = await console_.request.post(`${service.baseUrl}/console/reps`, { form: twice });
    const second = await console_.request.post(`${service.baseUrl}/console/reps`, { form: twice });
    expect([first.status(), second.status()]).toEqual([201, 201]);
    expect(await first.text()).toContain('rk_');
    expect(await second.text()).toContain('This form was sent before');
    expect(((await service.request('GET', '/reps', ops)).body.reps as any[]).filter((r) => r.name === 'Twice')).toHaveLength(1);
    await shoot(console_, 'reps');

    // Out of office with a date, a new weight, a Slack id; then a bad Slack id refused by name.
    const rep = reps.find((r) => r.name === 'Rep 1')!;
    await console_.getByRole('link', { name: rep.id }).click();
    const until = new Date(Date.now() + 7 * 24 * 3600_000).toISOString().slice(0, 16);
    await console_.fill('#rep-edit input[name=outOfOfficeUntil]', until);
    await console_.fill('#rep-edit input[name=weight]', '3');
    await console_.fill('#rep-edit input[name=slackUserId]', 'U024BE7LH');
    await console_.getByRole('button', { name: 'Save' }).click();
    await expect.poll(() => console_.locator('[role=status]').textContent()).toBe('Saved.');
    const saved = ((await service.request('GET', '/reps', ops)).body.reps as any[]).find((r) => r.id === rep.id);
    expect(saved).toMatchObject({ weight: 3, slackUserId: 'U024BE7LH', active: true, teamId, outOfOfficeUntil: `${until}:00.000Z` });
    await console_.fill('#rep-edit input[name=slackUserId]', 'not-slack');
    await console_.getByRole('button', { name: 'Save' }).click();
    await expect.poll(() => console_.locator('[data-error-for=slackUserId]').textContent()).toContain('Slack member id');
    await shoot(console_, 'rep');

    // Accounts and sources: a source's secret shown once.
    await console_.getByRole('link', { name: 'Accounts' }).click();
    await console_.fill('#account-form input[name=domain]', `acme-${suffix}.io`);
    await console_.fill('#account-form input[name=name]', 'Acme');
    await console_.fill('#account-form input[name=ownerId]', rep.id);
    await console_.getByRole('button', { name: 'Save account' }).click();
    await expect.poll(() => console_.locator(`tr[data-account="acme-${suffix}.io"]`).textContent()).toContain(rep.id);
    await shoot(console_, 'accounts');
    await console_.getByRole('link', { name: 'Sources' }).click();
    await console_.selectOption('#source-form select[name=vendor]', 'typeform');
    await console_.fill('#source-form input[name=name]', 'Typeform demo');
    await console_.selectOption('#source-form select[name=leadSource]', 'demo_request');
    await console_.getByRole('button', { name: 'Register source' }).click();
    await expect.poll(() => console_.locator('#source-created [data-secret]').count()).toBe(1);
    expect(await console_.locator('#source-created').textContent()).toContain(`${origin}/hooks/src_`);
    await shoot(console_, 'sources');
    await console_.goto(`${service.baseUrl}/console/sources`);
    expect(await console_.locator('[data-secret]').count()).toBe(0);

    // A form without the session's CSRF token (another page posting with the cookie) does nothing.
    const forged = await console_.request.post(`${service.baseUrl}/console/teams`, {
      form: { name: 'Forged', countries: 'XK', timeZone: 'UTC', days: '1', start: '09:00', end: '17:00' },
    });
    expect(forged.status()).toBe(403);
    expect(((await service.request('GET', '/teams', ops)).body.teams as any[]).map((t) => t.name)).not.toContain('Forged');

    expect(refused).toEqual([]);
    await opsContext.close();
  });

  it('marketing sees no rep management, edits a template with a live preview, publishes it and a cadence of it', async () => {
    const { context, page, refused } = await signedIn('marketing-dev');
    expect(await navLinks(page)).toEqual(['Email templates', 'Cadences', 'Scoring models']);
    for (const path of ['/console/reps', '/console/teams', `/console/reps/rep-x`, '/console/routing-preview', '/console/routing-log']) {
      const answer = await page.goto(`${service.baseUrl}${path}`);
      expect(answer!.status()).toBe(403);
      expect(await heading(page)).toBe('Not for your role');
      expect(await page.locator('body').textContent()).not.toContain('Add a rep');
    }
    // Nor can it post to them, with a valid CSRF token of its own session.
    await page.goto(`${service.baseUrl}/console/templates`);
    const csrf = await page.locator('input[name=csrf]').first().inputValue();
    const before = ((await service.request('GET', '/reps', ops)).body.reps as any[]).length;
    const posted = await page.request.post(`${service.baseUrl}/console/reps`, {
      form: { csrf, name: 'Sneaky', email: `sneaky-${suffix}@example.com` },
    });
    expect(posted.status()).toBe(403);
    expect((await service.request('GET', '/reps', ops)).body.reps).toHaveLength(before);

    await page.goto(`${service.baseUrl}/console/templates`);
    await page.getByRole('link', { name: 'New template' }).click();
    const name = `console-${suffix}/welcome`;
    await page.fill('input[name=name]', name);
    await page.fill('input[name=subject]', 'Hello {{ lead.firstName }} from {{ lead.company }}');
    await page.fill('textarea[name=text]', 'Hi {{ lead.firstName }},\nthanks for your interest.\nUnsubscribe: {{ unsubscribeUrl }}');
    // The live preview: rendered by the template engine on the sample lead, without a click.
    await expect.poll(() => page.locator('#preview-subject').textContent()).toBe('Hello Jane from Acme');
    await expect.poll(() => page.locator('#preview-text').textContent()).toContain('Hi Jane,');
    // A variable no email has: refused at preview as at publishing, naming the part.
    await page.fill('input[name=subject]', 'Hello {{ lead.frstName }}');
    await expect.poll(() => page.locator('#preview [data-field=subject]').textContent()).toContain('cannot be rendered');
    await page.getByRole('button', { name: 'Publish as the next version' }).click();
    await expect.poll(() => page.locator('#refused [data-field=subject]').count()).toBe(1);
    expect((await service.request('GET', `/templates?name=${name}`, ops)).status).toBe(404);
    await page.fill('input[name=subject]', 'Hello {{ lead.firstName }}');
    await page.getByRole('button', { name: 'Publish as the next version' }).click();
    await expect.poll(() => page.locator('#published').textContent()).toBe(`Published ${name} version 1.`);
    expect(await page.locator('#preview-subject').textContent()).toBe('Hello Jane');
    const [published] = (await service.request('GET', `/templates?name=${name}`, ops)).body.templates;
    expect(published).toMatchObject({
      version: 1,
      subject: 'Hello {{ lead.firstName }}',
      text: expect.stringContaining('Hi {{ lead.firstName }},\nthanks'),
    });
    // A test email of the draft as it stands, to one address: rendered on the sample lead, marked as a test, not published.
    const tester = `marketer-${suffix}@example.com`;
    await page.fill('input[name=subject]', 'Draft for {{ lead.company }}');
    // No address: the API's 400 is shown beside the field (a malformed one the browser's own check stops first).
    await page.fill('input[name=to]', '');
    await page.getByRole('button', { name: 'Send a test email' }).click();
    await expect.poll(() => page.locator('#refused [data-field=to]').count()).toBe(1);
    await page.fill('input[name=to]', tester);
    await page.getByRole('button', { name: 'Send a test email' }).click();
    await expect
      .poll(() => page.locator('#test-email-queued').textContent())
      .toBe(`Test email "[Test] Draft for Acme" queued to ${tester}.`);
    const [testEmail] = await eventually(() => {
      const received = alertMail.mailbox.to(tester);
      expect(received).toHaveLength(1);
      return received;
    });
    expect(testEmail!.subject).toBe('[Test] Draft for Acme');
    expect(testEmail!.text).toContain('Hi Jane,');
    expect((await service.request('GET', `/templates?name=${name}`, ops)).body.templates).toHaveLength(1);
    await shoot(page, 'template');
    await page.fill('input[name=subject]', 'Hello {{ lead.firstName }}');
    await page.getByRole('link', { name: 'All templates' }).click();
    expect(await page.locator(`tr[data-template="${name}"]`).textContent()).toContain('1');
    await shoot(page, 'templates');

    // The HTML part renders in a sandboxed frame, escaped variables and all.
    await page.goto(`${service.baseUrl}/console/templates/edit?name=${encodeURIComponent(name)}`);
    await page.fill('textarea[name=html]', '<p id="hi">Hi {{ lead.firstName }} of {{ lead.company }}</p>');
    await expect.poll(() => page.frameLocator('#preview-html').locator('#hi').textContent()).toBe('Hi Jane of Acme');

    // Without JavaScript the Preview button renders the same preview by a full page.
    const noScript = await browser.newContext({ javaScriptEnabled: false });
    await noScript.addCookies(await context.cookies());
    const plain = await noScript.newPage();
    await plain.goto(`${service.baseUrl}/console/templates/edit?name=${encodeURIComponent(name)}`);
    await plain.fill('input[name=subject]', 'Welcome, {{ lead.lastName }}');
    await plain.getByRole('button', { name: 'Preview' }).click();
    await expect.poll(() => plain.locator('#preview-subject').textContent()).toBe('Welcome, Doe');
    expect((await service.request('GET', `/templates?name=${name}`, ops)).body.templates).toHaveLength(1);
    await noScript.close();

    // A cadence of that template: a bad step named by its path, then published migrating at the next step.
    await page.getByRole('link', { name: 'Cadences' }).click();
    const cadence = `console-${suffix}`;
    await page.fill('input[name=name]', cadence);
    await page.getByRole('button', { name: 'Open' }).click();
    await expect.poll(() => heading(page)).toBe(`Cadence ${cadence}`);
    await page.fill('textarea[name=steps]', JSON.stringify([{ after: 'soon', channel: 'email', template: name }]));
    await page.check('input[name=migrate][value=next_step]');
    await page.getByRole('button', { name: 'Publish' }).click();
    await expect.poll(() => page.locator('#refused [data-field="steps.0.after"]').count()).toBe(1);
    expect(await page.isChecked('input[name=migrate][value=next_step]')).toBe(true);
    await page.fill('textarea[name=steps]', JSON.stringify([{ after: 'P1D', channel: 'email', template: name }]));
    await page.getByRole('button', { name: 'Publish' }).click();
    await expect.poll(() => page.locator('[role=status]').textContent()).toBe(`Published ${cadence} version 1.`);
    const { versions } = (await service.request('GET', `/cadences/${cadence}`, ops)).body;
    expect(versions).toEqual([
      expect.objectContaining({ version: 1, migrate: 'next_step', steps: [{ after: 'P1D', channel: 'email', template: name }] }),
    ]);
    await shoot(page, 'cadence');
    await page.getByRole('link', { name: 'All cadences' }).click();
    expect(await page.locator(`tr[data-cadence="${cadence}"]`).count()).toBe(1);
    await shoot(page, 'cadences');
    expect(refused).toEqual([]);
    await context.close();
  });

  it('marketing runs a backtest of an edited model, sees the band matrix, deciles and AUC, and publishes it with a rollout', async () => {
    const { context, page, refused } = await signedIn('marketing-dev');
    await page.getByRole('link', { name: 'Scoring models' }).click();
    const models = (await service.request('GET', '/scoring-models', ops)).body.models as any[];
    const newest = models.at(-1);
    // A threshold above every score: no lead is sales-ready under the candidate.
    await page.fill('input[name=sqlAt]', '100');
    await page.fill('input[name=mqlAt]', '99');
    await shoot(page, 'scoring-models');
    await page.getByRole('button', { name: 'Run backtest' }).click();
    await expect.poll(() => page.locator('#backtest-state').getAttribute('data-state'), { timeout: 60_000 }).toBe('done');
    const cells = await page
      .locator('#band-matrix td[data-from]')
      .evaluateAll((tds) => tds.map((td) => [td.getAttribute('data-from'), td.getAttribute('data-to'), Number(td.textContent)]));
    const total = cells.reduce((sum, [, , n]) => sum + (n as number), 0);
    expect(total).toBe(3);
    expect(cells.filter(([, to, n]) => to !== 'not_ready' && (n as number) > 0)).toEqual([]);
    expect(await page.locator('#backtest-figures tr[data-figure=auc]').textContent()).toMatch(/AUC/);
    expect(await page.locator('#deciles tbody tr').count()).toBe(10);
    await shoot(page, 'backtest');

    await page.getByRole('link', { name: 'Scoring models' }).first().click();
    await page.fill('input[name=sqlAt]', '101');
    await page.getByRole('button', { name: 'Publish' }).click();
    await expect.poll(() => page.locator('[data-error-for="qualification.sqlAt"]').count()).toBe(1);
    await page.fill('input[name=sqlAt]', String(newest.qualification.sqlAt));
    await page.fill('input[name=mqlAt]', String(newest.qualification.mqlAt));
    await page.check('input[name=rollout]');
    await page.getByRole('button', { name: 'Publish' }).click();
    await expect.poll(() => heading(page)).toBe(`Rollout of version ${newest.version + 1}`);
    await expect.poll(() => page.locator('#rollout-state').getAttribute('data-status'), { timeout: 60_000 }).toBe('completed');
    // The three open leads re-scored under the new version (the same thresholds: no band changed).
    expect(await page.locator('#rollout-state').textContent()).toMatch(/^completed: 3 of 3 done \(3 re-scored.*0 changed band/);
    expect((await service.request('GET', '/scoring-models', ops)).body.models).toHaveLength(models.length + 1);
    await shoot(page, 'rollout');
    expect(refused).toEqual([]);
    await context.close();
  });

  // After the backtest and the rollout, whose counts this test's lead would change.
  it('ops previews a lead for a team of two reps (the pick shown, nothing written), captures it, and finds its decision in the routing log', async () => {
    // A team in XW, a country of this test only: one rep free, one at capacity.
    const teamId = `team-xw-${suffix}`;
    const teamBody = { id: teamId, name: 'XW inside sales', countries: ['XW'], segments: [], businessHours: alwaysOpen };
    expect((await service.request('POST', '/teams', { ...ops, body: teamBody })).status).toBe(201);
    const [free, full] = [`rep-xw-free-${suffix}`, `rep-xw-full-${suffix}`];
    for (const [id, capacity] of [
      [free, 10],
      [full, 0],
    ] as const) {
      const body = { id, name: id, email: `${id}@example.com`, teamId, capacity };
      expect((await service.request('POST', '/reps', { ...ops, body })).status).toBe(201);
    }
    const openLeads = () =>
      Promise.all([free, full].map(async (id) => (await service.request('GET', `/leads?ownerId=${id}`, ops)).body.leads.length));
    const domain = `prospect-xw-${suffix}.com`;

    const { context, page, refused } = await signedIn('ops-dev');
    await page.getByRole('link', { name: 'Routing preview' }).click();
    expect(await heading(page)).toBe('Routing preview');
    // A bad country: the API's 400 names it, shown beside the field, the form kept as typed.
    await page.fill('#preview-form input[name=emailDomain]', domain);
    await page.selectOption('#preview-form select[name=source]', 'demo_request');
    await page.fill('#preview-form input[name=country]', 'X1');
    await page.fill('#preview-form input[name=employees]', '100');
    await page.getByRole('button', { name: 'Preview routing' }).click();
    await expect.poll(() => page.locator('[data-error-for="lead.country"]').textContent()).toContain('ISO 3166-1');
    expect(await page.inputValue('#preview-form input[name=emailDomain]')).toBe(domain);
    await page.fill('#preview-form input[name=country]', 'xw');
    await page.getByRole('button', { name: 'Preview routing' }).click();
    await expect.poll(() => page.locator('#preview-answer').getAttribute('data-outcome')).toBe('round_robin');
    expect(await page.locator('#preview-account').textContent()).toBe('No account for the lead’s email domain.');
    expect(await page.locator(`#preview-territories tr[data-team="${teamId}"]`).textContent()).toContain('yes');
    expect(await page.locator('#preview-path [data-step=territory]').textContent()).toContain(
      `segment mid_market → team XW inside sales (${teamId})`,
    );
    expect(await page.locator(`#preview-path [data-skipped="${full}"]`).textContent()).toBe(`${full} skipped: at capacity`);
    expect(await page.locator('#preview-pick').getAttribute('data-owner')).toBe(free);
    expect(await page.locator('#preview-sla').textContent()).toMatch(/^Priority P1 \(demo_request is P1\), SLA PT5M, due \d{4}-\d\d-\d\dT/);
    await shoot(page, 'routing-preview');
    // Nothing committed: no decision for the team, no rep's open leads moved.
    expect((await service.request('GET', `/routing/decisions?teamId=${teamId}`, ops)).body.decisions).toEqual([]);
    expect(await openLeads()).toEqual([0, 0]);

    // Captured for real, the lead goes to the rep the preview named.
    const captured = await service.request('POST', '/leads', {
      body: {
        email: `buyer.${suffix}@${domain}`,
        source: 'demo_request',
        country: 'XW',
        employees: 100,
        company: 'XW Buyer',
        title: 'CTO',
        industry: 'software',
      },
    });
    expect(captured.status).toBe(202);
    const leadId = captured.body.leadId as string;
    await eventually(async () =>
      expect((await service.request('GET', `/leads/${leadId}`, ops)).body).toMatchObject({ ownerId: free, teamId }),
    );
    expect(await openLeads()).toEqual([1, 0]);
    // The stored lead previewed by its id: its status shown, the same pick, still nothing written.
    await page.getByRole('link', { name: 'Routing preview' }).click();
    await page.fill('#preview-form input[name=leadId]', leadId);
    await page.getByRole('button', { name: 'Preview routing' }).click();
    await expect.poll(() => page.locator('#preview-pick').getAttribute('data-owner')).toBe(free);
    expect(await page.locator('#preview-answer').textContent()).toContain(`lead ${leadId} (sql), demo_request, country XW`);
    expect(await openLeads()).toEqual([1, 0]);

    // Its decision in the log, searched by team; a bad window named beside its field first.
    await page.getByRole('link', { name: 'Routing log' }).click();
    await page.fill('#log-form input[name=from]', '2026-06-02T00:00');
    await page.fill('#log-form input[name=to]', '2026-06-01T00:00');
    await page.getByRole('button', { name: 'Search' }).click();
    await expect.poll(() => page.locator('[data-error-for=to]').textContent()).toContain('must be after from');
    await page.fill('#log-form input[name=from]', '');
    await page.fill('#log-form input[name=to]', '');
    await page.fill('#log-form input[name=teamId]', teamId);
    await page.getByRole('button', { name: 'Search' }).click();
    await expect.poll(() => page.locator('#decisions tbody tr').count()).toBe(1);
    const row = page.locator(`#decisions tr[data-lead="${leadId}"]`);
    const cells = await row.locator('td').allTextContents();
    expect(cells.slice(1, 5)).toEqual([leadId, 'round_robin', free, teamId]);
    expect(cells[5]).toContain(`weighted round robin → ${free}`);
    const [decision] = (await service.request('GET', `/routing/decisions?teamId=${teamId}`, ops)).body.decisions;
    expect(cells[0]).toBe(decision.decidedAt);
    // The lead's link is the API's lead (the console has no lead page); the other its Temporal history.
    const leadHref = (await row.locator('a[data-link=lead]').getAttribute('href'))!;
    expect(leadHref).toBe(`/leads/${leadId}`);
    expect((await service.request('GET', leadHref, ops)).body.leadId).toBe(leadId);
    expect(await row.locator('a[data-link=temporal]').getAttribute('href')).toBe(decision.links.temporalUiUrl);
    expect(decision.links.temporalUiUrl).toMatch(new RegExp(`/workflows/${leadId}$`));
    expect(await page.locator('#next-page').count()).toBe(0);
    await shoot(page, 'routing-log');

    // 50 earlier decisions of the team (copies of this one, as re-routings would leave): a page of 50, then the next page by the API's cursor.
    await service.sql`INSERT INTO routing_decisions (lead_id, routing_key, assignment, decided_at, rep_id, team_id, outcome, path)
      SELECT lead_id, 'earlier:' || n, assignment, decided_at - n * interval '1 minute', rep_id, team_id, outcome, path
      FROM routing_decisions, generate_series(1, 50) AS n WHERE team_id = ${teamId}`;
    await page.reload();
    expect(await page.locator('#decisions tbody tr').count()).toBe(50);
    expect(await page.locator('#decisions tbody tr td:first-child').first().textContent()).toBe(decision.decidedAt);
    await page.getByRole('link', { name: 'Next page' }).click();
    expect(await page.locator('#decisions tbody tr').count()).toBe(1);
    expect(await page.inputValue('#log-form input[name=teamId]')).toBe(teamId);
    expect(await page.locator('#next-page').count()).toBe(0);
    expect(refused).toEqual([]);
    await context.close();
  });

  it('answers every console page with the CSP, frame-ancestors none and nosniff, and nothing left the origin', () => {
    expect(documents.length).toBeGreaterThan(15);
    const paths = documents.map(({ url }) => new URL(url).pathname);
    expect(paths).toEqual(expect.arrayContaining(['/console/routing-preview', '/console/routing-log']));
    for (const { url, headers } of documents) {
      expect({ url, csp: headers['content-security-policy'] }).toEqual({ url, csp: expect.stringContaining("frame-ancestors 'none'") });
      expect(headers['content-security-policy']).toContain("script-src 'self'");
      expect(headers['x-content-type-options']).toBe('nosniff');
      expect(headers['x-frame-options']).toBe('DENY');
      expect(headers['cache-control']).toBe('no-store');
    }
    expect(requested.filter((url) => !url.startsWith('about:') && new URL(url).origin !== origin)).toEqual([]);
    expect(requested).toContain(`${origin}/console/assets/console.js`);
  });
});
