import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startService, uniqueEmail, type ServiceUnderTest } from '../support/helpers';

// docs/api.md: a capture key over its rate gets 429 with Retry-After; other keys and roles are unaffected.
let service: ServiceUnderTest;

beforeAll(async () => {
  service = await startService({
    apiKeys: 'form-a=capture,form-b=capture,ops-key=ops',
    config: { capture: { rateLimit: { requests: 3, per: 'PT1M' } } },
  });
});
afterAll(async () => {
  await service?.close();
});

const capture = (key: string) => service.request('POST', '/leads', { key, body: { email: uniqueEmail('rate'), source: 'newsletter' } });

describe('capture rate limit', () => {
  it('answers 429 with Retry-After once a capture key passes its rate, and only for that key', async () => {
    for (let i = 0; i < 3; i++) expect((await capture('form-a')).status).toBe(202);
    const limited = await capture('form-a');
    expect(limited.status).toBe(429);
    expect(limited.body.error).toMatchObject({ code: 'rate_limited', message: expect.stringContaining('3 requests in PT1M') });
    const retryAfter = Number(limited.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);

    expect((await capture('form-b')).status).toBe(202);
    for (let i = 0; i < 5; i++) expect((await service.request('GET', '/cadences', { key: 'ops-key' })).status).toBe(200);
  });
});
