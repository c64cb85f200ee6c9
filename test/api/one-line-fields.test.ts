import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startService, uniqueEmail, type ServiceUnderTest } from '../support/helpers';

/**
 * One-line captured fields refuse control characters (docs/api.md "Capture"): a CR/LF in a name
 * could forge lines in an alert, an email header or a log. The multi-line consent wording keeps them.
 */

let service: ServiceUnderTest;

beforeAll(async () => {
  service = await startService();
});
afterAll(async () => {
  await service?.close();
});

const capture = (fields: Record<string, unknown>) =>
  service.request('POST', '/leads', { body: { email: uniqueEmail(), source: 'demo_request', ...fields } });

describe('POST /leads, one-line fields', () => {
  it.each([
    ['firstName', 'Jane\r\nBcc: everyone@example.com'],
    ['company', 'Acme\nInc'],
    ['title', 'CTO\u0000'],
    ['phone', '+1 555\u007F0100'],
    ['lastName', 'Doe\tSmith'],
  ])('refuses a control character in %s with a 400 naming the field', async (field, value) => {
    const answer = await capture({ [field]: value });
    expect(answer.status).toBe(400);
    expect(answer.body.error.code).toBe('validation_failed');
    expect(answer.body.error.details.map((d: { path: string }) => d.path)).toEqual([field]);
  });

  it('keeps newlines in the multi-line consent wording', async () => {
    const answer = await capture({ company: 'Acme Inc', consent: { email: 'opted_in', text: 'I agree.\nSend me news.' } });
    expect(answer.status).toBe(202);
  });
});
