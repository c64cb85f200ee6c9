import { describe, expect, it } from 'vitest';
import { hashKey, parseApiKeys } from '../api/auth';

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
