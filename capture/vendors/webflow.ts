import { checkTimestamp, hmacSha256, isRecord, jsonBody, needsSecret, sameSignature } from './signatures';
import { UnreadablePayload, type FormVendor } from '../../contracts/vendors';

/**
 * Webflow (app webhooks; those made in the dashboard are unsigned and cannot be used):
 * `x-webflow-signature` = hex HMAC-SHA256 of `"<x-webflow-timestamp>:<raw body>"` with the app's
 * client secret, the timestamp in ms and at most 5 minutes old. A `form_submission` carries the
 * form's fields in `payload.data`, keyed by the labels the designer chose (hence a field mapping);
 * its id is `payload.id`.
 */
export const webflow: FormVendor = {
  verify(request, { secret }, now) {
    if (!secret) return needsSecret;
    const sent = request.headers['x-webflow-signature'];
    const timestamp = request.headers['x-webflow-timestamp'];
    if (!sent || !timestamp) return 'missing x-webflow-signature or x-webflow-timestamp header';
    const stale = checkTimestamp(Number(timestamp), now);
    if (stale) return stale;
    const expected = hmacSha256(secret, `${timestamp}:${request.body.toString('utf8')}`).toString('hex');
    return sameSignature(sent.toLowerCase(), expected) ? undefined : 'the x-webflow-signature does not match';
  },
  read(request) {
    const body = jsonBody(request);
    const payload = isRecord(body) && isRecord(body.payload) ? body.payload : undefined;
    if (!payload || typeof payload.id !== 'string' || !isRecord(payload.data)) throw new UnreadablePayload('not a Webflow form_submission');
    if (body && isRecord(body) && body.triggerType !== undefined && body.triggerType !== 'form_submission') return [];
    const occurredAt = typeof payload.submittedAt === 'string' ? payload.submittedAt : undefined;
    return [{ eventId: payload.id, values: payload.data, known: {}, utm: {}, occurredAt }];
  },
};
