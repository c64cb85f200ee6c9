import { describe, expect, it } from 'vitest';
import { hashKey, parseApiKeys } from './auth';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeEmbeddedStackProof } from '../config/embedded-stack';
import { loadEnv, payloadKeysFrom, realKeysRequiredBecause } from '../config/env';

describe('API_KEYS', () => {
  it('maps each key to its role, binding rep keys to their rep', () => {
    const keys = parseApiKeys('k1=capture, k2=ops,k3=marketing,k4=rep:rep-42');
    expect(keys.get(hashKey('k1'))).toEqual({ role: 'capture' });
    expect(keys.get(hashKey('k2'))).toEqual({ role: 'ops' });
    expect(keys.get(hashKey('k3'))).toEqual({ role: 'marketing' });
    expect(keys.get(hashKey('k4'))).toEqual({ role: 'rep', repId: 'rep-42' });
  });

  it('keeps only hashes of the keys', () => {
    const keys = parseApiKeys('secret-key=ops');
    expect([...keys.keys()]).toEqual([hashKey('secret-key')]);
    expect(JSON.stringify([...keys])).not.toContain('secret-key');
  });

  it('falls back to the development keys only when unset', () => {
    expect(parseApiKeys(undefined).get(hashKey('capture-dev'))).toEqual({ role: 'capture' });
    expect(parseApiKeys('k=ops').get(hashKey('capture-dev'))).toBeUndefined();
  });

  it('rejects an unknown role or a rep key without a rep, without echoing the key', () => {
    expect(() => parseApiKeys('topsecret=admin')).toThrow(/not key=role/);
    expect(() => parseApiKeys('topsecret=admin')).not.toThrow(/topsecret/);
    expect(() => parseApiKeys('k=rep')).toThrow(/rep:<repId>/);
  });
});

describe('API keys outside the embedded development stack', () => {
  const external = { DATABASE_URL: 'postgres://leads@db.example:5432/leads', TEMPORAL_ADDRESS: 'temporal.example:7233' };
  const reason = (source: NodeJS.ProcessEnv) => realKeysRequiredBecause(loadEnv(source));

  it('requires real keys in production, or when Postgres or Temporal are external', () => {
    expect(reason({ NODE_ENV: 'production' })).toBe('NODE_ENV is production');
    expect(reason({ DATABASE_URL: external.DATABASE_URL })).toBe('DATABASE_URL points at external services');
    expect(reason({ TEMPORAL_ADDRESS: external.TEMPORAL_ADDRESS })).toBe('TEMPORAL_ADDRESS points at external services');
    expect(reason(external)).toBe('DATABASE_URL and TEMPORAL_ADDRESS point at external services');
  });

  it('lets a proven embedded stack (npm start, the bench) use the development keys, but not in production', () => {
    const local = { DATABASE_URL: 'postgres://leads@127.0.0.1:54320/leads', TEMPORAL_ADDRESS: 'localhost:7233' };
    const proof = writeEmbeddedStackProof(mkdtempSync(join(tmpdir(), 'lead-proof-')), {
      databaseUrl: local.DATABASE_URL,
      temporalAddress: local.TEMPORAL_ADDRESS,
    });
    expect(reason({ ...local, ...proof })).toBeUndefined();
    expect(reason({ NODE_ENV: 'development' })).toBeUndefined();
    expect(reason({ ...local, ...proof, NODE_ENV: 'production' })).toBe('NODE_ENV is production');
    expect(reason({ ...local, ...proof, NODE_ENV: 'Production' })).toBe('NODE_ENV is "Production", not development or test');
    // The variable alone, a wrong token, or other services than the ones the stack started: no relaxation.
    expect(reason({ ...external, LEAD_EMBEDDED_STACK: '1' })).toMatch(
      /^the embedded stack is not proven \(LEAD_EMBEDDED_STACK is set without LEAD_DATA_DIR\)/,
    );
    expect(reason({ ...local, ...proof, LEAD_EMBEDDED_STACK: 'copied' })).toMatch(/does not match the token/);
    expect(reason({ ...external, ...proof })).toMatch(/is not the embedded stack that was started/);
  });

  it('refuses a proof naming services off loopback', () => {
    const remote = { DATABASE_URL: 'postgres://leads@10.0.0.5:5432/leads', TEMPORAL_ADDRESS: '[::1]:7233' };
    const proof = writeEmbeddedStackProof(mkdtempSync(join(tmpdir(), 'lead-proof-')), {
      databaseUrl: remote.DATABASE_URL,
      temporalAddress: remote.TEMPORAL_ADDRESS,
    });
    expect(reason({ ...remote, ...proof })).toMatch(/not on loopback/);
  });

  it('refuses to start without API_KEYS, saying what to set', () => {
    for (const unset of [undefined, '', ' ']) {
      expect(() => parseApiKeys(unset, { realKeysRequiredBecause: 'NODE_ENV is production' })).toThrow(
        /API_KEYS must be set because NODE_ENV is production: set API_KEYS to key=role pairs/,
      );
    }
  });

  it('never accepts a development key, whatever role API_KEYS gives it', () => {
    const production = { realKeysRequiredBecause: 'DATABASE_URL points at external services' };
    expect(() => parseApiKeys('k1=capture,ops-dev=ops', production)).toThrow(
      /development keys \(ops-dev\) are not accepted because DATABASE_URL/,
    );
    expect(() => parseApiKeys('capture-dev=marketing', production)).toThrow(/capture-dev/);
    const keys = parseApiKeys('k1=capture,k2=ops', production);
    expect([...keys.keys()].sort()).toEqual([hashKey('k1'), hashKey('k2')].sort());
    expect(keys.get(hashKey('marketing-dev'))).toBeUndefined();
  });
});

describe('payload keys (LEAD_PAYLOAD_KEYS)', () => {
  const key = (byte: number, bytes = 32) => Buffer.alloc(bytes, byte).toString('base64');
  const keys = (value: string, more: NodeJS.ProcessEnv = {}) => payloadKeysFrom(loadEnv({ LEAD_PAYLOAD_KEYS: value, ...more }));

  it('reads id:<base64 of 32 bytes> pairs, newest first', () => {
    expect(keys(`k2:${key(2)}, k1:${key(1)}`)).toEqual([
      { id: 'k2', key: Buffer.alloc(32, 2) },
      { id: 'k1', key: Buffer.alloc(32, 1) },
    ]);
  });

  it('names a bad item without echoing any key', () => {
    expect(() => keys(`k1:${key(1, 16)}`)).toThrow('LEAD_PAYLOAD_KEYS: item 1 key k1 must be 32 bytes in base64 (AES-256), got 16 bytes');
    expect(() => keys(`k1:${key(1)},k1:${key(2)}`)).toThrow('item 2 key id k1 appears twice');
    expect(() => keys(key(3))).toThrow('item 1 is not id:<base64 key>');
    expect(() => keys(`k1:${key(1, 16)}`)).not.toThrow(key(1, 16));
    expect(() => keys(' , ')).toThrow('names no key');
  });

  it('are required everywhere; development keys (dev-…) only on the embedded stack', () => {
    expect(() => payloadKeysFrom(loadEnv({}))).toThrow(/LEAD_PAYLOAD_KEYS is not set \(`npm start` generates a development key/);
    expect(() => payloadKeysFrom(loadEnv({ NODE_ENV: 'production' }))).toThrow(
      /LEAD_PAYLOAD_KEYS must be set because NODE_ENV is production/,
    );
    expect(keys(`dev-2026-11-25:${key(1)}`)).toHaveLength(1);
    expect(() => keys(`k2:${key(2)},dev-2026-11-25:${key(1)}`, { DATABASE_URL: 'postgres://leads@db.example:5432/leads' })).toThrow(
      'LEAD_PAYLOAD_KEYS: the development keys (dev-2026-11-25) are not accepted because DATABASE_URL points at external services',
    );
  });
});
