import { createHash } from 'node:crypto';
import { createMiddleware } from 'hono/factory';
import { ApiError } from './errors';

/** `metrics`: a scraper's key, good for the API's `/metrics` and nothing else. */
export const roles = ['capture', 'rep', 'ops', 'marketing', 'metrics'] as const;
export type Role = (typeof roles)[number];

export interface Principal {
  role: Role;
  /** For `rep` keys: the rep the key belongs to. */
  repId?: string;
}

/** Keys the embedded development stack accepts when `API_KEYS` is unset. */
export const developmentKeys: Record<string, Principal> = {
  'capture-dev': { role: 'capture' },
  'ops-dev': { role: 'ops' },
  'marketing-dev': { role: 'marketing' },
  'metrics-dev': { role: 'metrics' },
};

/** What a start-up banner says of the keys: the development keys and their roles, or that `API_KEYS` has them. */
export function apiKeysBanner(apiKeys: string | undefined): string {
  if (apiKeys) return 'from API_KEYS';
  return Object.entries(developmentKeys)
    .map(([key, { role }]) => `${key} (${role})`)
    .join(', ');
}

export function hashKey(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

/**
 * Parses `API_KEYS` (`key=role`, comma-separated; `key=rep:<repId>` binds a key to a rep).
 * Keys are kept only as hashes. With `realKeysRequiredBecause` (outside the embedded development
 * stack, see config/env.ts) `API_KEYS` must be set and must not contain a development key, whose
 * names are published in the README.
 */
export function parseApiKeys(
  value: string | undefined,
  { realKeysRequiredBecause }: { realKeysRequiredBecause?: string } = {},
): Map<string, Principal> {
  const devKeyNames = Object.keys(developmentKeys).join(', ');
  if (realKeysRequiredBecause && !value?.trim()) {
    throw new Error(
      `API_KEYS must be set because ${realKeysRequiredBecause}: set API_KEYS to key=role pairs, comma-separated ` +
        `(roles: ${roles.join(', ')}; rep keys as key=rep:<repId>); the development keys (${devKeyNames}) are accepted only by the embedded stack of \`npm start\``,
    );
  }
  const entries: [string, Principal][] = value
    ? value
        .split(',')
        .map((item) => item.trim())
        .filter(Boolean)
        .map((item) => {
          const [key, spec] = [item.slice(0, item.lastIndexOf('=')), item.slice(item.lastIndexOf('=') + 1)];
          const [role, repId] = spec.split(':') as [string, string | undefined];
          if (!key || !(roles as readonly string[]).includes(role) || (role === 'rep') !== Boolean(repId)) {
            throw new Error(
              `API_KEYS: "${item.replace(key, '***')}" is not key=role (roles: ${roles.join(', ')}; rep keys as key=rep:<repId>)`,
            );
          }
          return [key, { role: role as Role, ...(repId ? { repId } : {}) }];
        })
    : Object.entries(developmentKeys);
  const devKeysGiven = entries.filter(([key]) => Object.hasOwn(developmentKeys, key)).map(([key]) => key);
  if (realKeysRequiredBecause && devKeysGiven.length) {
    throw new Error(
      `API_KEYS: the development keys (${devKeysGiven.join(', ')}) are not accepted because ${realKeysRequiredBecause}: choose keys of your own`,
    );
  }
  return new Map(entries.map(([key, principal]) => [hashKey(key), principal]));
}

export type AuthEnv = { Variables: { principal: Principal; apiKeyHash: string } };

/** The hash of the `Authorization: Bearer <key>` key, or '' when the header is not one. */
export function bearerKeyHash(header: string | undefined): string {
  const match = /^Bearer\s+(\S+)$/i.exec(header ?? '');
  return match ? hashKey(match[1]!) : '';
}

/**
 * Resolves the bearer key to a principal: 401 when it is missing or unknown. `lookup` finds keys
 * kept in Postgres (rep keys); app.ts puts it behind a miss cache, so an unknown key is looked up
 * once per TTL however often it is sent.
 */
export function authenticate(keys: Map<string, Principal>, lookup?: (keyHash: string) => Promise<Principal | undefined>) {
  return createMiddleware<AuthEnv>(async (c, next) => {
    const keyHash = bearerKeyHash(c.req.header('authorization'));
    const match = keyHash !== '';
    const principal = keys.get(keyHash) ?? (match && lookup ? await lookup(keyHash) : undefined);
    if (!principal) {
      throw new ApiError(
        401,
        'unauthorized',
        match ? 'the API key is not valid' : 'missing API key: send Authorization: Bearer <key>',
        undefined,
        {
          'WWW-Authenticate': 'Bearer',
        },
      );
    }
    c.set('principal', principal);
    c.set('apiKeyHash', keyHash);
    await next();
  });
}

/** 403 unless the caller has one of the roles. */
export function requireRole(...allowed: Role[]) {
  return createMiddleware<AuthEnv>(async (c, next) => {
    const { role } = c.get('principal');
    if (!allowed.includes(role)) {
      throw new ApiError(403, 'forbidden', `this action needs one of the roles: ${allowed.join(', ')} (your key has role ${role})`);
    }
    await next();
  });
}
