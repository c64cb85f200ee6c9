import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { UnreadablePayload, type HookRequest, type Verdict } from '../../contracts/vendors';

/** How old a signed timestamp may be (and how far ahead: clocks drift), for the schemes that sign one. */
const timestampToleranceMs = 5 * 60_000;

/** HMAC-SHA256 of `data` with `key`. */
export const hmacSha256 = (key: string | Buffer, data: string | Buffer) => createHmac('sha256', key).update(data).digest();
export const sha256 = (data: string | Buffer) => createHash('sha256').update(data).digest();

/** Constant-time comparison of a signature sent with the one expected (different lengths: not equal). */
export function sameSignature(sent: string | Buffer, expected: string | Buffer): boolean {
  const a = Buffer.from(sent);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** Checks a signed timestamp (in ms) against `now`: too old is a replay, too far ahead a bad clock. */
export function checkTimestamp(ms: number, now: number): Verdict {
  if (!Number.isFinite(ms)) return 'the signature timestamp is not a number';
  if (now - ms > timestampToleranceMs) return 'the signature timestamp is too old';
  if (ms - now > timestampToleranceMs) return 'the signature timestamp is in the future';
  return undefined;
}

export const needsSecret: Verdict = 'the source has no signing secret';

/** The body as JSON; an `UnreadablePayload` when it is not. */
export function jsonBody(request: HookRequest): unknown {
  try {
    return JSON.parse(request.body.toString('utf8'));
  } catch {
    throw new UnreadablePayload('the body is not JSON');
  }
}

export const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** The `utm_*` entries of a record of strings. */
export function utmOf(record: unknown): Record<string, string> {
  if (!isRecord(record)) return {};
  return Object.fromEntries(
    Object.entries(record)
      .filter((e): e is [string, string] => /^utm_/i.test(e[0]) && typeof e[1] === 'string' && e[1] !== '')
      .map(([k, v]) => [k.toLowerCase(), v]),
  );
}
