import { Webhook } from 'standardwebhooks';
import { checkTimestamp, isRecord, jsonBody, needsSecret, sameSignature } from './signatures';
import { UnreadablePayload, type FormVendor } from '../../contracts/vendors';

/**
 * Our own capture JSON (`POST /leads`'s body, `source` optional: the source's by default) signed
 * with Standard Webhooks: `webhook-id`, `webhook-timestamp` (unix s, at most 5 minutes off) and
 * `webhook-signature` (`v1,<base64 HMAC-SHA256 of "<id>.<timestamp>.<body>">`, several
 * space-separated while a secret rotates) with a `whsec_` secret. The `webhook-id` is the event id.
 * The `standardwebhooks` package signs; the timestamp is checked against `now` here so the check stays pure.
 */
export const generic: FormVendor = {
  verify(request, { secret }, now) {
    if (!secret) return needsSecret;
    const id = request.headers['webhook-id'];
    const timestamp = request.headers['webhook-timestamp'];
    const signatures = request.headers['webhook-signature'];
    if (!id || !timestamp || !signatures) return 'missing webhook-id, webhook-timestamp or webhook-signature header';
    if (!/^\d{1,12}$/.test(timestamp)) return 'the webhook-timestamp is not unix seconds';
    const stale = checkTimestamp(Number(timestamp) * 1000, now);
    if (stale) return stale;
    const expected = new Webhook(secret).sign(id, new Date(Number(timestamp) * 1000), request.body.toString('utf8'));
    return signatures.split(' ').some((sent) => sameSignature(sent, expected)) ? undefined : 'no webhook-signature matches';
  },
  read(request) {
    const body = jsonBody(request);
    if (!isRecord(body)) throw new UnreadablePayload('the body is not a capture object');
    return [{ eventId: request.headers['webhook-id']!, values: {}, known: {}, utm: {}, capture: body }];
  },
};
