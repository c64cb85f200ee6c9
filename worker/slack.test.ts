import { WebAPIHTTPError, WebAPIPlatformError, WebAPIRateLimitedError, WebAPIRequestError } from '@slack/web-api';
import { describe, expect, it } from 'vitest';
import { slackFailure } from './slack';

/** What a Web API failure means for an outbox entry: for good (dead-lettered at once), or worth another try, and when. */
describe('slackFailure', () => {
  it('takes an error code about the request itself as permanent', () => {
    for (const code of ['invalid_auth', 'token_revoked', 'channel_not_found', 'user_not_found', 'missing_scope', 'invalid_blocks']) {
      expect(slackFailure(new WebAPIPlatformError({ ok: false, error: code }))).toMatchObject({
        message: `Slack answered ${code}`,
        permanent: true,
      });
    }
  });

  it("retries Slack's own trouble, network failures and rate limits, the latter no sooner than Retry-After", () => {
    expect(slackFailure(new WebAPIPlatformError({ ok: false, error: 'internal_error' })).permanent).toBe(false);
    expect(slackFailure(new WebAPIRequestError(new Error('connect ECONNREFUSED')))).toMatchObject({ permanent: false });
    expect(slackFailure(new WebAPIHTTPError(503, 'Service Unavailable', {}))).toMatchObject({ permanent: false });
    expect(slackFailure(new WebAPIHTTPError(404, 'Not Found', {}))).toMatchObject({ permanent: true });
    expect(slackFailure(new WebAPIRateLimitedError(30))).toMatchObject({ permanent: false, retryAfterSeconds: 30 });
  });
});
