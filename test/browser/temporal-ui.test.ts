import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { cspRefusals, launchChromium } from '../support/browser';
import { afterAll, beforeAll, describe, expect, it, inject } from 'vitest';
import { Client, Connection } from '@temporalio/client';
import { historyText } from '../support/codec';
import { startService, uniqueEmail, type ServiceUnderTest, eventually } from '../support/helpers';

let service: ServiceUnderTest;
let browser: Browser;
beforeAll(async () => {
  // On the port the dev server's UI was given as its codec endpoint (test/global-setup.ts).
  service = await startService({ port: inject('codecPort') });
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
  await service?.close();
});

describe('Temporal Web UI', () => {
  it("shows the event history of a lead captured through the API, its encrypted capture decoded through the API's codec server", async () => {
    const email = uniqueEmail('ui');
    const captured = await service.request('POST', '/leads', { body: { email, source: 'chat' } });
    expect(captured.status).toBe(202);
    const { leadId } = captured.body;
    // Wait until the workflow has run the capture, so the history holds more than the start.
    const lead = await eventually(async () => {
      const response = await service.request('GET', `/leads/${leadId}`, { key: 'ops-dev' });
      expect(response.body.score).toEqual(expect.any(Number));
      return response.body;
    });
    const { runId } = await service.client.workflow.getHandle(leadId).describe();
    expect(lead.temporalUiUrl).toBe(`${inject('temporalUiUrl')}/namespaces/default/workflows/${leadId}`);

    const page = await browser.newPage();
    await page.goto(`${lead.temporalUiUrl}/${runId}/history`);
    await expect.poll(() => page.getByText(leadId).first().isVisible(), { timeout: 30_000 }).toBe(true);
    // A new lead's capture is in the workflow's input; its data access runs as local activities: markers named after the activity.
    for (const event of ['Workflow Execution Started', 'loadRunStart', 'saveLead']) {
      await expect.poll(() => page.getByText(event, { exact: false }).first().isVisible(), { timeout: 30_000 }).toBe(true);
    }
    // The workflow's input, decrypted in the browser by the codec server: open the event to see it.
    await page.getByText('Workflow Execution Started', { exact: false }).first().click();
    await expect.poll(() => page.getByText(email, { exact: false }).first().isVisible(), { timeout: 30_000 }).toBe(true);
    await page.getByText(email, { exact: false }).first().scrollIntoViewIfNeeded();
    await page.screenshot({ path: join(tmpdir(), 'temporal-ui-lead.png'), fullPage: true });
    await page.close();

    // What the UI showed is not in Temporal itself: the history read without the codec holds no email.
    const connection = await Connection.connect({ address: inject('temporalAddress') });
    try {
      const raw = await new Client({ connection }).workflow.getHandle(leadId).fetchHistory();
      expect(await historyText(raw)).not.toContain(email);
    } finally {
      await connection.close();
    }
  });
});

describe('API reference', () => {
  it('renders the operations at /docs with every request going to the app itself', async () => {
    const page = await browser.newPage();
    const requested: string[] = [];
    page.on('request', (request) => requested.push(request.url()));
    // Swagger UI runs under the page's Content-Security-Policy without one refusal (docs/operations/security.md).
    const refused = cspRefusals(page);
    await page.goto(`${service.baseUrl}/docs`);
    const capture = page.locator('.opblock-post', { has: page.locator('[data-path="/leads"]') });
    await expect.poll(() => capture.first().isVisible(), { timeout: 30_000 }).toBe(true);
    expect(await capture.first().locator('.opblock-summary-method').textContent()).toBe('POST');
    // Inline images (data:) are fine; anything fetched over the network must come from the app.
    expect(requested.filter((url) => /^https?:/.test(url) && new URL(url).origin !== service.baseUrl)).toEqual([]);
    expect(requested).toContain(`${service.baseUrl}/openapi.json`);
    expect(refused).toEqual([]);
    await page.close();
  });
});
