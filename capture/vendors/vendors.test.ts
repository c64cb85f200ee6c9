import { describe, expect, it } from 'vitest';
import { formFixtures, graphLead, hubspotFixture, metaSignature, metaWebhookBody, person } from '../../test/support/form-vendors';
import { hashToken } from '../secrets';
import type { HookRequest, SourceSecrets } from '../../contracts/vendors';
import { formVendors, mapSubmission } from '.';
import { metaLeadAds } from './meta-lead-ads';
import { createHash } from 'node:crypto';

const now = Date.parse('2026-11-25T10:00:05Z');
const url = 'https://leads.example.com/hooks/src_abc';
const secret = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
const otherSecret = 'whsec_Zm9yIGFub3RoZXIgc291cmNlIGVudGlyZWx5';
const secretsFor = (vendor: string, value: string): SourceSecrets =>
  vendor === 'jotform' ? { secret: null, tokenHash: hashToken(value) } : { secret: value, tokenHash: null };

describe.each(formFixtures)('$vendor adapter', (fixture) => {
  const adapter = formVendors[fixture.vendor];
  const delivery = (options: { email?: string; signWith?: string; at?: number; tamper?: boolean } = {}): HookRequest => {
    const { body, contentType } = fixture.body(person('email' in options ? options.email : 'jane.doe@acme-robotics.com'), 'evt-123');
    const signed = fixture.sign(body, options.signWith ?? secret, { now: options.at ?? now, url }, 'evt-123');
    const sent = options.tamper ? Buffer.from(body.toString('utf8').replace('Acme Robotics', 'Acme Robotix')) : body;
    const headers = Object.fromEntries(
      Object.entries({ ...signed.headers, 'content-type': contentType }).map(([k, v]) => [k.toLowerCase(), v]),
    );
    return { method: 'POST', url: signed.url ?? url, headers, body: sent };
  };

  it('accepts what the vendor signed and maps it to our capture', async () => {
    const request = delivery();
    expect(adapter.verify(request, secretsFor(fixture.vendor, secret), now)).toBeUndefined();
    const [submission, ...more] = await adapter.read(request);
    expect(more).toEqual([]);
    const mapped = mapSubmission(submission!, fixture.mapping ?? {}, 'demo_request');
    expect(mapped).toEqual({
      capture: expect.objectContaining({
        source: 'demo_request',
        ...fixture.expected(person('jane.doe@acme-robotics.com')),
        ...(fixture.expected(person()).consent ? { consent: expect.objectContaining({ email: 'opted_in' }) } : {}),
      }),
    });
  });

  it('refuses a tampered body, a wrong secret and a missing signature', () => {
    const secrets = secretsFor(fixture.vendor, secret);
    if (fixture.vendor !== 'jotform') expect(adapter.verify(delivery({ tamper: true }), secrets, now)).toMatch(/match/);
    expect(adapter.verify(delivery({ signWith: otherSecret }), secrets, now)).toMatch(/match/);
    expect(adapter.verify({ ...delivery(), headers: {}, url }, secrets, now)).toMatch(/missing/);
  });

  it(
    fixture.timestamped
      ? 'refuses a signature older than five minutes'
      : 'accepts a redelivery whatever its age (the scheme signs no time)',
    () => {
      const old = delivery({ at: now - 6 * 60_000 });
      expect(adapter.verify(old, secretsFor(fixture.vendor, secret), now)).toEqual(
        fixture.timestamped ? expect.stringMatching(/too old/) : undefined,
      );
      expect(adapter.verify(old, secretsFor(fixture.vendor, secret), now - 6 * 60_000)).toBeUndefined();
    },
  );

  it('rejects a submission without an email, naming no value', async () => {
    const [submission] = await adapter.read(delivery({ email: undefined }));
    const mapped = mapSubmission(submission!, fixture.mapping ?? {}, 'demo_request');
    expect(mapped).toEqual({ rejected: expect.stringMatching(/^no email/) });
    expect(JSON.stringify(mapped)).not.toMatch(/Jane|Acme/);
  });
});

describe('hubspot v2', () => {
  it('accepts the plain SHA-256 of secret + method + URI + body', () => {
    const { body } = hubspotFixture.body(person('a@b.co'), 'e1');
    const v2 = createHash('sha256')
      .update(`${secret}POST${url}${body.toString('utf8')}`)
      .digest('hex');
    const request = { method: 'POST', url, headers: { 'x-hubspot-signature': v2 }, body };
    expect(formVendors.hubspot.verify(request, { secret, tokenHash: null }, now)).toBeUndefined();
    expect(formVendors.hubspot.verify({ ...request, url: `${url}/other` }, { secret, tokenHash: null }, now)).toMatch(/match/);
  });
});

describe('meta_lead_ads adapter', () => {
  it('verifies X-Hub-Signature-256, lists the announced leads and maps a Graph API lead', () => {
    const body = metaWebhookBody(['111', '222']);
    const request = { method: 'POST', url, headers: { 'x-hub-signature-256': metaSignature(body, secret)['X-Hub-Signature-256'] }, body };
    expect(metaLeadAds.verify(request, { secret, tokenHash: null })).toBeUndefined();
    expect(metaLeadAds.verify({ ...request, body: metaWebhookBody(['111', '223']) }, { secret, tokenHash: null })).toMatch(/match/);
    expect(metaLeadAds.leads(request).map((lead) => lead.leadgenId)).toEqual(['111', '222']);
    const submission = metaLeadAds.submission(graphLead('111', person('jane@acme.io')));
    expect(submission.occurredAt).toBe('2026-11-25T10:00:00.000Z');
    expect(mapSubmission(submission, {}, 'webinar')).toEqual({
      capture: expect.objectContaining({
        email: 'jane@acme.io',
        firstName: 'Jane',
        lastName: 'Doe',
        company: 'Acme Robotics',
        title: 'Head of Operations',
        phone: '+14155550100',
        source: 'webinar',
      }),
    });
  });

  it('answers the verification handshake only with the verify token', () => {
    const matches = (token: string) => token === 'tok';
    expect(metaLeadAds.challenge({ 'hub.mode': 'subscribe', 'hub.verify_token': 'tok', 'hub.challenge': '1158201444' }, matches)).toBe(
      '1158201444',
    );
    expect(
      metaLeadAds.challenge({ 'hub.mode': 'subscribe', 'hub.verify_token': 'nope', 'hub.challenge': '1158201444' }, matches),
    ).toBeUndefined();
    expect(metaLeadAds.challenge({ 'hub.mode': 'unsubscribe', 'hub.verify_token': 'tok', 'hub.challenge': '1' }, matches)).toBeUndefined();
  });
});
