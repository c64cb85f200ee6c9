import { randomUUID } from 'node:crypto';
import { WorkflowNotFoundError } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { metaLeadWorkflowId } from '../../capture/deliveries';
import { leadIdFor } from '../support/lead-ids';
import { leadStateQuery } from '../../contracts/lead';
import { formFixtures, graphLead, metaSignature, metaWebhookBody, person, tallyFixture, type VendorFixture } from '../support/form-vendors';
import { GraphStub } from '../support/graph-stub';
import { postgresProxy } from '../support/postgres-proxy';
import { eventually, startService, storedTimeline, uniqueEmail, type ServiceUnderTest } from '../support/helpers';

let service: ServiceUnderTest;
let graph: GraphStub;
/** A second stub that no setting allows: what a refused URL would have reached. */
let elsewhere: GraphStub;
beforeAll(async () => {
  [graph, elsewhere] = await Promise.all([new GraphStub().start(), new GraphStub().start()]);
  // The stub is plain http on loopback, which production refuses: allowed here as EXTRA_VENDOR_ORIGINS would.
  service = await startService({ extraVendorOrigins: [graph.origin] });
});
afterAll(async () => {
  await service?.close();
  await graph?.stop();
  await elsewhere?.stop();
});

const asOps = { key: 'ops-dev' };

async function createSource(body: Record<string, unknown>) {
  const created = await service.request('POST', '/sources', {
    ...asOps,
    body: { name: `${body.vendor} test`, leadSource: 'demo_request', ...body },
  });
  expect(created.status).toBe(201);
  return created.body as { id: string; hookPath: string; secret: string; verifyToken: string | null };
}

/** Posts to a source's hook as the vendor would: raw bytes, the vendor's headers, no API key. */
async function deliver(url: string, body: Buffer, headers: Record<string, string>) {
  const response = await fetch(url, { method: 'POST', headers, body });
  const text = await response.text();
  return { status: response.status, body: JSON.parse(text) as any };
}

const deliveries = (sourceId: string) =>
  service.sql<{ event_id: string; outcome: string }[]>`SELECT event_id, outcome FROM source_deliveries WHERE source_id = ${sourceId}`;
const capturesOf = async (leadId: string) => (await service.client.workflow.getHandle(leadId).query(leadStateQuery)).captures;
const noWorkflow = (id: string) => expect(service.client.workflow.getHandle(id).describe()).rejects.toBeInstanceOf(WorkflowNotFoundError);

describe.each(formFixtures)('a $vendor source', (fixture: VendorFixture) => {
  let source: Awaited<ReturnType<typeof createSource>>;
  beforeAll(async () => {
    // HubSpot and Webflow sign with the app's client secret, which ops paste in; the others take the one we make.
    const vendorSecret = ['hubspot', 'webflow'].includes(fixture.vendor) ? { secret: `app-client-secret-${randomUUID()}` } : {};
    source = await createSource({
      vendor: fixture.vendor,
      leadSource: 'webinar',
      ...vendorSecret,
      ...(fixture.mapping ? { fieldMapping: fixture.mapping } : {}),
    });
  });

  const send = (options: { email?: string; eventId: string; secret?: string; at?: number; tamper?: boolean }) => {
    const { body, contentType } = fixture.body(person(options.email), options.eventId);
    const url = service.baseUrl + source.hookPath;
    const signed = fixture.sign(body, options.secret ?? source.secret, { now: options.at ?? Date.now(), url }, options.eventId);
    const sent = options.tamper ? Buffer.from(body.toString('utf8').replace('Acme Robotics', 'Evil Robotics')) : body;
    return deliver(signed.url ?? url, sent, { ...signed.headers, 'content-type': contentType });
  };

  it('captures a signed submission as a mapped lead, and a redelivery records nothing new', async () => {
    const email = uniqueEmail(fixture.vendor);
    const eventId = `evt-${randomUUID()}`;
    const leadId = leadIdFor(email);
    const first = await send({ email, eventId });
    expect(first).toEqual({ status: 200, body: { results: [{ eventId: expect.any(String), outcome: 'captured', leadId }] } });

    // Read once the capture is applied (a lead read from its queued capture shows no consent yet).
    const { consent, ...fields } = fixture.expected(person(email));
    await eventually(async () => {
      const read = await service.request('GET', `/leads/${leadId}`, asOps);
      expect(read.status).toBe(200);
      expect(read.body).toMatchObject({ ...fields, source: 'webinar', consent: consent ?? {} });
    });

    const again = await send({ email, eventId });
    expect(again).toEqual({ status: 200, body: { results: [{ eventId: first.body.results[0].eventId, outcome: 'duplicate', leadId }] } });
    await eventually(async () => expect((await storedTimeline(service.sql, leadId)).filter((e) => e.type === 'captured')).toHaveLength(1));
    expect(await capturesOf(leadId)).toBe(1);
    expect((await deliveries(source.id)).filter((d) => d.event_id === first.body.results[0].eventId)).toEqual([
      expect.objectContaining({ outcome: 'captured' }),
    ]);
  });

  it('answers 401 and records nothing for a tampered body, a wrong secret, a stale timestamp or no signature', async () => {
    const email = uniqueEmail(`${fixture.vendor}-forged`);
    const before = (await deliveries(source.id)).length;
    const forged = [
      ...(fixture.vendor === 'jotform' ? [] : [send({ email, eventId: `evt-${randomUUID()}`, tamper: true })]),
      send({
        email,
        eventId: `evt-${randomUUID()}`,
        secret: fixture.vendor === 'generic' ? 'whsec_bm90IHRoZSBzb3VyY2UncyBzZWNyZXQgYXQgYWxs' : 'not-the-source-secret',
      }),
      ...(fixture.timestamped ? [send({ email, eventId: `evt-${randomUUID()}`, at: Date.now() - 10 * 60_000 })] : []),
      deliver(service.baseUrl + source.hookPath, fixture.body(person(email), 'evt-unsigned').body, {
        'content-type': fixture.body(person(email), 'x').contentType,
      }),
    ];
    for (const answer of await Promise.all(forged)) {
      expect(answer.status).toBe(401);
      expect(answer.body.error.code).toBe('invalid_signature');
    }
    await noWorkflow(leadIdFor(email));
    expect(await deliveries(source.id)).toHaveLength(before);
  });

  it('answers 2xx to a submission without an email and lists it for ops as rejected', async () => {
    const eventId = `evt-${randomUUID()}`;
    const answer = await send({ eventId });
    expect(answer.status).toBe(200);
    expect(answer.body.results).toEqual([expect.objectContaining({ outcome: 'rejected', reason: expect.stringMatching(/^no email/) })]);
    const rejections = await service.request('GET', `${source.hookPath.replace('/hooks', '/sources')}/rejections`, asOps);
    expect(rejections.status).toBe(200);
    expect(rejections.body.rejections).toContainEqual(
      expect.objectContaining({ eventId: answer.body.results[0].eventId, reason: expect.stringMatching(/^no email/) }),
    );
  });
});

describe('redeliveries racing each other', () => {
  it('are taken once', async () => {
    const source = await createSource({ vendor: 'tally' });
    const email = uniqueEmail('race');
    const eventId = `evt-${randomUUID()}`;
    const { body, contentType } = tallyFixture.body(person(email), eventId);
    const url = service.baseUrl + source.hookPath;
    const { headers } = tallyFixture.sign(body, source.secret, { now: Date.now(), url }, eventId);
    const answers = await Promise.all([1, 2, 3, 4].map(() => deliver(url, body, { ...headers, 'content-type': contentType })));
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 200]);
    const leadId = leadIdFor(email);
    await eventually(async () => expect((await storedTimeline(service.sql, leadId)).filter((e) => e.type === 'captured')).toHaveLength(1));
    expect(await capturesOf(leadId)).toBe(1);
    expect(await deliveries(source.id)).toEqual([expect.objectContaining({ event_id: eventId, outcome: 'captured' })]);
  });
});

describe('while Postgres is unreachable', () => {
  it(
    'a delivery is answered 503 with Retry-After (so the vendor retries it), and the retry is captured once Postgres is back',
    { timeout: 120_000 },
    async () => {
      const source = await createSource({ vendor: 'tally' });
      const proxy = await postgresProxy();
      const cut = await startService({ databaseUrl: proxy.url });
      try {
        const email = uniqueEmail('outage');
        const eventId = `evt-${randomUUID()}`;
        const { body, contentType } = tallyFixture.body(person(email), eventId);
        const url = cut.baseUrl + source.hookPath;
        const { headers } = tallyFixture.sign(body, source.secret, { now: Date.now(), url }, eventId);
        await proxy.cut();
        const refused = await fetch(url, { method: 'POST', headers: { ...headers, 'content-type': contentType }, body });
        expect(refused.status).toBe(503);
        expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
        await proxy.restore();
        const retried = await deliver(url, body, { ...headers, 'content-type': contentType });
        expect(retried).toEqual({ status: 200, body: { results: [{ eventId, outcome: 'captured', leadId: leadIdFor(email) }] } });
      } finally {
        await cut.close();
        await proxy.close();
      }
    },
  );
});

describe('a meta_lead_ads source', () => {
  const appSecret = 'meta-app-secret-0123456789';
  const accessToken = 'EAAGm0PX4ZCpsBA-page-token';
  let source: Awaited<ReturnType<typeof createSource>>;
  beforeAll(async () => {
    source = await createSource({
      vendor: 'meta_lead_ads',
      secret: appSecret,
      accessToken,
      graphApiUrl: graph.url,
      verifyToken: 'verify-me-please',
    });
  });
  const hook = () => service.baseUrl + source.hookPath;
  const announce = (leadgenIds: string[], secret = appSecret) => {
    const body = metaWebhookBody(leadgenIds);
    return deliver(hook(), body, { 'content-type': 'application/json', ...metaSignature(body, secret) });
  };
  const leadgenId = () => String(Math.floor(Math.random() * 1e15));

  it('answers the verification handshake with the challenge only for its verify token', async () => {
    const ok = await fetch(`${hook()}?hub.mode=subscribe&hub.verify_token=verify-me-please&hub.challenge=1158201444`);
    expect([ok.status, await ok.text()]).toEqual([200, '1158201444']);
    const wrong = await fetch(`${hook()}?hub.mode=subscribe&hub.verify_token=guess&hub.challenge=1158201444`);
    expect(wrong.status).toBe(403);
  });

  it('fetches the lead from the Graph API, through its failures, and captures it once', async () => {
    const email = uniqueEmail('meta');
    const id = leadgenId();
    graph.lead(id, { body: graphLead(id, person(email)), failures: 2, status: 503 });
    const answer = await announce([id]);
    expect(answer).toEqual({ status: 200, body: { results: [{ eventId: id, outcome: 'accepted' }] } });

    const leadId = leadIdFor(email);
    const lead = await eventually(async () => {
      const read = await service.request('GET', `/leads/${leadId}`, asOps);
      expect(read.status).toBe(200);
      return read.body;
    });
    expect(lead).toMatchObject({
      email,
      firstName: 'Jane',
      lastName: 'Doe',
      company: 'Acme Robotics',
      title: 'Head of Operations',
      phone: '+14155550100',
      source: 'demo_request',
    });
    const requests = graph.requestsFor(id);
    expect(requests.length).toBe(3);
    expect(requests.every((r) => r.authorization === `Bearer ${accessToken}`)).toBe(true);
    expect(await service.client.workflow.getHandle(metaLeadWorkflowId(source.id, id)).result()).toEqual({
      eventId: id,
      outcome: 'captured',
      leadId,
    });

    const again = await announce([id]);
    expect(again.body.results).toEqual([expect.objectContaining({ eventId: id, outcome: 'duplicate' })]);
    expect(await capturesOf(leadId)).toBe(1);
    expect(graph.requestsFor(id)).toHaveLength(3);
  });

  it(
    'erases the Meta lead fetch with the person: its history goes from Temporal, and the erasure says when the engine is done',
    { timeout: 180_000 },
    async () => {
      const email = uniqueEmail('meta-erased');
      const id = leadgenId();
      graph.lead(id, { body: graphLead(id, person(email)) });
      expect((await announce([id])).status).toBe(200);
      const leadId = leadIdFor(email);
      const fetch = service.client.workflow.getHandle(metaLeadWorkflowId(source.id, id));
      expect(await fetch.result()).toMatchObject({ outcome: 'captured', leadId });

      const erased = await service.request('DELETE', `/leads/${leadId}`, { ...asOps, body: { reason: 'data subject request' } });
      expect(erased.status).toBe(200);
      expect(erased.body.engineDeletion).toEqual({ done: expect.any(Boolean), runsLeft: expect.any(Number) });
      // Temporal deletes asynchronously, once the runs' closing is recorded in visibility: slow on a loaded machine.
      const deleted = { timeout: 90_000, interval: 250 };
      await vi.waitFor(async () => {
        await noWorkflow(metaLeadWorkflowId(source.id, id));
        await noWorkflow(leadId);
      }, deleted);
      const status = await vi.waitFor(async () => {
        const read = await service.request('GET', `/erasures/${leadId}`, asOps);
        expect(read.body.engineDeletion).toEqual({ done: true, runsLeft: 0 });
        return read;
      }, deleted);
      expect(status.body).toMatchObject({ leadId, reason: 'data subject request' });
      expect(JSON.stringify(status.body)).not.toContain(email);
      expect((await service.request('GET', `/erasures/lead-0123456789abcdef01234567`, asOps)).status).toBe(404);
      // The delivery record is gone too: Meta's redelivery of the event is fetched and captured afresh.
      const again = await announce([id]);
      expect(again.body.results).toEqual([expect.objectContaining({ eventId: id, outcome: 'accepted' })]);
    },
  );

  it('answers 401 to a bad signature and starts nothing', async () => {
    const id = leadgenId();
    const answer = await announce([id], 'another-app-secret');
    expect(answer.status).toBe(401);
    await noWorkflow(metaLeadWorkflowId(source.id, id));
    expect(graph.requestsFor(id)).toHaveLength(0);
  });

  it('never calls a Graph API URL that is refused now (stored before the check): rejected once, ops alerted, not retried', async () => {
    const refused = await createSource({ vendor: 'meta_lead_ads', secret: appSecret, accessToken, graphApiUrl: graph.url });
    await service.sql`UPDATE sources SET graph_api_url = ${elsewhere.url} WHERE id = ${refused.id}`;
    const id = leadgenId();
    elsewhere.lead(id, { body: graphLead(id, person(uniqueEmail('ssrf'))) });
    const body = metaWebhookBody([id]);
    const answer = await deliver(service.baseUrl + refused.hookPath, body, {
      'content-type': 'application/json',
      ...metaSignature(body, appSecret),
    });
    expect(answer.body.results).toEqual([{ eventId: id, outcome: 'accepted' }]);

    const handle = service.client.workflow.getHandle(metaLeadWorkflowId(refused.id, id));
    expect(await handle.result()).toEqual({ eventId: id, outcome: 'rejected', reason: expect.stringContaining('must be https://') });
    expect(elsewhere.requests).toHaveLength(0);
    const attempts = (await handle.fetchHistory())
      .events!.filter((e) => e.activityTaskStartedEventAttributes)
      .map((e) => e.activityTaskStartedEventAttributes!.attempt);
    expect(attempts).toEqual([1]);
    const rejections = await service.request('GET', `/sources/${refused.id}/rejections`, asOps);
    expect(rejections.body.rejections).toEqual([
      expect.objectContaining({ eventId: id, reason: expect.stringMatching(/^refused: the Graph API URL/) }),
    ]);
    const alerts = await service.sql<{ kind: string; recipient: string; message: string }[]>`
      SELECT kind, recipient, message FROM notifications WHERE dedupe_key = ${`refused-url:${refused.id}:${id}`}`;
    expect(alerts).toEqual([{ kind: 'refused_url', recipient: 'ops', message: expect.stringContaining(refused.id) }]);
    expect(alerts[0]!.message).not.toContain(accessToken);
  });

  it('does not follow a redirect of the Graph API (the token would go along): the lead is rejected', async () => {
    const id = leadgenId();
    graph.lead(id, { body: null, redirect: `${elsewhere.url}/${id}` });
    elsewhere.lead(id, { body: graphLead(id, person(uniqueEmail('redirected'))) });
    await announce([id]);
    const result = await service.client.workflow.getHandle(metaLeadWorkflowId(source.id, id)).result();
    expect(result).toEqual({ eventId: id, outcome: 'rejected', reason: expect.stringContaining('answered a redirect (302)') });
    expect(graph.requestsFor(id)).toHaveLength(1);
    expect(elsewhere.requests).toHaveLength(0);
  });

  it('refuses to register a Graph API URL that is not https on graph.facebook.com, naming the field', async () => {
    for (const graphApiUrl of [
      'http://127.0.0.1:9/v21.0',
      elsewhere.url,
      'http://169.254.169.254/latest/meta-data/#',
      'https://169.254.169.254/latest',
      'https://graph.facebook.com.evil.example/v21.0',
      'https://graph.facebook.com:8443/v21.0',
      'https://graph.facebook.com/v21.0?access_token=x',
    ]) {
      const answer = await service.request('POST', '/sources', {
        ...asOps,
        body: { vendor: 'meta_lead_ads', name: 'm', leadSource: 'demo_request', secret: appSecret, accessToken, graphApiUrl },
      });
      expect(answer.status, graphApiUrl).toBe(400);
      expect(answer.body.error.details).toEqual([expect.objectContaining({ path: 'graphApiUrl' })]);
    }
    await createSource({ vendor: 'meta_lead_ads', secret: appSecret, accessToken, graphApiUrl: 'https://graph.facebook.com/v20.0' });
  });

  it('records a Graph lead without an email as rejected', async () => {
    const id = leadgenId();
    graph.lead(id, { body: graphLead(id, person()) });
    await announce([id]);
    await eventually(async () => {
      const rejections = await service.request('GET', `/sources/${source.id}/rejections`, asOps);
      expect(rejections.body.rejections).toContainEqual(
        expect.objectContaining({ eventId: id, reason: expect.stringMatching(/^no email/) }),
      );
    });
  });
});

describe('capture sources', () => {
  it('answers the secret once, never shows it again, and stores it sealed', async () => {
    const created = await createSource({ vendor: 'typeform', fieldMapping: { company: 'company_ref' } });
    expect(created.secret).toMatch(/^[\w-]{40,}$/);
    const one = await service.request('GET', `/sources/${created.id}`, asOps);
    const list = await service.request('GET', '/sources', asOps);
    expect(one.body).toMatchObject({
      id: created.id,
      vendor: 'typeform',
      leadSource: 'demo_request',
      fieldMapping: { company: 'company_ref' },
      hookPath: `/hooks/${created.id}`,
    });
    expect(list.body.sources).toContainEqual(one.body);
    expect(JSON.stringify([one.body, list.body])).not.toContain(created.secret);
    expect(one.body).not.toHaveProperty('secret');
    const [row] = await service.sql<{ secret: Buffer }[]>`SELECT secret FROM sources WHERE id = ${created.id}`;
    expect(row!.secret.toString('latin1')).not.toContain(created.secret);
  });

  it('keeps a Jotform token and a Meta verify token only as hashes, and never replays a secret', async () => {
    const jotform = await createSource({ vendor: 'jotform' });
    const [row] = await service.sql<
      { secret: Buffer | null; token_hash: string }[]
    >`SELECT secret, token_hash FROM sources WHERE id = ${jotform.id}`;
    expect(row).toEqual({ secret: null, token_hash: expect.stringMatching(/^[0-9a-f]{64}$/) });
    const key = randomUUID();
    const body = { vendor: 'generic', name: 'partner portal', leadSource: 'referral' };
    const first = await service.request('POST', '/sources', { ...asOps, body, headers: { 'idempotency-key': key } });
    const replay = await service.request('POST', '/sources', { ...asOps, body, headers: { 'idempotency-key': key } });
    expect(first.body.secret).toMatch(/^whsec_/);
    expect(replay.body).toMatchObject({ id: first.body.id, secret: null, secretOmitted: true });
  });

  it('refuses a vendor secret left out, a field it does not know, and keys other than ops', async () => {
    const missing = await service.request('POST', '/sources', {
      ...asOps,
      body: { vendor: 'hubspot', name: 'h', leadSource: 'demo_request' },
    });
    expect(missing.status).toBe(400);
    expect(missing.body.error.details).toEqual([expect.objectContaining({ path: 'secret' })]);
    const meta = await service.request('POST', '/sources', {
      ...asOps,
      body: { vendor: 'meta_lead_ads', name: 'm', leadSource: 'demo_request', secret: 's' },
    });
    expect(meta.body.error.details).toEqual([expect.objectContaining({ path: 'accessToken' })]);
    const badMapping = await service.request('POST', '/sources', {
      ...asOps,
      body: { vendor: 'tally', name: 't', leadSource: 'demo_request', fieldMapping: { shoeSize: 'q1' } },
    });
    expect(badMapping.status).toBe(400);
    expect((await service.request('POST', '/sources', { body: { vendor: 'tally', name: 't', leadSource: 'demo_request' } })).status).toBe(
      403,
    );
    expect((await service.request('GET', '/sources', { key: 'marketing-dev' })).status).toBe(403);
  });

  it('are in the OpenAPI document, the hook without an API key', async () => {
    const { body } = await service.request('GET', '/openapi.json', { key: null });
    expect(Object.keys(body.paths)).toEqual(
      expect.arrayContaining(['/sources', '/sources/{id}', '/sources/{id}/rejections', '/hooks/{sourceId}']),
    );
    expect(body.paths['/hooks/{sourceId}'].post.security).toBeUndefined();
    expect(body.components.schemas.SourceCreate.properties.vendor.enum).toEqual([
      'typeform',
      'hubspot',
      'meta_lead_ads',
      'webflow',
      'calendly',
      'tally',
      'jotform',
      'generic',
    ]);
  });

  it('answers 404 to a hook of no source', async () => {
    const answer = await deliver(`${service.baseUrl}/hooks/src_0000000000`, Buffer.from('{}'), { 'content-type': 'application/json' });
    expect(answer.status).toBe(404);
  });
});
