import { describe, expect, it } from 'vitest';
import { actionLinkToken, alertLinks, checkActionLinkToken, linkRecipient } from './action-links';
import { signToken } from './signed-token';
import { checkUnsubscribeToken, unsubscribeToken } from './unsubscribe';

const secret = 'a test secret of at least thirty-two characters';
const now = new Date('2026-03-02T10:00:00Z');
const link = { leadId: 'lead-0123456789abcdef01234567', repId: 'rep-1', action: 'accept' as const, nonce: 'n1' };
const tokenOf = (url: string) => url.split('/act/')[1]!;

describe('action links', () => {
  it('round trip: each alert link names its lead, rep and action', () => {
    const links = alertLinks('https://leads.example.com', secret, {
      leadId: link.leadId,
      repId: 'rep-1',
      validForMs: 3600_000,
      now,
      nonce: 'n1',
    });
    expect(Object.keys(links)).toEqual(['open', 'accept', 'call', 'email']);
    for (const [action, url] of Object.entries(links)) {
      expect(url.startsWith('https://leads.example.com/act/a1.')).toBe(true);
      expect(checkActionLinkToken(secret, tokenOf(url), now)).toEqual({ leadId: link.leadId, repId: 'rep-1', action, nonce: 'n1' });
    }
  });

  it('refuses a changed token, another key and an expired one', () => {
    const token = actionLinkToken(secret, link, new Date(now.getTime() + 1000));
    const last = token.at(-1) === 'A' ? 'B' : 'A';
    expect(checkActionLinkToken(secret, token.slice(0, -1) + last, now)).toEqual({ problem: 'bad_signature' });
    expect(checkActionLinkToken(`${secret}!`, token, now)).toEqual({ problem: 'bad_signature' });
    expect(checkActionLinkToken(secret, token, new Date(now.getTime() + 1000))).toEqual({ problem: 'expired' });
    expect(checkActionLinkToken(secret, 'a1.x.y', now)).toEqual({ problem: 'malformed' });
  });

  it('an unsubscribe token (same key) is not an action link, nor the other way round', () => {
    const unsubscribe = unsubscribeToken(secret, link.leadId, new Date(now.getTime() + 1000));
    expect(checkActionLinkToken(secret, unsubscribe, now)).toEqual({ problem: 'malformed' });
    const action = actionLinkToken(secret, link, new Date(now.getTime() + 1000));
    expect(checkUnsubscribeToken(secret, action, now)).toEqual({ problem: 'malformed' });
    // Same part count under the wrong kind: its signature covers the kind.
    const relabelled = action.replace(/^a1\./, 'v1.');
    expect(checkActionLinkToken(secret, relabelled, now)).toEqual({ problem: 'malformed' });
  });

  it('parts cannot be swapped between tokens (another lead, another rep, another action)', () => {
    const expiresAt = new Date(now.getTime() + 1000);
    const mine = actionLinkToken(secret, link, expiresAt).split('.');
    const other = actionLinkToken(
      secret,
      { ...link, leadId: 'lead-ffffffffffffffffffffffff', repId: 'rep-2', action: 'call' },
      expiresAt,
    ).split('.');
    for (const index of [1, 2, 3]) {
      const swapped = [...mine];
      swapped[index] = other[index]!;
      expect(checkActionLinkToken(secret, swapped.join('.'), now)).toEqual({ problem: 'bad_signature' });
    }
  });

  it('a signed token with an unknown action is malformed', () => {
    const token = signToken(secret, 'a1', [link.leadId, 'rep-1', 'reassign', 'n1'], new Date(now.getTime() + 1000));
    expect(checkActionLinkToken(secret, token, now)).toEqual({ problem: 'malformed' });
  });

  it('unsubscribe tokens keep their format', () => {
    const token = unsubscribeToken(secret, 'lead-1', new Date(1_800_000_000_000));
    expect(token).toMatch(/^v1\.bGVhZC0x\.1800000000\.[A-Za-z0-9_-]{43}$/);
    expect(checkUnsubscribeToken(secret, token, now)).toEqual({ leadId: 'lead-1' });
  });

  it('only assignments and SLA reminders to a rep carry links', () => {
    expect(linkRecipient({ kind: 'assignment', recipient: 'rep-1', leadId: 'lead-1' })).toBe('rep-1');
    expect(linkRecipient({ kind: 'sla_reminder', recipient: 'rep-2', leadId: 'lead-1' })).toBe('rep-2');
    expect(linkRecipient({ kind: 'assignment', recipient: 'ops', leadId: 'lead-1' })).toBeUndefined();
    expect(linkRecipient({ kind: 'sla_breach', recipient: 'rep-1', leadId: 'lead-1' })).toBeUndefined();
    expect(linkRecipient({ kind: 'assignment', recipient: 'rep-1', leadId: null })).toBeUndefined();
  });
});
