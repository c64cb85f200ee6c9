import { describe, expect, it } from 'vitest';
import { clientAddress } from './client-address';

describe('clientAddress', () => {
  it("is the connection's address without trusted proxies, whatever X-Forwarded-For says", () => {
    expect(clientAddress('203.0.113.7', '198.51.100.1', [])).toBe('203.0.113.7');
    expect(clientAddress('::ffff:203.0.113.7', undefined, [])).toBe('203.0.113.7');
    expect(clientAddress(undefined, undefined, [])).toBe('unknown');
  });

  it('behind trusted proxies, is the last forwarded address that is not one of them (a client cannot choose it)', () => {
    const proxies = ['10.0.0.2', '10.0.0.3'];
    expect(clientAddress('10.0.0.2', '198.51.100.1', proxies)).toBe('198.51.100.1');
    expect(clientAddress('::ffff:10.0.0.2', 'forged, 198.51.100.1, 10.0.0.3', proxies)).toBe('198.51.100.1');
    expect(clientAddress('10.0.0.2', '10.0.0.3', proxies)).toBe('10.0.0.3');
    expect(clientAddress('10.0.0.2', undefined, proxies)).toBe('10.0.0.2');
    expect(clientAddress('203.0.113.7', '198.51.100.1', proxies)).toBe('203.0.113.7');
  });
});
