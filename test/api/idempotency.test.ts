import { randomUUID } from 'node:crypto';
import { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashKey } from '../../api/auth';
import type { AppEnv } from '../../api/context';
import { onError } from '../../api/errors';
import { idempotency, requestHash } from '../../api/idempotency';
import { claimIdempotencyKey, completeIdempotencyKey, findIdempotencyKey, releaseIdempotencyKey } from '../../db/idempotency';
import { takeCapture } from '../../capture/take';
import { leadIdFor, leadIdSecret } from '../support/lead-ids';
import { leadStateQuery } from '../../contracts/lead';
import { eventually, startService, uniqueEmail, type ServiceUnderTest } from '../support/helpers';

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
  (
    await service.sql<{ status: number | null; response: any; created_at: Date }[]>`
    SELECT status, response, created_at FROM idempotency_keys WHERE scope = ${scope} AND key = ${key}`
  )[0];

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

  it("replays POST /reps without the rep's key, and never stores it", async () => {
    const id = `rep-idem-${randomUUID().slice(0, 8)}`;
    const key = randomUUID();
    const send = () =>
      service.request('POST', '/reps', {
        ...ops,
        body: { id, name: 'Idem Rep', email: `${id}@example.com` },
        headers: { 'idempotency-key': key },
      });
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
    expect((await service.request('POST', '/reps', { ...ops, body: { id, name: 'Rotated', email: `${id}@example.com` } })).status).toBe(
      201,
    );
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

/**
 * The middleware alone on the real Postgres: one route that records the id it was handed and
 * answers 503 on its first call, 202 after (numbered `call`), first waiting for `holdNext`'s promise if given one.
 */
/** A Hono app with the real idempotency middleware on the real Postgres, under an API key scope of its own. */
function idempotentApp(scopeName: string) {
  const scope = hashKey(`${scopeName}-${randomUUID()}`);
  const app = new Hono<AppEnv>();
  app.onError(onError);
  app.use('*', async (c, next) => {
    c.set('apiKeyHash', scope);
    await next();
  });
  app.use('*', idempotency(service.sql, { lease: 'PT30S', expireAfter: 'PT24H' }));
  return { scope, app };
}

function retriedApp() {
  const { scope, app } = idempotentApp('retry');
  const seen: string[] = [];
  const answers: number[] = [503];
  let hold: Promise<void> | undefined;
  app.post('/captures', async (c) => {
    const id = c.get('idempotencyKey')!;
    const call = seen.push(id);
    const wait = hold;
    hold = undefined;
    await wait;
    const status = answers.shift() ?? 202;
    return status >= 500 ? c.json({ error: { code: 'unavailable', message: 'try again' } }, 503) : c.json({ captured: id, call }, 202);
  });
  const send = async (key: string, body: unknown) => {
    const res = await app.request('/captures', {
      method: 'POST',
      body: JSON.stringify(body),
      headers: { 'content-type': 'application/json', 'idempotency-key': key },
    });
    return { status: res.status, body: (await res.json()) as any, replayed: res.headers.get('idempotent-replayed') };
  };
  const age = (key: string, interval: string) =>
    service.sql`UPDATE idempotency_keys SET claimed_at = claimed_at - ${interval}::interval, created_at = created_at - ${interval}::interval
                WHERE scope = ${scope} AND key = ${key}`;
  return { scope, seen, send, age, holdNext: (until: Promise<void>) => (hold = until) };
}

describe('a retry after a server error (5xx) or a take-over', () => {
  const body = { email: 'retry@example.com', source: 'chat' };

  it('is handed the same capture id as the attempt that failed, and its answer is then replayed', async () => {
    const app = retriedApp();
    const key = randomUUID();
    const failed = await app.send(key, body);
    expect(failed.status).toBe(503);
    expect(await stored(key, app.scope)).toMatchObject({ status: null });

    const retried = await app.send(key, body);
    expect(retried).toMatchObject({ status: 202, replayed: null });
    expect(app.seen).toHaveLength(2);
    expect(app.seen[1]).toBe(app.seen[0]);
    expect(retried.body.captured).toBe(app.seen[0]);

    const replay = await app.send(key, body);
    expect(replay).toEqual({ status: 202, body: retried.body, replayed: 'true' });
    expect(app.seen).toHaveLength(2);
  });

  it('with another body is refused 422 idempotency_key_reused, and the first body still gets its id', async () => {
    const app = retriedApp();
    const key = randomUUID();
    expect((await app.send(key, body)).status).toBe(503);

    const other = await app.send(key, { ...body, source: 'referral' });
    expect(other.status).toBe(422);
    expect(other.body.error.code).toBe('idempotency_key_reused');
    expect(app.seen).toHaveLength(1);

    const retried = await app.send(key, body);
    expect(retried.status).toBe(202);
    expect(app.seen).toEqual([app.seen[0], app.seen[0]]);
  });

  it('keeps the id across a take-over (the first attempt never answered) and a 5xx after it', async () => {
    const app = retriedApp();
    const key = randomUUID();
    let wakeUp!: () => void;
    app.holdNext(new Promise((resolve) => (wakeUp = resolve)));
    const stuck = app.send(key, body); // its process "died": it holds the key and never answers
    await expect.poll(() => app.seen.length).toBe(1);
    expect((await app.send(key, body)).status).toBe(409);

    await service.sql`UPDATE idempotency_keys SET claimed_at = now() - interval '31 seconds' WHERE scope = ${app.scope} AND key = ${key}`;
    expect((await app.send(key, body)).status).toBe(503); // took over, then failed itself
    const answered = await app.send(key, body);
    expect(answered).toMatchObject({ status: 202, body: { call: 3 } });
    expect(app.seen).toEqual([app.seen[0], app.seen[0], app.seen[0]]);

    // The replaced attempt answers late: its answer is not kept over the one of the request that took over.
    wakeUp();
    expect((await stuck).body).toMatchObject({ call: 1 });
    expect(await app.send(key, body)).toEqual({ status: 202, body: answered.body, replayed: 'true' });
    expect(app.seen).toHaveLength(3);
  });

  it('gets a new id once the key expired: after a 5xx, and after an answer', async () => {
    const app = retriedApp();
    const afterError = randomUUID();
    expect((await app.send(afterError, body)).status).toBe(503);
    await app.age(afterError, '25 hours');
    const fresh = await app.send(afterError, { ...body, source: 'referral' }); // a new request: any body
    expect(fresh).toMatchObject({ status: 202, replayed: null });
    expect(app.seen[1]).not.toBe(app.seen[0]);

    const afterAnswer = randomUUID();
    expect((await app.send(afterAnswer, body)).status).toBe(202);
    await app.age(afterAnswer, '25 hours');
    const again = await app.send(afterAnswer, body);
    expect(again).toMatchObject({ status: 202, replayed: null });
    expect(app.seen[3]).not.toBe(app.seen[2]);
  });
});

describe('a capture retried after a 503 whose capture reached the workflow', () => {
  it('is captured once: the retry carries the capture id of the attempt that failed', { timeout: 120_000 }, async () => {
    // The real middleware and capture path; the first answer is lost after the lead's workflow took
    // the capture (a timeout between the API and its client, a proxy's 503).
    const { app } = idempotentApp('capture-retry');
    let lost = 1;
    app.post('/leads', async (c) => {
      const capture = await c.req.json();
      const taken = await takeCapture(
        service.client,
        { taskQueue: service.taskQueue, policy: service.policy, leadIdSecret },
        { captureId: c.get('idempotencyKey')!, capture },
      );
      return lost-- > 0 ? c.json({ error: { code: 'unavailable', message: 'try again' } }, 503) : c.json(taken, 202);
    });
    const body = { email: uniqueEmail('retried'), source: 'chat' };
    const key = randomUUID();
    const send = () =>
      app.request('/leads', {
        method: 'POST',
        body: JSON.stringify(body),
        headers: { 'content-type': 'application/json', 'idempotency-key': key },
      });
    const leadId = leadIdFor(body.email);
    const captures = async () =>
      (
        (await service.request('GET', `/leads/${leadId}/timeline`, { key: 'ops-dev' })).body.events as { type: string }[] | undefined
      )?.filter((e) => e.type === 'captured') ?? [];

    expect((await send()).status).toBe(503);
    await eventually(async () => expect(await captures()).toHaveLength(1));
    const retried = await send();
    expect(retried.status).toBe(202);
    expect(await retried.json()).toMatchObject({ leadId, duplicate: false });
    expect((await send()).headers.get('idempotent-replayed')).toBe('true');
    // Applied by then if it were applied twice: the lead's workflow has had the retry.
    await eventually(async () =>
      expect((await service.client.workflow.getHandle(leadId).query(leadStateQuery)).queuedCaptures ?? []).toHaveLength(0),
    );
    expect(await captures()).toHaveLength(1);
  });
});
