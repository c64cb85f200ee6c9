import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { leadIdFor } from '../support/lead-ids';
import { person, tallyFixture } from '../support/form-vendors';
import { startService, uniqueEmail, type ServiceUnderTest } from '../support/helpers';

// docs/operations/security.md "Floods": requests that fail authentication are limited per source and
// per client address (429 with Retry-After), and unknown source ids and keys are looked up once per TTL.
const asOps = { key: 'ops-dev' };
const randomSourceId = () => `src_${randomBytes(10).toString('hex')}`;
const randomKey = () => `guess-${randomBytes(16).toString('hex')}`;

async function createTally(service: ServiceUnderTest) {
  const created = await service.request('POST', '/sources', {
    ...asOps,
    body: { vendor: 'tally', name: 'flood test', leadSource: 'demo_request' },
  });
  expect(created.status).toBe(201);
  return created.body as { id: string; hookPath: string; secret: string };
}

/** A Tally delivery to `sourceId`, signed with `secret`, sent from `forwardedFor` when given. */
async function deliver(
  service: ServiceUnderTest,
  sourceId: string,
  secret: string,
  { email = uniqueEmail('flood'), forwardedFor = '' } = {},
) {
  const eventId = `evt-${randomUUID()}`;
  const { body, contentType } = tallyFixture.body(person(email), eventId);
  const url = `${service.baseUrl}/hooks/${sourceId}`;
  const { headers } = tallyFixture.sign(body, secret, { now: Date.now(), url }, eventId);
  const response = await fetch(url, {
    method: 'POST',
    headers: { ...headers, 'content-type': contentType, ...(forwardedFor ? { 'x-forwarded-for': forwardedFor } : {}) },
    body,
  });
  return { status: response.status, retryAfter: response.headers.get('retry-after'), body: (await response.json()) as any };
}

/** `lead_api_lookups_total{kind}` of the service's API: the Postgres lookups made to authenticate. */
async function lookups(service: ServiceUnderTest, kind: 'source' | 'api_key'): Promise<number> {
  const { body } = await service.request('GET', '/metrics', { key: 'metrics-dev' });
  const match = new RegExp(`^lead_api_lookups_total\\{kind="${kind}"\\} (\\d+)$`, 'm').exec(body as string);
  return match ? Number(match[1]) : 0;
}

const statuses = (answers: { status: number }[]) =>
  answers.reduce<Record<number, number>>((counts, { status }) => ({ ...counts, [status]: (counts[status] ?? 0) + 1 }), {});

function expectLimited(answer: { status: number; retryAfter: string | null; body: any }) {
  expect(answer.status).toBe(429);
  expect(answer.body.error).toMatchObject({ code: 'rate_limited', message: expect.stringContaining('fail authentication') });
  expect(Number(answer.retryAfter)).toBeGreaterThanOrEqual(1);
  expect(Number(answer.retryAfter)).toBeLessThanOrEqual(60);
}

describe('per source', () => {
  let service: ServiceUnderTest;
  beforeAll(async () => {
    service = await startService({
      config: {
        unauthenticated: {
          perSource: { requests: 5, per: 'PT1M' },
          perAddress: { requests: 100_000, per: 'PT1M' },
          missCache: { ttl: 'PT2S', maxEntries: 1000 },
        },
      },
    });
  });
  afterAll(async () => {
    await service?.close();
  });

  it("answers a forged flood 429 with Retry-After past the limit, without a lookup, and leaves another source's deliveries alone", async () => {
    const [flooded, other] = [await createTally(service), await createTally(service)];
    const before = await lookups(service, 'source');
    const answers = await Promise.all(Array.from({ length: 120 }, () => deliver(service, flooded.id, 'not-the-source-secret')));
    expect(statuses(answers)).toEqual({ 401: 5, 429: 115 });
    answers.filter((a) => a.status === 429).forEach(expectLimited);
    expect((await lookups(service, 'source')) - before).toBe(5);

    // The flooded source is limited for everyone until its window ends (its vendor retries after Retry-After) ...
    expectLimited(await deliver(service, flooded.id, flooded.secret));
    // ... and another source's legitimate deliveries go on, more of them than the limit: a delivery
    // that authenticates is not counted (only while it is in flight, so these go one after another).
    const legitimate = [];
    for (let i = 0; i < 12; i++) legitimate.push(await deliver(service, other.id, other.secret));
    expect(legitimate.map((a) => a.status)).toEqual(Array(12).fill(200));
    expect(legitimate[0]!.body.results[0]).toMatchObject({ outcome: 'captured', leadId: expect.any(String) });
  });

  it('looks a flood of random source ids up once per id within the TTL, and finds a source created after its miss once the TTL is over', async () => {
    const ids = Array.from({ length: 80 }, randomSourceId);
    const before = await lookups(service, 'source');
    for (let round = 0; round < 3; round++) {
      const answers = await Promise.all(ids.map((id) => deliver(service, id, 'whatever')));
      expect(statuses(answers)).toEqual({ 404: 80 });
    }
    expect((await lookups(service, 'source')) - before).toBe(80);

    // Another API process creates a source whose id this one has remembered as missing.
    const model = await createTally(service);
    const [late] = ids;
    await service.sql`
      INSERT INTO sources (id, vendor, name, lead_source, field_mapping, secret, token_hash, graph_api_url, access_token, verify_token_hash, created_by)
      SELECT ${late!}, vendor, name, lead_source, field_mapping, secret, token_hash, graph_api_url, access_token, verify_token_hash, created_by
      FROM sources WHERE id = ${model.id}`;
    expect((await deliver(service, late!, model.secret)).status).toBe(404);
    await new Promise((resolve) => setTimeout(resolve, 2100));
    const email = uniqueEmail('late');
    const found = await deliver(service, late!, model.secret, { email });
    expect(found).toMatchObject({ status: 200, body: { results: [{ outcome: 'captured', leadId: leadIdFor(email) }] } });
  });

  it('looks random bearer keys up once per key within the TTL', async () => {
    const keys = Array.from({ length: 120 }, randomKey);
    const before = await lookups(service, 'api_key');
    for (let round = 0; round < 2; round++) {
      const answers = await Promise.all(keys.map((key) => service.request('GET', '/leads', { key })));
      expect(statuses(answers)).toEqual({ 401: 120 });
    }
    expect((await lookups(service, 'api_key')) - before).toBe(120);
  });
});

describe('per client address', () => {
  let service: ServiceUnderTest;
  beforeAll(async () => {
    service = await startService({
      config: {
        // The test's requests all come from 127.0.0.1: as a trusted proxy, X-Forwarded-For names the client.
        unauthenticated: {
          perAddress: { requests: 10, per: 'PT1M' },
          perSource: { requests: 100_000, per: 'PT1M' },
          trustedProxies: ['127.0.0.1'],
        },
      },
    });
  });
  afterAll(async () => {
    await service?.close();
  });

  it('answers 429 with Retry-After to an address past its limit of unknown sources, and only to that address', async () => {
    const before = await lookups(service, 'source');
    const answers = await Promise.all(
      Array.from({ length: 30 }, () => deliver(service, randomSourceId(), 'x', { forwardedFor: '198.51.100.1' })),
    );
    expect(statuses(answers)).toEqual({ 404: 10, 429: 20 });
    answers.filter((a) => a.status === 429).forEach(expectLimited);
    expect((await lookups(service, 'source')) - before).toBe(10);
    // A client cannot pick its bucket by writing X-Forwarded-For itself: the proxy's last entry counts.
    expectLimited(await deliver(service, randomSourceId(), 'x', { forwardedFor: '203.0.113.9, 198.51.100.1' }));

    expect((await deliver(service, randomSourceId(), 'x', { forwardedFor: '198.51.100.2' })).status).toBe(404);
    const source = await createTally(service);
    expect((await deliver(service, source.id, source.secret, { forwardedFor: '198.51.100.3' })).status).toBe(200);
  });

  it('answers 429 to an address past its limit of unknown bearer keys, never to a key of API_KEYS', async () => {
    const from = { 'x-forwarded-for': '198.51.100.20' };
    const answers = await Promise.all(
      Array.from({ length: 30 }, () => service.request('GET', '/leads', { key: randomKey(), headers: from })),
    );
    expect(statuses(answers)).toEqual({ 401: 10, 429: 20 });
    const limited = answers.find((a) => a.status === 429)!;
    expect(limited.body.error.code).toBe('rate_limited');
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect((await service.request('GET', '/sources', { ...asOps, headers: from })).status).toBe(200);
  });
});
