import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashKey } from '../api/auth';
import { requestHash } from '../api/idempotency';
import { claimIdempotencyKey, completeIdempotencyKey, findIdempotencyKey, releaseIdempotencyKey } from '../db/idempotency';
import { leadIdFor } from '../domain/identity';
import { startService, uniqueEmail, type ServiceUnderTest } from './support/helpers';

let service: ServiceUnderTest;
beforeAll(async () => {
  service = await startService();
});
afterAll(async () => {
  await service?.close();
});

const captureScope = hashKey('capture-dev');

/** A row left behind as the API would have left it, `ageSeconds` old: claimed and maybe answered. */
async function leftBehind(row: { scope?: string; key: string; body: unknown; ageSeconds: number; status?: number; response?: unknown }) {
  const hash = requestHash('POST', '/leads', JSON.stringify(row.body));
  const at = new Date(Date.now() - row.ageSeconds * 1000);
  await service.sql`
    INSERT INTO idempotency_keys (scope, key, request_hash, status, response, claim, claimed_at, created_at)
    VALUES (${row.scope ?? captureScope}, ${row.key}, ${hash}, ${row.status ?? null},
            ${row.response === undefined ? null : service.sql.json(row.response as never)}, ${randomUUID()}, ${at}, ${at})`;
}

const stored = async (key: string, scope = captureScope) =>
  (await service.sql<{ status: number | null; response: any; created_at: Date }[]>`
    SELECT status, response, created_at FROM idempotency_keys WHERE scope = ${scope} AND key = ${key}`)[0];

const capture = (body: unknown, key: string) => service.request('POST', '/leads', { body, headers: { 'idempotency-key': key } });

describe('a claim left unanswered (its process died)', () => {
  it('is taken over once its lease (30 s) has passed, and the request answered normally', async () => {
    const body = { email: uniqueEmail('lease'), source: 'chat' };
    const key = randomUUID();
    await leftBehind({ key, body, ageSeconds: 31 });

    const answer = await capture(body, key);
    expect(answer.status).toBe(202);
    expect(answer.body).toMatchObject({ leadId: leadIdFor(body.email), duplicate: false });
    expect(answer.headers.get('idempotent-replayed')).toBeNull();
    expect(await stored(key)).toMatchObject({ status: 202, response: answer.body });
    const replay = await capture(body, key);
    expect(replay.headers.get('idempotent-replayed')).toBe('true');
    expect(replay.body).toEqual(answer.body);
  });

  it('is still 409 within its lease, and 422 after it for another body', async () => {
    const body = { email: uniqueEmail('held'), source: 'chat' };
    const fresh = randomUUID();
    await leftBehind({ key: fresh, body, ageSeconds: 5 });
    const held = await capture(body, fresh);
    expect(held.status).toBe(409);
    expect(held.body.error.code).toBe('idempotency_key_in_use');

    const stale = randomUUID();
    await leftBehind({ key: stale, body, ageSeconds: 60 });
    const other = await capture({ ...body, source: 'referral' }, stale);
    expect(other.status).toBe(422);
    expect(other.body.error.code).toBe('idempotency_key_reused');
  });
  it('keeps the answer of the request that took the key over, not a late one of the process it replaced', async () => {
    const key = randomUUID();
    const times = { leaseMs: 30_000, expireAfterMs: 86_400_000 };
    const slow = await claimIdempotencyKey(service.sql, captureScope, key, 'same-request', times);
    await service.sql`UPDATE idempotency_keys SET claimed_at = now() - interval '31 seconds' WHERE scope = ${captureScope} AND key = ${key}`;
    const takeover = await claimIdempotencyKey(service.sql, captureScope, key, 'same-request', times);
    expect(takeover!.createdAt).toEqual(slow!.createdAt);

    await completeIdempotencyKey(service.sql, captureScope, key, slow!.claim, 202, { from: 'slow' });
    await releaseIdempotencyKey(service.sql, captureScope, key, slow!.claim);
    expect(await findIdempotencyKey(service.sql, captureScope, key)).toMatchObject({ status: null });
    await completeIdempotencyKey(service.sql, captureScope, key, takeover!.claim, 202, { from: 'takeover' });
    expect(await findIdempotencyKey(service.sql, captureScope, key)).toMatchObject({ status: 202, response: { from: 'takeover' } });
  });
});

describe('expiry (24 h)', () => {
  it('does not replay an expired key, and purges expired keys', async () => {
    const body = { email: uniqueEmail('expired'), source: 'chat' };
    const key = randomUUID();
    const oldAnswer = { leadId: 'lead-from-yesterday', duplicate: true, status: 'new' };
    await leftBehind({ key, body, ageSeconds: 25 * 3600, status: 202, response: oldAnswer });
    // Another client's expired key, which the claim purges.
    const otherScope = hashKey(`gone-${randomUUID()}`);
    const otherKey = randomUUID();
    await leftBehind({ scope: otherScope, key: otherKey, body, ageSeconds: 25 * 3600, status: 202, response: oldAnswer });
    // A key used 23 hours ago is kept.
    const recentKey = randomUUID();
    await leftBehind({ key: recentKey, body, ageSeconds: 23 * 3600, status: 202, response: oldAnswer });

    const answer = await capture(body, key);
    expect(answer.status).toBe(202);
    expect(answer.headers.get('idempotent-replayed')).toBeNull();
    expect(answer.body).toMatchObject({ leadId: leadIdFor(body.email), duplicate: false });
    const row = await stored(key);
    expect(row).toMatchObject({ status: 202, response: answer.body });
    expect(Date.now() - row!.created_at.getTime()).toBeLessThan(60_000);

    expect(await stored(otherKey, otherScope)).toBeUndefined();
    expect(await stored(recentKey)).toMatchObject({ response: oldAnswer });
  });
});

describe('answers holding a secret', () => {
  const ops = { key: 'ops-dev' };
  const opsScope = hashKey('ops-dev');

  it('replays POST /reps without the rep\'s key, and never stores it', async () => {
    const id = `rep-idem-${randomUUID().slice(0, 8)}`;
    const key = randomUUID();
    const send = () => service.request('POST', '/reps', { ...ops, body: { id, name: 'Idem Rep', email: `${id}@example.com` }, headers: { 'idempotency-key': key } });
    const first = await send();
    expect(first.status).toBe(201);
    expect(first.body.apiKey).toMatch(/^rk_/);

    const replay = await send();
    expect(replay.status).toBe(201);
    expect(replay.headers.get('idempotent-replayed')).toBe('true');
    expect(replay.body).toEqual({ ...first.body, apiKey: null, apiKeyOmitted: true });

    const row = await stored(key, opsScope);
    expect(row!.response.apiKey).toBeNull();
    expect(JSON.stringify(row)).not.toContain(first.body.apiKey);
    expect((await service.request('GET', '/leads', { key: first.body.apiKey })).status).toBe(200);
  });

  it('replays a key rotation without the key and without rotating again', async () => {
    const id = `rep-rot-${randomUUID().slice(0, 8)}`;
    expect((await service.request('POST', '/reps', { ...ops, body: { id, name: 'Rotated', email: `${id}@example.com` } })).status).toBe(201);
    const key = randomUUID();
    const rotate = () => service.request('POST', `/reps/${id}/api-key`, { ...ops, body: {}, headers: { 'idempotency-key': key } });
    const first = await rotate();
    expect(first.status).toBe(201);

    const replay = await rotate();
    expect(replay.body).toMatchObject({ id, apiKey: null, apiKeyOmitted: true });
    expect((await service.request('GET', '/leads', { key: first.body.apiKey })).status).toBe(200);
    expect(JSON.stringify(await stored(key, opsScope))).not.toContain(first.body.apiKey);
  });
});
