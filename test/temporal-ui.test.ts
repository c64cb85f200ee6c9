import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it, inject } from 'vitest';
import { startService, uniqueEmail, type ServiceUnderTest, eventually } from './support/helpers';

/** Debian's Chromium (installed by .ci/run); CHROMIUM_PATH points elsewhere. */
const chromiumPath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

let service: ServiceUnderTest;
let browser: Browser;
beforeAll(async () => {
  if (!existsSync(chromiumPath)) {
    throw new Error(`no Chromium at ${chromiumPath}: install Debian's chromium (apt-get install chromium) or set CHROMIUM_PATH`);
  }
  service = await startService();
  browser = await chromium.launch({
    executablePath: chromiumPath,
    // The machine has no internet: keep Chromium from calling home.
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
  });
});
afterAll(async () => {
  await browser?.close();
  await service?.close();
});

describe('Temporal Web UI', () => {
  it("shows the event history of a lead captured through the API", async () => {
    const captured = await service.request('POST', '/leads', { body: { email: uniqueEmail('ui'), source: 'chat' } });
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
    // A capture is an update the workflow accepts; its data access runs as local activities: markers named after the activity.
    for (const event of ['Workflow Execution Started', 'Workflow Execution Update Accepted', 'saveLead']) {
      await expect.poll(() => page.getByText(event, { exact: false }).first().isVisible(), { timeout: 30_000 }).toBe(true);
    }
    await page.screenshot({ path: join(tmpdir(), 'temporal-ui-lead.png'), fullPage: true });
    await page.close();
  });
});
