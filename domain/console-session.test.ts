import { describe, expect, it } from 'vitest';
import { checkConsoleSessionToken, consoleSessionToken, mayOpen } from './console-session';
import { sessionToken } from './inbox';

const secret = 'console-test-secret';
const now = new Date('2026-12-04T10:00:00Z');
const later = new Date('2026-12-04T11:00:00Z');
const session = { role: 'ops' as const, sessionId: 's-1', apiKey: 'ops-key-123' };

describe('console session tokens', () => {
  it('round-trips the session until it expires, and never shows the key in the token', () => {
    const token = consoleSessionToken(secret, session, later);
    expect(checkConsoleSessionToken(secret, token, now)).toEqual(session);
    expect(checkConsoleSessionToken(secret, token, later)).toBeUndefined();
    expect(token).not.toContain('ops-key-123');
    expect(Buffer.from(token.split('.')[2]!, 'base64url').toString('latin1')).not.toContain('ops-key');
  });

  it('refuses a token changed, sealed under another secret, or of another kind', () => {
    const token = consoleSessionToken(secret, session, later);
    const [kind, iv, sealed] = token.split('.') as [string, string, string];
    const flipped = Buffer.from(sealed, 'base64url');
    flipped[0] = flipped[0]! ^ 1;
    expect(checkConsoleSessionToken(secret, [kind, iv, flipped.toString('base64url')].join('.'), now)).toBeUndefined();
    expect(checkConsoleSessionToken('another-secret', token, now)).toBeUndefined();
    expect(checkConsoleSessionToken(secret, sessionToken(secret, { repId: 'rep-1', sessionId: 's' }, later), now)).toBeUndefined();
    expect(checkConsoleSessionToken(secret, 'k1.x.y', now)).toBeUndefined();
  });

  it('shows marketing no rep management and ops no templates', () => {
    expect(mayOpen('marketing', 'reps')).toBe(false);
    expect(mayOpen('marketing', 'teams')).toBe(false);
    expect(mayOpen('marketing', 'templates')).toBe(true);
    expect(mayOpen('ops', 'reps')).toBe(true);
    expect(mayOpen('ops', 'scoring-models')).toBe(false);
  });
});
