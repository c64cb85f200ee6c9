import { describe, expect, it } from 'vitest';
import { actionLinkToken } from './action-links';
import { checkSessionToken, checkSignInToken, csrfMatches, csrfToken, inboxOrder, sessionToken, signInToken } from './inbox';

const secret = 'a test secret of at least thirty-two characters';
const now = new Date('2026-03-02T10:00:00Z');
const later = new Date(now.getTime() + 15 * 60_000);

describe('inbox tokens', () => {
  it('a session and a sign-in link round trip, and expire', () => {
    const session = sessionToken(secret, { repId: 'rep-1', sessionId: 's' }, later);
    expect(checkSessionToken(secret, session, now)).toEqual({ repId: 'rep-1', sessionId: 's' });
    expect(checkSessionToken(secret, session, later)).toEqual({ problem: 'expired' });
    const link = signInToken(secret, { repId: 'rep-1', nonce: 'n' }, later);
    expect(checkSignInToken(secret, link, now)).toEqual({ repId: 'rep-1', nonce: 'n', expiresAt: later });
    expect(checkSignInToken(`${secret}!`, link, now)).toEqual({ problem: 'bad_signature' });
  });

  it('no kind passes for another: session, sign-in link, action link', () => {
    const session = sessionToken(secret, { repId: 'rep-1', sessionId: 's' }, later);
    const link = signInToken(secret, { repId: 'rep-1', nonce: 'n' }, later);
    const action = actionLinkToken(secret, { leadId: 'lead-1', repId: 'rep-1', action: 'open', nonce: 'n' }, later);
    expect(checkSessionToken(secret, link, now)).toEqual({ problem: 'malformed' });
    expect(checkSignInToken(secret, session, now)).toEqual({ problem: 'malformed' });
    expect(checkSessionToken(secret, action, now)).toEqual({ problem: 'malformed' });
    expect(checkSignInToken(secret, action, now)).toEqual({ problem: 'malformed' });
  });

  it('the CSRF token is the session’s: another session’s, a changed one or none do not match', () => {
    const token = csrfToken(secret, 'session-1');
    expect(csrfMatches(secret, 'session-1', token)).toBe(true);
    expect(csrfMatches(secret, 'session-2', token)).toBe(false);
    expect(csrfMatches(`${secret}!`, 'session-1', token)).toBe(false);
    expect(csrfMatches(secret, 'session-1', `${token}x`)).toBe(false);
    expect(csrfMatches(secret, 'session-1', undefined)).toBe(false);
    expect(csrfMatches(secret, 'session-1', [token])).toBe(false);
  });
});

describe('inboxOrder', () => {
  const lead = (id: string, createdAt: string, dueAt: string | null, respondedAt: string | null = null) => ({
    id,
    createdAt,
    routing: { dueAt, respondedAt },
  });
  it('puts the SLA due soonest first, then leads without a running clock, oldest first among equals', () => {
    const ordered = inboxOrder([
      lead('responded', '2026-03-01T08:00:00Z', '2026-03-02T09:00:00Z', '2026-03-01T08:01:00Z'),
      lead('due-late', '2026-03-01T09:00:00Z', '2026-03-02T12:00:00Z'),
      lead('no-clock', '2026-03-01T07:00:00Z', null),
      lead('overdue', '2026-03-01T10:00:00Z', '2026-03-02T08:00:00Z'),
      lead('due-soon', '2026-03-01T11:00:00Z', '2026-03-02T10:05:00Z'),
    ]);
    expect(ordered.map((l) => l.id)).toEqual(['overdue', 'due-soon', 'due-late', 'no-clock', 'responded']);
  });
});
