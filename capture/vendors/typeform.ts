import { hmacSha256, isRecord, jsonBody, needsSecret, sameSignature, utmOf } from './signatures';
import { UnreadablePayload, type FormVendor, type Submission } from '../../contracts/vendors';

/** The value of one Typeform answer, whatever its type (`text`, `email`, `phone_number`, `choice`...). */
function answerValue(answer: Record<string, unknown>): unknown {
  const type = String(answer.type);
  const value = answer[type];
  if (type === 'choice' && isRecord(value)) return value.label ?? value.other;
  if (type === 'choices' && isRecord(value)) return value.labels;
  return value;
}

/**
 * Typeform: `Typeform-Signature: sha256=<base64 HMAC-SHA256 of the raw body>` with the webhook's
 * secret, no timestamp. Answers are matched by their field's `ref`; hidden fields (UTM, company)
 * come in `form_response.hidden`; the event id is `event_id`.
 */
export const typeform: FormVendor = {
  verify(request, { secret }) {
    if (!secret) return needsSecret;
    const sent = request.headers['typeform-signature'];
    if (!sent) return 'missing Typeform-Signature header';
    const expected = `sha256=${hmacSha256(secret, request.body).toString('base64')}`;
    return sameSignature(sent, expected) ? undefined : 'the Typeform-Signature does not match';
  },
  read(request) {
    const body = jsonBody(request);
    if (!isRecord(body) || typeof body.event_id !== 'string' || !isRecord(body.form_response))
      throw new UnreadablePayload('not a Typeform form_response event');
    const response = body.form_response;
    const answers = Array.isArray(response.answers) ? response.answers.filter(isRecord) : [];
    const values: Record<string, unknown> = {};
    const known: Submission['known'] = {};
    const hidden = isRecord(response.hidden) ? response.hidden : {};
    for (const [name, value] of Object.entries(hidden)) values[name] = value;
    for (const answer of answers) {
      const field = isRecord(answer.field) ? answer.field : {};
      const value = answerValue(answer);
      for (const name of [field.ref, field.id]) if (typeof name === 'string') values[name] = value;
      if (answer.type === 'email') known.email ??= value;
      if (answer.type === 'phone_number') known.phone ??= value;
    }
    const submittedAt = typeof response.submitted_at === 'string' ? response.submitted_at : undefined;
    return [{ eventId: body.event_id, values, known, utm: utmOf(hidden), occurredAt: submittedAt }];
  },
};
