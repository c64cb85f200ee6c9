import { hmacSha256, isRecord, jsonBody, needsSecret, sameSignature } from './signatures';
import { UnreadablePayload, type FormVendor, type Submission } from '../../contracts/vendors';

/** A Tally field's value, choices written as their text rather than their option ids. */
function fieldValue(field: Record<string, unknown>): unknown {
  const options = Array.isArray(field.options) ? field.options.filter(isRecord) : [];
  const text = (id: unknown) => options.find((option) => option.id === id)?.text ?? id;
  if (options.length && Array.isArray(field.value)) return field.value.map(text);
  if (options.length && typeof field.value === 'string') return text(field.value);
  return field.value;
}

/**
 * Tally: `Tally-Signature: <base64 HMAC-SHA256 of the raw body>` with the webhook's signing secret
 * (which Tally makes optional: a source here always has one). `data.fields[]` by key and by label;
 * the email is the field of type `INPUT_EMAIL`; hidden fields (UTM) come as fields too; the event
 * id is `eventId`.
 */
export const tally: FormVendor = {
  verify(request, { secret }) {
    if (!secret) return needsSecret;
    const sent = request.headers['tally-signature'];
    if (!sent) return 'missing Tally-Signature header';
    return sameSignature(sent, hmacSha256(secret, request.body).toString('base64')) ? undefined : 'the Tally-Signature does not match';
  },
  read(request) {
    const body = jsonBody(request);
    if (!isRecord(body) || typeof body.eventId !== 'string' || !isRecord(body.data) || !Array.isArray(body.data.fields))
      throw new UnreadablePayload('not a Tally FORM_RESPONSE event');
    if (body.eventType !== undefined && body.eventType !== 'FORM_RESPONSE') return [];
    const values: Record<string, unknown> = {};
    const known: Submission['known'] = {};
    for (const field of body.data.fields.filter(isRecord)) {
      const value = fieldValue(field);
      for (const name of [field.key, field.label]) if (typeof name === 'string' && !(name in values)) values[name] = value;
      if (field.type === 'INPUT_EMAIL') known.email ??= value;
      if (field.type === 'INPUT_PHONE_NUMBER') known.phone ??= value;
    }
    const occurredAt =
      typeof body.data.createdAt === 'string' ? body.data.createdAt : typeof body.createdAt === 'string' ? body.createdAt : undefined;
    return [{ eventId: body.eventId, values, known, utm: {}, occurredAt }];
  },
};
