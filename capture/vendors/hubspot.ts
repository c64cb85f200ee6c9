import { checkTimestamp, hmacSha256, isRecord, jsonBody, needsSecret, sameSignature, sha256 } from './signatures';
import { UnreadablePayload, type FormVendor, type HookRequest } from '../../contracts/vendors';

function v3(request: HookRequest, secret: string, now: number) {
  const sent = request.headers['x-hubspot-signature-v3']!;
  const timestamp = request.headers['x-hubspot-request-timestamp'];
  if (!timestamp) return 'missing X-HubSpot-Request-Timestamp header';
  const stale = checkTimestamp(Number(timestamp), now);
  if (stale) return stale;
  const expected = hmacSha256(secret, `${request.method}${request.url}${request.body.toString('utf8')}${timestamp}`).toString('base64');
  return sameSignature(sent, expected) ? undefined : 'the X-HubSpot-Signature-v3 does not match';
}

/**
 * HubSpot: v3 (`X-HubSpot-Signature-v3`: base64 HMAC-SHA256 of method + URI + body + timestamp
 * with the app's client secret, `X-HubSpot-Request-Timestamp` in ms, at most 5 minutes old) when
 * sent; otherwise v2 (`X-HubSpot-Signature`: hex SHA-256 of secret + method + URI + body), which
 * workflow webhooks still send. The payload is a contact: its `properties` (plain values or
 * `{value}`), or the properties at the top level (the workflow action's "customise" payload).
 * HubSpot's retries resend the same body, and workflow payloads carry no event id, so the body's
 * hash is the event id unless an `eventId` is there.
 */
export const hubspot: FormVendor = {
  verify(request, { secret }, now) {
    if (!secret) return needsSecret;
    if (request.headers['x-hubspot-signature-v3']) return v3(request, secret, now);
    const sent = request.headers['x-hubspot-signature'];
    if (!sent) return 'missing X-HubSpot-Signature-v3 or X-HubSpot-Signature header';
    const expected = sha256(`${secret}${request.method}${request.url}${request.body.toString('utf8')}`).toString('hex');
    return sameSignature(sent.toLowerCase(), expected) ? undefined : 'the X-HubSpot-Signature does not match';
  },
  read(request) {
    const body = jsonBody(request);
    if (!isRecord(body)) throw new UnreadablePayload('not a HubSpot contact');
    const properties = isRecord(body.properties) ? body.properties : body;
    const values = Object.fromEntries(
      Object.entries(properties).map(([name, value]) => [name, isRecord(value) && 'value' in value ? value.value : value]),
    );
    const eventId =
      typeof body.eventId === 'string' || typeof body.eventId === 'number'
        ? String(body.eventId)
        : `body-${sha256(request.body).toString('hex')}`;
    return [{ eventId, values, known: {}, utm: {} }];
  },
};
