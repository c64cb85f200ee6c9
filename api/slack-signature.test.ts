import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { slackRequestRefusal } from './slack-signature';

/** Signs the way Slack documents it (https://docs.slack.dev/authentication/verifying-requests-from-slack). */
const sign = (secret: string, timestamp: string, body: string) =>
  `v0=${createHmac('sha256', secret).update(`v0:${timestamp}:${body}`).digest('hex')}`;

const secret = '8f742231b10e8888abcd99yyyzzz85a5';
const now = Date.parse('2026-12-04T10:02:00Z');
const timestamp = String(now / 1000);
const body = 'payload=%7B%22type%22%3A%22block_actions%22%7D';

describe('slackRequestRefusal', () => {
  it('accepts a request signed with the signing secret, now', () => {
    expect(slackRequestRefusal(secret, { signature: sign(secret, timestamp, body), timestamp }, body, now)).toBeUndefined();
  });

  it('refuses a tampered body, a wrong secret and a missing signature', () => {
    const signature = sign(secret, timestamp, body);
    expect(slackRequestRefusal(secret, { signature, timestamp }, body.replace('block', 'black'), now)).toMatch(/does not match/);
    expect(slackRequestRefusal(secret, { signature: sign('other', timestamp, body), timestamp }, body, now)).toMatch(/does not match/);
    expect(slackRequestRefusal(secret, { signature: undefined, timestamp }, body, now)).toMatch(/no Slack signature/);
  });

  it('refuses a request signed more than five minutes ago (a replay), even with a valid signature', () => {
    const old = String(now / 1000 - 301);
    expect(slackRequestRefusal(secret, { signature: sign(secret, old, body), timestamp: old }, body, now)).toMatch(/too old/);
    const recent = String(now / 1000 - 299);
    expect(slackRequestRefusal(secret, { signature: sign(secret, recent, body), timestamp: recent }, body, now)).toBeUndefined();
  });

  it('refuses a timestamp that is not a number of seconds', () => {
    expect(slackRequestRefusal(secret, { signature: sign(secret, '1e9', body), timestamp: '1e9' }, body, now)).toMatch(/not a number/);
  });
});
