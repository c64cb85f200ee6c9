import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { httpProvider } from '../../activities/enrichment/http';
import { InvalidEnrichmentResponse } from '../../activities/enrichment/provider';
import { EnrichmentStub } from '../support/enrichment-stub';
import { startService, type ServiceUnderTest } from '../support/helpers';
import { captureUntil } from '../support/fixtures';

const acme = {
  companyName: 'Acme',
  employees: 250,
  industry: 'Software',
  country: 'us',
  techStack: ['Salesforce'],
  fundingStage: 'series_b',
};
let stub: EnrichmentStub;
beforeAll(async () => {
  stub = await new EnrichmentStub().start();
});
afterAll(async () => {
  await stub?.stop();
});

const query = (domain: string) => ({ email: `jane@${domain}`, domain, fields: ['companyName' as const, 'employees' as const] });

describe('HTTP enrichment provider, against a local stub vendor', () => {
  const provider = () => httpProvider({ url: stub.url, apiKey: 'vendor-key', timeout: 'PT0.3S', retries: 2 });

  it('sends the query with the key and normalises the answer', async () => {
    stub.on('ok.test', { kind: 'ok', body: acme });
    expect(await provider().enrich(query('ok.test'))).toEqual({ ...acme, industry: 'software', country: 'US', techStack: ['salesforce'] });
    expect(stub.requests.at(-1)).toEqual({ domain: 'ok.test', authorization: 'Bearer vendor-key', fields: ['companyName', 'employees'] });
  });

  it('answers null for a domain the vendor does not know', async () => {
    stub.on('unknown.test', { kind: 'not_found' });
    expect(await provider().enrich(query('unknown.test'))).toBeNull();
  });

  it('retries 5xx answers and succeeds when the vendor recovers', async () => {
    stub.on('flaky.test', { kind: 'flaky', times: 2, body: acme });
    expect(await provider().enrich(query('flaky.test'))).toMatchObject({ companyName: 'Acme' });
    expect(stub.countFor('flaky.test')).toBe(3);
  });

  it('fails after its retries when the vendor keeps failing', async () => {
    stub.on('down.test', { kind: 'fail', status: 500 });
    await expect(provider().enrich(query('down.test'))).rejects.toThrow(/500/);
    expect(stub.countFor('down.test')).toBe(3);
  });

  it('times out on a vendor slower than its timeout', async () => {
    stub.on('slow.test', { kind: 'slow', delayMs: 2000, body: acme });
    await expect(httpProvider({ url: stub.url, timeout: 'PT0.2S', retries: 0 }).enrich(query('slow.test'))).rejects.toThrow(/timed out/i);
  });

  it('rejects an answer that is not firmographics, and drops single bad fields', async () => {
    stub.on('array.test', { kind: 'ok', body: [1, 2, 3] });
    await expect(provider().enrich(query('array.test'))).rejects.toBeInstanceOf(InvalidEnrichmentResponse);
    stub.on('html.test', { kind: 'garbage', raw: '<html>oops</html>' });
    await expect(provider().enrich(query('html.test'))).rejects.toThrow();
    stub.on('partial.test', { kind: 'ok', body: { companyName: 'Partial', employees: 'lots', country: 'United States', techStack: 'x' } });
    expect(await provider().enrich(query('partial.test'))).toEqual({ companyName: 'Partial' });
  });
});

describe('a lead whose enrichment fails', () => {
  let service: ServiceUnderTest;
  beforeAll(async () => {
    service = await startService({
      config: { enrichment: { provider: 'http', budget: 'PT2S', http: { url: stub.url, timeout: 'PT0.3S', retries: 1 } } },
      enrichment: httpProvider({ url: stub.url, timeout: 'PT0.3S', retries: 1 }),
    });
  });
  afterAll(async () => {
    await service?.close();
  });

  const capture = (email: string) =>
    captureUntil<any>(service, { email, source: 'demo_request', title: 'CTO', country: 'US' }, { score: expect.any(Number) });

  it.each([
    ['the vendor is down', 'down.test' as const, { kind: 'fail', status: 503 } as const],
    ['the vendor answers garbage', 'garbage.test' as const, { kind: 'garbage', raw: '{"companyName": ' } as const],
    ['the vendor is too slow', 'slow.test' as const, { kind: 'slow', delayMs: 3000, body: acme } as const],
  ])('is scored on what is known and flagged when %s', async (_name, domain, behaviour) => {
    stub.on(domain, behaviour);
    const lead = await capture(`jane.${Date.now()}@${domain}`);
    // demo request +50, CTO +20, US +15; nothing from enrichment.
    expect(lead).toMatchObject({ enrichment: 'failed', score: 85, status: 'sql', company: null, employees: null });
    const { body } = await service.request('GET', `/leads/${lead.leadId}/timeline`, { key: 'ops-dev' });
    expect(body.events.find((e: { type: string }) => e.type === 'enrichment_failed').data).toMatchObject({ retryAfter: 'PT1H' });
  });

  it('is enriched when the vendor answers: gaps filled, captured values kept', async () => {
    stub.on('fine.test', { kind: 'ok', body: { ...acme, country: 'DE' } });
    const lead = await capture(`jane.${Date.now()}@fine.test`);
    expect(lead).toMatchObject({
      enrichment: 'enriched',
      company: 'Acme',
      employees: 250,
      industry: 'software',
      country: 'US',
      techStack: ['salesforce'],
    });
    // demo +50, CTO +20, US +15, software +15, 250 employees +5, Salesforce +10 = 115, clamped.
    expect(lead.score).toBe(100);
  });
});
