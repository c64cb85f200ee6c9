import { describe, expect, it } from 'vitest';
import type { Submission } from '../../contracts/vendors';
import { mapSubmission } from '.';

const submission = (values: Record<string, unknown>, extra: Partial<Submission> = {}): Submission => ({
  eventId: 'e1',
  values,
  known: {},
  utm: {},
  ...extra,
});

describe('mapping a submission to a capture', () => {
  it('uses the mapping before what the vendor tells apart, and that before usual names', () => {
    const mapped = mapSubmission(
      submission(
        { 'Work e-mail': 'mapped@acme.io', email: 'usual@acme.io', 'Company Name': 'Acme' },
        { known: { email: 'known@acme.io' } },
      ),
      { email: 'work e-mail' },
      'webinar',
    );
    expect(mapped).toEqual({ capture: expect.objectContaining({ email: 'mapped@acme.io', company: 'Acme', source: 'webinar' }) });
    expect(mapSubmission(submission({ email: 'usual@acme.io' }, { known: { email: 'known@acme.io' } }), {}, 'webinar')).toEqual({
      capture: expect.objectContaining({ email: 'known@acme.io' }),
    });
  });

  it('splits a full name, and keeps given first and last names', () => {
    expect(mapSubmission(submission({ email: 'a@b.io', full_name: 'Ana Maria de la Cruz' }), {}, 'chat')).toEqual({
      capture: expect.objectContaining({ firstName: 'Ana', lastName: 'Maria de la Cruz' }),
    });
    expect(mapSubmission(submission({ email: 'a@b.io', name: 'X Y', first_name: 'Ana' }), {}, 'chat')).toEqual({
      capture: expect.objectContaining({ firstName: 'Ana' }),
    });
  });

  it('writes UTM parameters into sourceDetail, the usual five first', () => {
    const mapped = mapSubmission(
      submission({ email: 'a@b.io', utm_term: 'crm', UTM_Source: 'google' }, { utm: { utm_campaign: 'spring', utm_id: '42' } }),
      {},
      'chat',
    );
    expect(mapped).toEqual({
      capture: expect.objectContaining({ sourceDetail: 'utm_source=google utm_campaign=spring utm_term=crm utm_id=42' }),
    });
  });

  it('drops an optional field the capture refuses and keeps the lead', () => {
    const mapped = mapSubmission(submission({ email: 'a@b.io', phone: '5'.repeat(80), country: 'Germany', company: 'Acme' }), {}, 'chat');
    expect(mapped).toEqual({ capture: expect.objectContaining({ email: 'a@b.io', company: 'Acme' }) });
    expect((mapped as { capture: object }).capture).not.toHaveProperty('phone');
    expect((mapped as { capture: object }).capture).not.toHaveProperty('country');
  });

  it('rejects an unusable email without quoting it', () => {
    const mapped = mapSubmission(submission({ email: 'jane at acme' }), {}, 'chat');
    expect(mapped).toEqual({ rejected: expect.stringMatching(/^no usable email/) });
    expect(JSON.stringify(mapped)).not.toContain('jane');
  });

  it('takes generic captures as they are, with the source of the source unless they name one', () => {
    expect(mapSubmission(submission({}, { capture: { email: 'a@b.io', firstName: 'Ana' } }), {}, 'referral')).toEqual({
      capture: expect.objectContaining({ email: 'a@b.io', firstName: 'Ana', source: 'referral' }),
    });
    expect(mapSubmission(submission({}, { capture: { email: 'a@b.io', source: 'event' } }), {}, 'referral')).toEqual({
      capture: expect.objectContaining({ source: 'event' }),
    });
  });

  it('reads a ticked consent box as email consent, and an unticked one as nothing', () => {
    expect(mapSubmission(submission({ email: 'a@b.io', optin: 'yes' }), {}, 'chat')).toEqual({
      capture: expect.objectContaining({ consent: expect.objectContaining({ email: 'opted_in' }) }),
    });
    expect((mapSubmission(submission({ email: 'a@b.io', optin: false }), {}, 'chat') as { capture: object }).capture).not.toHaveProperty(
      'consent',
    );
  });
});
