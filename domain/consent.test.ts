import { describe, expect, it } from 'vitest';
import {
  applyConsent,
  confirmationRequestEveryMs,
  consentFromCapture,
  requestConfirmation,
  type Consent,
  type ConsentRecord,
} from './consent';
import { checkConsentConfirmationToken, checkUnsubscribeToken, consentConfirmationToken, unsubscribeToken } from './unsubscribe';

const optedOut: ConsentRecord = { status: 'opted_out', at: '2026-11-20T10:00:00.000Z', source: 'activity:unsubscribed' };
const unsubscribed: Consent = { email: optedOut };

describe('consent ordering: an opt-out stays until the person confirms a newer opt-in', () => {
  it("refuses a capture's opt-in after an opt-out, whatever date the client gives it", () => {
    for (const statedAt of ['2001-01-01T00:00:00Z', '2026-11-21T10:00:00Z', '2099-01-01T00:00:00Z']) {
      const [statement] = consentFromCapture(
        { email: 'a@b.co', source: 'content_download', consent: { email: 'opted_in', capturedAt: statedAt } },
        '2026-11-21T10:00:00.000Z',
      );
      const result = applyConsent(unsubscribed, 'email', statement!.record);
      expect(result).toEqual({ consent: unsubscribed, refused: 'needs_confirmation' });
    }
  });

  it('refuses `unknown` after an opt-out too: only an opt-in the person confirmed lifts it', () => {
    const result = applyConsent(unsubscribed, 'email', { status: 'unknown', at: '2026-11-21T10:00:00Z', source: 'capture:chat' });
    expect(result.refused).toBe('needs_confirmation');
    expect(result.consent.email).toBe(optedOut);
  });

  it('lets a confirmed opt-in taken after the opt-out lift it, and refuses one taken before it as stale', () => {
    const confirmed = {
      status: 'opted_in' as const,
      at: '2026-11-21T10:00:00.000Z',
      source: 'confirmation_link',
      confirmed: true as const,
    };
    const lifted = applyConsent(unsubscribed, 'email', confirmed);
    expect(lifted.change).toEqual({ channel: 'email', from: 'opted_out', record: confirmed });
    expect(lifted.consent.email).toEqual(confirmed);
    expect(applyConsent(unsubscribed, 'email', { ...confirmed, at: '2026-11-20T10:00:00.000Z' })).toEqual({
      consent: unsubscribed,
      refused: 'stale',
    });
    expect(applyConsent(unsubscribed, 'email', { ...confirmed, at: '2026-11-19T00:00:00.000Z' }).refused).toBe('stale');
    expect(applyConsent(unsubscribed, 'email', { ...confirmed, at: 'not a time' }).refused).toBe('stale');
  });

  it('always applies an opt-out, also over an opt-in that claims to be newer', () => {
    const optedIn: Consent = { email: { status: 'opted_in', at: '2099-01-01T00:00:00Z', source: 'capture:chat' } };
    expect(applyConsent(optedIn, 'email', optedOut).consent.email).toEqual(optedOut);
  });

  it("takes a first opt-in from a capture, and keeps each channel's rule apart", () => {
    const optIn = { status: 'opted_in' as const, at: '2026-11-21T10:00:00Z', source: 'capture:chat' };
    expect(applyConsent({}, 'email', optIn).change?.from).toBe('unknown');
    expect(applyConsent(unsubscribed, 'phone', optIn).change?.from).toBe('unknown');
    expect(applyConsent({ phone: optedOut }, 'phone', optIn).refused).toBe('needs_confirmation');
  });
});

describe("the service's time orders consent, not the client's", () => {
  it("times a capture's statement by its arrival, keeping the client's date as statedAt", () => {
    const [statement] = consentFromCapture(
      { email: 'a@b.co', source: 'chat', occurredAt: '2001-05-05T00:00:00Z', consent: { email: 'opted_in' } },
      '2026-11-22T00:00:00.000Z',
    );
    expect(statement!.record).toEqual({
      status: 'opted_in',
      at: '2026-11-22T00:00:00.000Z',
      statedAt: '2001-05-05T00:00:00Z',
      source: 'capture:chat',
    });
  });
});

describe('confirmation requests', () => {
  it('asks at most once a day, noting the request on the opt-out itself', () => {
    const first = requestConfirmation(unsubscribed, 'email', '2026-11-21T10:00:00.000Z');
    expect(first.due).toBe(true);
    expect(first.consent.email).toEqual({ ...optedOut, confirmationRequestedAt: '2026-11-21T10:00:00.000Z' });
    const soon = new Date(Date.parse('2026-11-21T10:00:00.000Z') + confirmationRequestEveryMs - 1).toISOString();
    expect(requestConfirmation(first.consent, 'email', soon)).toEqual({ consent: first.consent, due: false });
    const later = new Date(Date.parse('2026-11-21T10:00:00.000Z') + confirmationRequestEveryMs).toISOString();
    expect(requestConfirmation(first.consent, 'email', later).due).toBe(true);
  });

  it('never asks a person who is not opted out', () => {
    expect(requestConfirmation({}, 'email', '2026-11-21T10:00:00Z').due).toBe(false);
    expect(
      requestConfirmation({ email: { status: 'opted_in', at: '2026-11-21T10:00:00Z', source: 'x' } }, 'email', '2026-11-21T10:00:00Z').due,
    ).toBe(false);
  });
});

describe('confirmation links', () => {
  const secret = 'a secret for the links';
  const inAWeek = new Date(Date.now() + 7 * 86_400_000);

  it('name the lead, and are never taken for an unsubscribe link or the other way round', () => {
    const confirm = consentConfirmationToken(secret, 'lead-abc', inAWeek);
    expect(checkConsentConfirmationToken(secret, confirm)).toEqual({ leadId: 'lead-abc' });
    expect(checkUnsubscribeToken(secret, confirm)).toEqual({ problem: 'malformed' });
    expect(checkConsentConfirmationToken(secret, unsubscribeToken(secret, 'lead-abc', inAWeek))).toEqual({ problem: 'malformed' });
    // The kind is signed: relabelling a confirmation as an unsubscribe link breaks its signature.
    expect(checkUnsubscribeToken(secret, confirm.replace(/^c1/, 'v1'))).toEqual({ problem: 'bad_signature' });
  });

  it('refuse another key and an expired link', () => {
    expect(checkConsentConfirmationToken(secret, consentConfirmationToken('another', 'lead-abc', inAWeek))).toEqual({
      problem: 'bad_signature',
    });
    expect(checkConsentConfirmationToken(secret, consentConfirmationToken(secret, 'lead-abc', new Date(Date.now() - 1000)))).toEqual({
      problem: 'expired',
    });
  });
});
