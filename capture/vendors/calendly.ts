import { checkTimestamp, hmacSha256, isRecord, jsonBody, needsSecret, sameSignature, utmOf } from './signatures';
import { UnreadablePayload, type FormVendor } from '../../contracts/vendors';

/**
 * Calendly: `Calendly-Webhook-Signature: t=<unix s>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">`
 * with the subscription's signing key, at most 5 minutes old. Only `invitee.created` makes a
 * capture (a cancellation is acknowledged and ignored). The invitee's `email` and `name`, answers
 * to the booking questions by question text (company is usually one), `tracking.utm_*`; the
 * invitee's URI is the event id.
 */
export const calendly: FormVendor = {
  verify(request, { secret }, now) {
    if (!secret) return needsSecret;
    const header = request.headers['calendly-webhook-signature'];
    if (!header) return 'missing Calendly-Webhook-Signature header';
    const parts = Object.fromEntries(header.split(',').map((part) => part.trim().split('=', 2) as [string, string]));
    if (!parts.t || !parts.v1) return 'the Calendly-Webhook-Signature is not t=...,v1=...';
    const stale = checkTimestamp(Number(parts.t) * 1000, now);
    if (stale) return stale;
    const expected = hmacSha256(secret, `${parts.t}.${request.body.toString('utf8')}`).toString('hex');
    return sameSignature(parts.v1.toLowerCase(), expected) ? undefined : 'the Calendly-Webhook-Signature does not match';
  },
  read(request) {
    const body = jsonBody(request);
    if (!isRecord(body) || typeof body.event !== 'string' || !isRecord(body.payload))
      throw new UnreadablePayload('not a Calendly webhook event');
    if (body.event !== 'invitee.created') return [];
    const invitee = body.payload;
    if (typeof invitee.uri !== 'string') throw new UnreadablePayload('a Calendly invitee without its uri');
    const values: Record<string, unknown> = {};
    for (const qa of Array.isArray(invitee.questions_and_answers) ? invitee.questions_and_answers.filter(isRecord) : []) {
      if (typeof qa.question === 'string') values[qa.question] = qa.answer;
    }
    const occurredAt =
      typeof invitee.created_at === 'string' ? invitee.created_at : typeof body.created_at === 'string' ? body.created_at : undefined;
    return [
      {
        eventId: `${body.event}:${invitee.uri}`,
        values,
        known: {
          email: invitee.email,
          firstName: invitee.first_name ?? undefined,
          lastName: invitee.last_name ?? undefined,
          fullName: invitee.name,
          phone: invitee.text_reminder_number ?? undefined,
        },
        utm: utmOf(invitee.tracking),
        occurredAt,
      },
    ];
  },
};
