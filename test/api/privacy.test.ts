import { randomUUID } from 'node:crypto';
import { Client, Connection, WorkflowNotFoundError } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it, inject, vi } from 'vitest';
import { EncryptionCodec, PayloadDecryptionError, encryptedEncoding } from '../../codec/payload-codec';
import { eventually, freshDatabase, startService, uniqueEmail, type ServiceUnderTest } from '../support/helpers';
import { historyText, keyIdsIn, testCodec, testPayloadKeys } from '../support/codec';
import { alwaysOpen as hours, salesReadyDemoRequests, captureLead } from '../support/fixtures';
import { findLead, writeLead } from '../../db/leads';

/**
 * Privacy (docs/features/privacy.md): personal data encrypted in Temporal's history, alerts without contact details, export
 * and erasure. A database of its own, so that the cadence below is the one published and every
 * table can be searched for a person.
 */
const config = {
  // Made-up countries score −10: a webinar (+30) is an mql lead, a demo request (+50) a sales-ready one.
  ...salesReadyDemoRequests,
  cadences: {
    'mql-nurture': [
      { after: 'PT1S', channel: 'email', template: 'privacy/01-welcome' },
      { after: 'P30D', channel: 'email', template: 'privacy/02' },
    ],
  },
};
const ops = { key: 'ops-dev' };

let databaseUrl: string;
let service: ServiceUnderTest;
/** Reads Temporal as anyone with access to it but without the keys would: no codec. */
let plainConnection: Connection;
let plain: Client;
beforeAll(async () => {
  databaseUrl = await freshDatabase('privacy');
  service = await startService({ config, databaseUrl });
  plainConnection = await Connection.connect({ address: inject('temporalAddress') });
  plain = new Client({ connection: plainConnection, namespace: 'default' });
});
afterAll(async () => {
  await plainConnection?.close();
  await service?.close();
});

/** A person with a name and a phone number, unique to the test. */
function person(overrides: Record<string, unknown> = {}) {
  const tag = randomUUID().slice(0, 8);
  return {
    email: uniqueEmail('person'),
    firstName: `Zelda${tag}`,
    lastName: `Quill${tag}`,
    phone: `+1 555 ${tag.slice(0, 4)}`,
    company: `Privacy Corp ${tag}`,
    source: 'webinar',
    country: 'XP',
    consent: { email: 'opted_in' },
    ...overrides,
  };
}

const capture = async (body: Record<string, unknown>, target = service) => (await captureLead(target, body)).leadId;

/** Waits until the lead's timeline has an event of `type`. */
function eventOf(leadId: string, type: string, target = service) {
  return eventually(async () => {
    const timeline = await target.request('GET', `/leads/${leadId}/timeline`, ops);
    expect(timeline.body.events?.map((e: { type: string }) => e.type)).toContain(type);
    return timeline.body.events as { type: string; data: any }[];
  });
}

async function allHistories(client: Client, leadId: string) {
  const histories = [];
  for await (const run of client.workflow.list({ query: `WorkflowId = '${leadId}'` }))
    histories.push(await client.workflow.getHandle(leadId, run.runId).fetchHistory());
  return histories;
}

describe("payload encryption in Temporal's history", () => {
  it('keeps email, name and phone out of the raw history; the codec reads them back; search attributes stay plain', async () => {
    const who = person();
    const leadId = await capture(who);
    await eventOf(leadId, 'cadence_enrolled');
    const history = await plain.workflow.getHandle(leadId).fetchHistory();

    const raw = await historyText(history);
    for (const secret of [who.email, who.firstName, who.lastName, who.phone]) expect(raw).not.toContain(secret);
    expect(raw).toContain(encryptedEncoding);
    expect(raw).toContain(leadId); // the workflow id is a pseudonym and stays readable

    const decoded = await historyText(history, testCodec);
    for (const secret of [who.email, who.firstName, who.lastName, who.phone]) expect(decoded).toContain(secret);

    // Ops still filter on search attributes: plain, and without personal data.
    // (Upserted after the save the timeline shows.)
    const described = await eventually(async () => {
      const description = await plain.workflow.getHandle(leadId).describe();
      expect(description.searchAttributes.LeadStatus).toEqual(['mql']);
      return description;
    });
    expect(JSON.stringify(described.searchAttributes)).not.toContain(who.email);
  });

  it('rotates keys: a lead started under the older key keeps running under a worker whose newest key is another, and its history holds both', async () => {
    const taskQueue = `rotation-${randomUUID()}`;
    const before = await startService({ config, databaseUrl, taskQueue, payloadKeys: [testPayloadKeys.older] });
    // No country: nothing but the engagement below scores.
    const who = person({ source: 'newsletter', country: undefined });
    let leadId: string;
    try {
      leadId = await capture(who, before);
      await eventOf(leadId, 'captured', before);
    } finally {
      await before.close();
    }
    const after = await startService({ config, databaseUrl, taskQueue, payloadKeys: [testPayloadKeys.newer, testPayloadKeys.older] });
    try {
      expect((await after.request('POST', `/leads/${leadId}/activities`, { body: { type: 'visited_pricing_page' } })).status).toBe(202);
      // The new worker replays the old history (older key) and goes on (newer key).
      await eventually(async () => expect((await after.request('GET', `/leads/${leadId}`, ops)).body.score).toBe(15));
      const history = await plain.workflow.getHandle(leadId).fetchHistory();
      expect([...keyIdsIn(history)].sort()).toEqual([testPayloadKeys.older.id, testPayloadKeys.newer.id]);
      expect(await historyText(history, new EncryptionCodec([testPayloadKeys.newer, testPayloadKeys.older]))).toContain(who.email);
      // Retiring the older key too early would lose the history: it is needed as long as payloads name it.
      await expect(historyText(history, new EncryptionCodec([testPayloadKeys.newer]))).rejects.toThrow(PayloadDecryptionError);
    } finally {
      await plain.workflow
        .getHandle(leadId)
        .terminate('test over')
        .catch(() => {});
      await after.close();
    }
  });
});

describe('the codec server (Temporal Web UI remote codec)', () => {
  const origin = new URL(inject('temporalUiUrl')).origin;
  const payload = async (value: unknown) => {
    const [encoded] = await testCodec.encode([
      { metadata: { encoding: Buffer.from('json/plain') }, data: Buffer.from(JSON.stringify(value)) },
    ]);
    return {
      metadata: Object.fromEntries(Object.entries(encoded!.metadata!).map(([k, v]) => [k, Buffer.from(v).toString('base64')])),
      data: Buffer.from(encoded!.data!).toString('base64'),
    };
  };

  it("answers the UI's preflight for its origin, and decodes and encodes payloads in base64", async () => {
    const preflight = await fetch(`${service.baseUrl}/codec/decode`, {
      method: 'OPTIONS',
      headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type,x-namespace' },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-origin')).toBe(origin);
    expect(preflight.headers.get('access-control-allow-headers')?.toLowerCase()).toContain('x-namespace');
    const foreign = await fetch(`${service.baseUrl}/codec/decode`, {
      method: 'OPTIONS',
      headers: { origin: 'http://evil.example', 'access-control-request-method': 'POST' },
    });
    expect(foreign.headers.get('access-control-allow-origin')).toBeNull();

    const email = uniqueEmail('codec');
    const decoded = await service.request('POST', '/codec/decode', {
      key: null,
      headers: { origin, 'x-namespace': 'default' },
      body: { payloads: [await payload({ email })] },
    });
    expect(decoded.status).toBe(200);
    expect(decoded.headers.get('access-control-allow-origin')).toBe(origin);
    expect(JSON.parse(Buffer.from(decoded.body.payloads[0].data, 'base64').toString())).toEqual({ email });

    const plainPayload = {
      metadata: { encoding: Buffer.from('json/plain').toString('base64') },
      data: Buffer.from('"hello"').toString('base64'),
    };
    const encoded = await service.request('POST', '/codec/encode', { key: 'ops-dev', body: { payloads: [plainPayload] } });
    expect(encoded.status).toBe(200);
    expect(Buffer.from(encoded.body.payloads[0].metadata.encoding, 'base64').toString()).toBe(encryptedEncoding);
    const back = await service.request('POST', '/codec/decode', { key: 'ops-dev', body: encoded.body });
    expect(back.body.payloads).toEqual([plainPayload]);

    const otherKey = new EncryptionCodec([testPayloadKeys.newer]);
    const [stranger] = await otherKey.encode([{ metadata: {}, data: Buffer.from('x') }]);
    const undecodable = await service.request('POST', '/codec/decode', {
      key: 'ops-dev',
      body: {
        payloads: [
          {
            metadata: Object.fromEntries(Object.entries(stranger!.metadata!).map(([k, v]) => [k, Buffer.from(v).toString('base64')])),
            data: Buffer.from(stranger!.data!).toString('base64'),
          },
        ],
      },
    });
    expect(undecodable.status).toBe(400);
    expect(undecodable.body.error.code).toBe('undecodable_payload');
    expect(
      (await service.request('POST', '/codec/decode', { key: 'ops-dev', headers: { 'x-namespace': 'other' }, body: { payloads: [] } }))
        .status,
    ).toBe(400);
  });

  it('asks for an ops key once the API runs on real keys', async () => {
    const secured = await startService({ databaseUrl, apiKeys: 'ops-key-for-codec=ops,capture-key-for-codec=capture' });
    try {
      const body = { payloads: [await payload({ a: 1 })] };
      expect((await secured.request('POST', '/codec/decode', { key: null, headers: { origin }, body })).status).toBe(401);
      expect((await secured.request('POST', '/codec/decode', { key: 'capture-key-for-codec', body })).status).toBe(403);
      const decoded = await secured.request('POST', '/codec/decode', { key: 'ops-key-for-codec', body });
      expect(decoded.status).toBe(200);
      expect(JSON.parse(Buffer.from(decoded.body.payloads[0].data, 'base64').toString())).toEqual({ a: 1 });
    } finally {
      await secured.close();
    }
  });
});

describe('alerts name the lead and company, not the contact details', () => {
  /** A sales-ready lead routed to the only rep of `country`'s team (a country no other test of the file uses). */
  async function assignedAlert(target: ServiceUnderTest, country: string) {
    const suffix = randomUUID().slice(0, 6);
    expect(
      (
        await target.request('POST', '/teams', {
          ...ops,
          body: { id: `team-${suffix}`, name: 'Privacy team', countries: [country], businessHours: hours },
        })
      ).status,
    ).toBe(201);
    expect(
      (
        await target.request('POST', '/reps', {
          ...ops,
          body: { id: `rep-${suffix}`, name: 'Rep', email: `rep-${suffix}@example.com`, teamId: `team-${suffix}` },
        })
      ).status,
    ).toBe(201);
    const who = person({ source: 'demo_request', country });
    const leadId = await capture(who, target);
    const [alert] = await eventually(async () => {
      const rows = await target.sql<
        { recipient: string; message: string; data: any }[]
      >`SELECT recipient, message, data FROM notifications WHERE lead_id = ${leadId} AND kind = 'assignment' AND channel = 'webhook'`;
      expect(rows).toHaveLength(1);
      return rows;
    });
    expect(alert!.recipient).toBe(`rep-${suffix}`);
    return { who, leadId, alert: alert! };
  }

  it('by default', async () => {
    const { who, leadId, alert } = await assignedAlert(service, 'XA');
    expect(alert.message).toContain(leadId);
    expect(alert.message).toContain(who.company);
    expect(JSON.stringify(alert)).not.toContain(who.email);
    expect(JSON.stringify(alert)).not.toContain(who.phone);
  });

  it('with the contact details where notify.includeContact says so', async () => {
    const including = await startService({ databaseUrl, config: { ...config, notify: { includeContact: true } } });
    try {
      const { who, alert } = await assignedAlert(including, 'XB');
      expect(alert.message).toContain(who.email);
      expect(alert.message).toContain(who.phone);
    } finally {
      await including.close();
    }
  });
});

/** Every row of every table of the database, as text, that contains `needle`: `table: row`. */
async function rowsContaining(needle: string): Promise<string[]> {
  const tables = await service.sql<{ table_name: string }[]>`
    SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY table_name`;
  expect(tables.map((t) => t.table_name)).toEqual(
    expect.arrayContaining(['leads', 'lead_events', 'notifications', 'idempotency_keys', 'erasures']),
  );
  const found: string[] = [];
  for (const { table_name: table } of tables) {
    const rows = await service.sql<
      { row: string }[]
    >`SELECT t::text AS row FROM ${service.sql(table)} t WHERE strpos(t::text, ${needle}) > 0`;
    found.push(...rows.map(({ row }) => `${table}: ${row}`));
  }
  return found;
}

describe('export and erasure', () => {
  it('exports everything held about the person as one document (ops only)', async () => {
    const who = person();
    const leadId = await capture(who);
    // The first cadence step (after a second) is outreach addressed to the lead.
    await eventOf(leadId, 'cadence_step');
    const exported = await service.request('GET', `/leads/${leadId}/export`, ops);
    expect(exported.status).toBe(200);
    const document = exported.body;
    expect(document).toMatchObject({
      leadId,
      exportedAt: expect.any(String),
      lead: { leadId, email: who.email, firstName: who.firstName, lastName: who.lastName, phone: who.phone, company: who.company },
      consent: {
        current: { email: { status: 'opted_in' } },
        history: [
          expect.objectContaining({ type: 'consent_changed', data: expect.objectContaining({ channel: 'email', to: 'opted_in' }) }),
        ],
      },
      outreach: [
        expect.objectContaining({
          kind: 'cadence_step',
          recipient: who.email,
          data: expect.objectContaining({ template: 'privacy/01-welcome' }),
        }),
      ],
    });
    expect(document.timeline.map((e: { type: string }) => e.type)).toEqual(
      expect.arrayContaining(['captured', 'consent_changed', 'score_changed', 'cadence_enrolled', 'cadence_step']),
    );
    expect(Array.isArray(document.notifications)).toBe(true);

    expect((await service.request('GET', `/leads/${leadId}/export`, { key: 'marketing-dev' })).status).toBe(403);
    expect((await service.request('GET', `/leads/lead-000000000000000000000000/export`, ops)).status).toBe(404);
  });

  it(
    'erases the person: no workflow run in Temporal, no row in any table but the tombstone; a new capture is a fresh lead',
    { timeout: 180_000 },
    async () => {
      const who = person({ source: 'demo_request', country: 'XE' });
      // An idempotent capture: its stored answer names the lead.
      const first = await service.request('POST', '/leads', { body: who, headers: { 'idempotency-key': randomUUID() } });
      const leadId = first.body.leadId as string;
      await eventOf(leadId, 'unassigned');
      // A second run of the same lead: disqualified, then reactivated by a capture.
      expect((await service.request('POST', `/leads/${leadId}/disqualify`, { ...ops, body: { reason: 'no_budget' } })).status).toBe(200);
      await eventually(async () => expect((await plain.workflow.getHandle(leadId).describe()).status.name).toBe('COMPLETED'));
      await capture(who);
      await eventOf(leadId, 'reactivated');
      await eventually(async () => expect(await allHistories(plain, leadId)).toHaveLength(2));
      expect(await rowsContaining(who.email)).not.toEqual([]);
      const runIds: string[] = [];
      for await (const run of plain.workflow.list({ query: `WorkflowId = '${leadId}'` })) runIds.push(run.runId);
      expect(runIds).toHaveLength(2);
      const lastSave = (await findLead(service.sql, leadId))!.lead;

      expect((await service.request('DELETE', `/leads/${leadId}`, { ...ops, body: {} })).status).toBe(400);
      expect(
        (await service.request('DELETE', `/leads/${leadId}`, { key: 'marketing-dev', body: { reason: 'request by email' } })).status,
      ).toBe(403);
      const erased = await service.request('DELETE', `/leads/${leadId}`, { ...ops, body: { reason: 'data subject request #1' } });
      expect(erased.status).toBe(200);
      expect(erased.body).toMatchObject({
        leadId,
        erasedAt: expect.any(String),
        erasedBy: expect.stringMatching(/^ops key [0-9a-f]{12}$/),
        reason: 'data subject request #1',
        engineDeletion: { done: expect.any(Boolean), runsLeft: expect.any(Number) },
      });

      for (const secret of [who.email, who.firstName, who.lastName, who.phone, who.company])
        expect(await rowsContaining(secret)).toEqual([]);
      // The lead id is left in the tombstone only.
      expect((await rowsContaining(leadId)).map((row) => row.split(':')[0])).toEqual(['erasures']);
      // Erased at once for every reader, while Temporal still deletes the runs (they still answer queries).
      const [read, timeline] = await Promise.all([
        service.request('GET', `/leads/${leadId}`, ops),
        service.request('GET', `/leads/${leadId}/timeline`, ops),
      ]);
      expect([read.status, timeline.status]).toEqual([404, 404]);
      expect(JSON.stringify(read.body) + JSON.stringify(timeline.body)).not.toContain(who.email);
      // A save either erased run still sends (a local activity under way when it was terminated) is refused.
      for (const runId of runIds) {
        await expect(writeLead(service.sql, { lead: lastSave, events: [], runId })).rejects.toMatchObject({ code: 'LO001' });
      }
      expect(await rowsContaining(who.email)).toEqual([]);
      // Temporal deletes asynchronously, once the runs' closing is recorded in visibility: slow on a loaded machine.
      await vi.waitFor(
        async () => {
          await expect(plain.workflow.getHandle(leadId).describe()).rejects.toThrow(WorkflowNotFoundError);
          expect(await allHistories(plain, leadId)).toEqual([]);
        },
        { timeout: 90_000, interval: 250 },
      );
      expect((await service.request('GET', `/leads/${leadId}`, ops)).status).toBe(404);
      const { engineDeletion: _, ...tombstone } = erased.body;
      const done = { ...tombstone, engineDeletion: { done: true, runsLeft: 0 } };
      await eventually(async () => expect((await service.request('GET', `/erasures/${leadId}`, ops)).body).toEqual(done));

      // Asked again: the same tombstone, nothing else happens.
      const again = await service.request('DELETE', `/leads/${leadId}`, { ...ops, body: { reason: 'asked twice' } });
      expect(again.status).toBe(200);
      expect(again.body).toEqual(done);

      // The same person captured again: a new lead with nothing of the old one.
      const fresh = await service.request('POST', '/leads', { body: { email: who.email, source: 'newsletter', country: 'XE' } });
      expect(fresh.body).toMatchObject({ leadId, duplicate: false, status: 'new' });
      const events = await eventOf(leadId, 'captured');
      expect(events.filter((e) => e.type === 'captured')).toHaveLength(1);
      expect(events.map((e) => e.type)).not.toContain('reactivated');
      const lead = (await service.request('GET', `/leads/${leadId}`, ops)).body;
      expect(lead).toMatchObject({ email: who.email, firstName: null, phone: null, company: null, source: 'newsletter' });
      const histories = await eventually(async () => {
        const found = await allHistories(plain, leadId);
        expect(found).toHaveLength(1);
        return found;
      });
      expect(await historyText(histories[0], testCodec)).not.toContain(who.firstName);
      // The new lead's run is not one the erasure has left to delete.
      expect((await service.request('GET', `/erasures/${leadId}`, ops)).body).toEqual(done);
      await plain.workflow.getHandle(leadId).terminate('test over');
    },
  );

  it('answers 404 for a lead that never was', async () => {
    const unknown = await service.request('DELETE', '/leads/lead-0123456789abcdef01234567', { ...ops, body: { reason: 'no such person' } });
    expect(unknown.status).toBe(404);
  });
});
