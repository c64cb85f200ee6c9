import { checkTimestamp, hmacSha256, sameSignature } from '../capture/vendors/signatures';

/**
 * Verifies a request Slack signed (interactivity, docs/features/email-and-notifications.md "Slack"):
 * `X-Slack-Signature` is `v0=` + hex HMAC-SHA256 of `v0:{X-Slack-Request-Timestamp}:{raw body}`
 * with the app's signing secret; the timestamp (seconds) must be within five minutes of now.
 * Built on the helpers the form-tool webhooks already use (constant-time compare, one replay
 * window) rather than on @slack/bolt, whose verifier comes with an HTTP framework we do not run.
 * Returns why the request is refused, or undefined when it is genuine.
 */
export function slackRequestRefusal(
  secret: string,
  headers: { signature: string | undefined; timestamp: string | undefined },
  rawBody: Buffer | string,
  now = Date.now(),
): string | undefined {
  if (!headers.signature || !headers.timestamp) return 'the request has no Slack signature';
  if (!/^\d{1,12}$/.test(headers.timestamp)) return 'the signature timestamp is not a number';
  const stale = checkTimestamp(Number(headers.timestamp) * 1000, now);
  if (stale) return stale;
  const body = typeof rawBody === 'string' ? rawBody : rawBody.toString('utf8');
  const expected = `v0=${hmacSha256(secret, `v0:${headers.timestamp}:${body}`).toString('hex')}`;
  return sameSignature(headers.signature, expected) ? undefined : 'the Slack signature does not match';
}
