import { createCipheriv, createDecipheriv, createHmac, randomBytes } from 'node:crypto';

/**
 * The console's session (`/console`, docs/features/console.md): the console is a client of the
 * API, so its session carries the API key the user signed in with, and every page calls the API
 * with it. The key must not be readable from the cookie, so the token is sealed (AES-256-GCM,
 * which also authenticates it) under a key derived from `ACTION_LINK_SECRET`, with its kind as
 * associated data: `k1.<iv>.<sealed>`, the sealed JSON holding role, session id, API key and expiry.
 * An inbox session (domain/inbox.ts) or an action link is not one.
 */
export const consoleSessionKind = 'k1';

/** A working day, as the inbox's. */
export const consoleSessionValidForMs = 12 * 3600_000;

/** The roles that may sign in, and the pages each sees, in nav order. */
export const consoleRoles = ['ops', 'marketing'] as const;
export type ConsoleRole = (typeof consoleRoles)[number];
export const consolePages = {
  ops: ['teams', 'reps', 'accounts', 'sources', 'routing-preview', 'routing-log'],
  marketing: ['templates', 'cadences', 'scoring-models'],
} as const satisfies Record<ConsoleRole, readonly string[]>;
export type ConsolePage = (typeof consolePages)[ConsoleRole][number];

export interface ConsoleSession {
  role: ConsoleRole;
  sessionId: string;
  apiKey: string;
}

const sealingKey = (secret: string) => createHmac('sha256', secret).update('console-session-seal').digest();

export function consoleSessionToken(secret: string, session: ConsoleSession, expiresAt: Date): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', sealingKey(secret), iv).setAAD(Buffer.from(consoleSessionKind));
  const plain = JSON.stringify({ r: session.role, s: session.sessionId, k: session.apiKey, e: expiresAt.getTime() });
  const sealed = Buffer.concat([cipher.update(plain), cipher.final(), cipher.getAuthTag()]);
  return [consoleSessionKind, iv.toString('base64url'), sealed.toString('base64url')].join('.');
}

/** The session in a token, or undefined: not a console token, changed, sealed under another secret, or expired. */
export function checkConsoleSessionToken(secret: string, token: string, now = new Date()): ConsoleSession | undefined {
  const [kind, iv, sealed, ...rest] = token.split('.');
  if (kind !== consoleSessionKind || !iv || !sealed || rest.length || sealed.length > 4000) return undefined;
  try {
    const bytes = Buffer.from(sealed, 'base64url');
    const decipher = createDecipheriv('aes-256-gcm', sealingKey(secret), Buffer.from(iv, 'base64url'))
      .setAAD(Buffer.from(consoleSessionKind))
      .setAuthTag(bytes.subarray(-16));
    const plain = JSON.parse(Buffer.concat([decipher.update(bytes.subarray(0, -16)), decipher.final()]).toString());
    if (typeof plain.e !== 'number' || plain.e <= now.getTime() || !(consoleRoles as readonly unknown[]).includes(plain.r))
      return undefined;
    return { role: plain.r, sessionId: String(plain.s), apiKey: String(plain.k) };
  } catch {
    return undefined;
  }
}

export const mayOpen = (role: ConsoleRole, page: string): page is ConsolePage => (consolePages[role] as readonly string[]).includes(page);
