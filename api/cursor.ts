import { ApiError } from './errors';

/**
 * An opaque keyset cursor: the position of a page's last row as base64url JSON. A cursor comes back
 * from the client, so it is checked in full (`isPosition`) before its values reach Postgres.
 */
export function keysetCursor<P extends string[]>(isPosition: (value: string[]) => boolean) {
  return {
    encode: (position: P) => Buffer.from(JSON.stringify(position)).toString('base64url'),
    decode(cursor: string): P {
      try {
        const value: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
        if (Array.isArray(value) && value.every((v) => typeof v === 'string') && isPosition(value)) return value as P;
      } catch {
        // not ours: answered below
      }
      throw new ApiError(400, 'validation_failed', 'invalid query: cursor', [
        { path: 'cursor', message: 'must be the nextCursor of a previous page' },
      ]);
    },
  };
}
