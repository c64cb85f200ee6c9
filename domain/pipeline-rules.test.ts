import { describe, expect, it } from 'vitest';
import { applyConsent, consentFromCapture } from './consent';
import { enrichProfile, mergeCapture } from './profile';
import { bandOf, statusAfterScore } from './qualification';

const thresholds = { sqlAt: 75, mqlAt: 40 };

describe('qualification bands (75+ sql, 40–74 mql, below 40 not_ready)', () => {
  it('puts the boundaries where the seeds do', () => {
    expect([0, 39, 40, 74, 75, 100].map((s) => bandOf(s, thresholds))).toEqual(['not_ready', 'not_ready', 'mql', 'mql', 'sql', 'sql']);
  });

  it('moves marketing-owned leads both ways, recycled ones only up to sql, routed ones never', () => {
    expect(statusAfterScore('mql', 20, thresholds)).toBe('not_ready');
    expect(statusAfterScore('not_ready', 50, thresholds)).toBe('mql');
    expect(statusAfterScore('new', 80, thresholds)).toBe('sql');
    expect(statusAfterScore('recycled', 60, thresholds)).toBe('recycled');
    expect(statusAfterScore('recycled', 80, thresholds)).toBe('sql');
    expect(statusAfterScore('sql', 10, thresholds)).toBe('sql');
    expect(statusAfterScore('accepted', 99, thresholds)).toBe('accepted');
  });
});

describe('merging captures', () => {
  it('fills empty fields, never overwrites, and keeps the first-touch source', () => {
    const first = mergeCapture(undefined, { email: 'jane@acme.io', source: 'content_download', company: 'Acme' });
    const merged = mergeCapture(first, { email: 'JANE@acme.io', source: 'webinar', company: 'Acme Corp', title: 'CMO' });
    expect(merged).toEqual({ email: 'jane@acme.io', source: 'content_download', company: 'Acme', title: 'CMO' });
  });

  it('lets enrichment fill gaps only', () => {
    const profile = mergeCapture(undefined, { email: 'jane@acme.io', source: 'chat', industry: 'retail' });
    expect(enrichProfile(profile, { companyName: 'Acme', industry: 'software', employees: 250, techStack: [] })).toEqual({
      email: 'jane@acme.io',
      source: 'chat',
      industry: 'retail',
      company: 'Acme',
      employees: 250,
    });
  });
});

describe('consent', () => {
  const record = { status: 'opted_in' as const, at: '2026-11-22T10:00:00Z', source: 'capture:chat' };

  it('is a change only when the status changes', () => {
    const { consent, change } = applyConsent({}, 'email', record);
    expect(change).toEqual({ channel: 'email', from: 'unknown', record });
    expect(applyConsent(consent, 'email', { ...record, at: '2026-11-23T10:00:00Z' }).change).toBeUndefined();
    expect(applyConsent(consent, 'email', { ...record, status: 'opted_out' }).change?.from).toBe('opted_in');
  });

  it('takes each channel a capture names, timed by its arrival, with the time the consent itself states', () => {
    const statements = consentFromCapture(
      { email: 'a@b.co', source: 'chat', sourceDetail: 'widget', occurredAt: '2026-11-21T09:00:00Z', consent: { email: 'opted_in' } },
      '2026-11-22T00:00:00Z',
    );
    expect(statements).toEqual([
      {
        channel: 'email',
        record: { status: 'opted_in', at: '2026-11-22T00:00:00Z', statedAt: '2026-11-21T09:00:00Z', source: 'capture:chat/widget' },
      },
    ]);
  });
});
