import { mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { cspRefusals, launchChromium } from '../support/browser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashKey } from '../../api/auth';
import { freshDatabase, startService, type ServiceUnderTest } from '../support/helpers';
import { seedLead } from '../support/seed-leads';
import { weekdaysNineToFive } from '../support/fixtures';

/** Screenshots a person can look at after the run (gitignored). */
const artifacts = join(import.meta.dirname, '..', 'artifacts');

let service: ServiceUnderTest;
let browser: Browser;
const min = 60_000;
const dayMs = 24 * 60 * min;

beforeAll(async () => {
  // A database of its own, so that the page's figures are those of the leads seeded here.
  service = await startService({ databaseUrl: await freshDatabase('dashboard') });
  browser = await launchChromium();

  const hours = weekdaysNineToFive;
  await service.sql`INSERT INTO teams (id, name, countries, business_hours) VALUES ('team-d', 'Dashboard team', '{XQ}', ${service.sql.json(hours)})`;
  await service.sql`INSERT INTO reps ${service.sql(['rep-d1', 'rep-d2'].map((id, i) => ({ id, name: id, email: `${id}@example.com`, team_id: 'team-d', capacity: 5 + i })))}`;
  // Leads of the last days (the dashboard's default window is the report's: the last 30 days).
  const now = Date.now();
  const routed = (n: number, owner: string, responseMin: number, breaches = 0, extra: [string, number, Record<string, unknown>?][] = []) =>
    seedLead(service.sql, {
      createdAt: now - n * dayMs,
      source: n % 2 ? 'demo_request' : 'webinar',
      status: extra.length ? 'converted' : 'accepted',
      teamId: 'team-d',
      ownerId: owner,
      priority: n % 2 ? 'P1' : 'P2',
      breaches,
      events: [
        ['status_changed', 0, { status: 'mql' }],
        ['status_changed', 20 * min, { status: 'sql' }],
        ['assigned', 20 * min],
        ['responded', (20 + responseMin) * min],
        ['status_changed', (20 + responseMin) * min, { status: 'accepted' }],
        ['touch', (20 + responseMin) * min],
        ...extra,
      ],
    });
  await routed(1, 'rep-d1', 3);
  await routed(2, 'rep-d1', 45, 1);
  await routed(3, 'rep-d2', 8, 0, [
    ['touch', dayMs],
    ['status_changed', 2 * dayMs, { status: 'converted' }],
    ['converted', 2 * dayMs, { opportunity: { amount: 12500 } }],
  ]);
  await routed(5, 'rep-d2', 300, 2);
  await seedLead(service.sql, { createdAt: now - 4 * dayMs, source: 'newsletter', status: 'disqualified', statusReason: 'spam' });
  await seedLead(service.sql, { createdAt: now - 6 * dayMs, source: 'chat', status: 'disqualified', statusReason: 'wrong_fit' });
  await seedLead(service.sql, {
    createdAt: now - 40 * dayMs,
    source: 'chat',
    status: 'mql',
    events: [['status_changed', 0, { status: 'mql' }]],
  });
  await seedLead(service.sql, {
    createdAt: now - 2 * dayMs,
    source: 'demo_request',
    status: 'sql',
    teamId: 'team-d',
    events: [['status_changed', 0, { status: 'sql' }]],
  });
});
afterAll(async () => {
  await browser?.close();
  await service?.close();
});

const at = (obj: unknown, path: string) => path.split('.').reduce<any>((o, k) => (o == null ? o : o[k]), obj);

describe('/dashboard', () => {
  it("asks for a key once, shows the reports API's figures and charts, and loads nothing from another host", async () => {
    const api = await service.request('GET', '/reports/funnel', { key: 'ops-dev' });
    expect(api.status).toBe(200);
    expect(api.body.funnel.leads).toBe(7);

    const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    const requested: string[] = [];
    page.on('request', (request) => requested.push(request.url()));
    // The page runs under its Content-Security-Policy without one refusal (docs/operations/security.md).
    const refused = cspRefusals(page);
    await page.goto(`${service.baseUrl}/dashboard`);
    await expect.poll(() => page.locator('#key-form').isVisible()).toBe(true);
    await page.fill('#key', 'ops-dev');
    await page.click('#key-form button[type=submit]');
    await expect.poll(() => page.locator('body').getAttribute('data-state'), { timeout: 20_000 }).toBe('loaded');

    // Every figure on the page is the API's (data-value holds it unformatted; the text is it formatted).
    const figures = await page
      .locator('[data-figure]')
      .evaluateAll((els) => els.map((el: any) => [el.dataset.figure as string, el.dataset.value as string, el.textContent as string]));
    expect(figures.length).toBeGreaterThanOrEqual(11);
    for (const [path, value, text] of figures) {
      const expected = at(api.body, path!);
      expect(value, path).toBe(expected === null || expected === undefined ? '' : String(expected));
      expect(text, path).not.toBe('');
    }
    expect(await page.locator('[data-figure="funnel.leads"]').textContent()).toBe('7');
    expect(await page.locator('[data-figure="sla.complianceRate"]').textContent()).toBe(
      `${(api.body.sla.complianceRate * 100).toFixed(1)}%`,
    );
    expect(await page.locator('#oldest').textContent()).toContain(api.body.unassigned.oldest.leadId);

    // The charts draw the API's series.
    const chartData = (id: string) =>
      page.evaluate((id) => {
        const chart = (globalThis as any).Chart.getChart(id);
        return { labels: chart.data.labels, datasets: chart.data.datasets.map((d: { data: unknown[] }) => d.data) };
      }, id);
    expect(await chartData('chart-speed')).toEqual({
      labels: api.body.responseTime.distribution.map((b: any) => b.bucket),
      datasets: [api.body.responseTime.distribution.map((b: any) => b.leads)],
    });
    expect((await chartData('chart-speed')).datasets[0]).toEqual([1, 1, 1, 0, 1, 0]); // 3 min, 8 min, 45 min, 5 h
    expect(await chartData('chart-sla')).toEqual({
      labels: api.body.sla.byDay.map((d: any) => d.day),
      datasets: [api.body.sla.byDay.map((d: any) => d.complianceRate * 100)],
    });
    const f = api.body.funnel;
    expect((await chartData('chart-funnel')).datasets).toEqual([[f.leads, f.mql, f.sql, f.converted]]);
    expect(await chartData('chart-dq')).toEqual({ labels: ['spam', 'wrong_fit'], datasets: [[1, 1]] });
    expect((await chartData('chart-aging')).labels).toEqual(api.body.aging.map((a: any) => a.status));
    expect((await chartData('chart-aging')).datasets).toEqual(
      ['0-7', '8-30', '31-90', '90+'].map((b) => api.body.aging.map((a: any) => a.buckets[b])),
    );
    expect(await chartData('chart-load')).toEqual({
      labels: ['rep-d1', 'rep-d2'],
      datasets: [
        [2, 1],
        [5, 6],
      ],
    });
    const sourceRows = await page
      .locator('#sources tr')
      .evaluateAll((rows) => rows.map((r) => [...r.querySelectorAll('td')].map((td) => td.textContent)));
    expect(sourceRows).toEqual(
      api.body.bySource.map((s: any) => [s.source, String(s.leads), String(s.conversions), s.amount.toLocaleString('en-US')]),
    );

    mkdirSync(artifacts, { recursive: true });
    const screenshot = join(artifacts, 'dashboard.png');
    await page.screenshot({ path: screenshot, fullPage: true });
    expect(statSync(screenshot).size).toBeGreaterThan(10_000);

    // The key is kept for the tab: a reload does not ask again.
    await page.reload();
    await expect.poll(() => page.locator('body').getAttribute('data-state'), { timeout: 20_000 }).toBe('loaded');
    expect(await page.locator('#key-form').isVisible()).toBe(false);

    const origin = new URL(service.baseUrl).origin;
    expect(requested.filter((url) => new URL(url).origin !== origin)).toEqual([]);
    expect(requested).toContain(`${origin}/dashboard/assets/chart.umd.js`);
    expect(refused).toEqual([]);
    await page.close();
  });

  it('asks again for a key the API refuses, and shows a rep its own numbers', async () => {
    await service.sql`UPDATE reps SET api_key_hash = ${hashKey('dash-rep-key')} WHERE id = 'rep-d1'`;
    const page = await browser.newPage();
    await page.goto(`${service.baseUrl}/dashboard`);
    await page.fill('#key', 'not-a-key');
    await page.click('#key-form button[type=submit]');
    await expect.poll(() => page.locator('#key-error').textContent()).toContain('not valid');
    await page.fill('#key', 'dash-rep-key');
    await page.click('#key-form button[type=submit]');
    await expect.poll(() => page.locator('body').getAttribute('data-state'), { timeout: 20_000 }).toBe('loaded');
    const api = await service.request('GET', '/reports/funnel', { key: 'dash-rep-key' });
    expect(api.body.funnel.leads).toBe(2);
    expect(await page.locator('[data-figure="funnel.leads"]').textContent()).toBe('2');
    expect(await page.locator('#window').textContent()).toContain('rep rep-d1');
    await page.close();
  });

  it('serves the page and Chart.js without authentication, and the page references no other host', async () => {
    const pageResponse = await fetch(`${service.baseUrl}/dashboard`);
    expect(pageResponse.status).toBe(200);
    const html = await pageResponse.text();
    expect(html.match(/(?:src|href)="[^"]*"/g)).toEqual(['src="/dashboard/assets/chart.umd.js"', 'src="/dashboard/assets/dashboard.js"']);
    expect(html).not.toMatch(/https?:\/\//);
    const chartJs = await fetch(`${service.baseUrl}/dashboard/assets/chart.umd.js`);
    expect(chartJs.status).toBe(200);
    expect(chartJs.headers.get('content-type')).toMatch(/javascript/);
    expect(await chartJs.text()).toContain('Chart.js v4');
  });
});
