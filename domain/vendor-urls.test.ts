import { describe, expect, it } from 'vitest';
import { isPrivateAddress, vendorApiHosts, vendorUrlRefusal } from './vendor-urls';

const meta = { hosts: vendorApiHosts.meta_lead_ads };

describe('vendorUrlRefusal', () => {
  it("accepts the vendor's own https host", () => {
    expect(vendorUrlRefusal('https://graph.facebook.com/v21.0', meta)).toBeUndefined();
    expect(vendorUrlRefusal('https://GRAPH.facebook.com:443/v19.0/', meta)).toBeUndefined();
  });

  it.each([
    ['http://graph.facebook.com/v21.0', 'must be https://'],
    ['http://127.0.0.1:8080/v21.0', 'must be https://'],
    ['https://127.0.0.1/v21.0', 'not an address'],
    ['https://[::1]/v21.0', 'not an address'],
    ['https://2130706433/v21.0', 'not an address'],
    ['https://0x7f000001/', 'not an address'],
    ['http://169.254.169.254/latest/meta-data#', 'no query or fragment'],
    ['https://graph.facebook.com/v21.0#', 'no query or fragment'],
    ['https://graph.facebook.com/v21.0?x=1', 'no query or fragment'],
    ['https://graph.facebook.com:8443/v21.0', 'default https port'],
    ['https://graph.facebook.com.evil.example/v21.0', "vendor's host"],
    ['https://evil.example/graph.facebook.com', "vendor's host"],
    ['https://token@graph.facebook.com/v21.0', 'no credentials'],
    ['ftp://graph.facebook.com/', 'must be https://'],
    ['not a url', 'is not a URL'],
  ])('refuses %s', (url, reason) => {
    expect(vendorUrlRefusal(url, meta)).toContain(reason);
  });

  it("accepts any subdomain of a vendor's `*.` host, and neither the bare domain nor a look-alike", () => {
    const salesforce = { hosts: vendorApiHosts.salesforce };
    expect(vendorUrlRefusal('https://acme.my.salesforce.com', salesforce)).toBeUndefined();
    expect(vendorUrlRefusal('https://acme--uat.sandbox.my.salesforce.com', salesforce)).toBeUndefined();
    expect(vendorUrlRefusal('https://na1.salesforce.com', salesforce)).toBeUndefined();
    expect(vendorUrlRefusal('https://salesforce.com', salesforce)).toContain("vendor's host");
    expect(vendorUrlRefusal('https://acme.my.salesforce.com.evil.example', salesforce)).toContain("vendor's host");
    expect(vendorUrlRefusal('https://evilsalesforce.com', salesforce)).toContain("vendor's host");
  });

  it('takes an extra origin as it is (plain http on loopback: tests and development), and only that origin', () => {
    const policy = { ...meta, extraOrigins: ['http://127.0.0.1:4010'] };
    expect(vendorUrlRefusal('http://127.0.0.1:4010/v21.0', policy)).toBeUndefined();
    expect(vendorUrlRefusal('http://127.0.0.1:4011/v21.0', policy)).toBe('must be https://');
    expect(vendorUrlRefusal('http://127.0.0.1:4010/v21.0#', policy)).toBe('must have no query or fragment');
  });
});

describe('isPrivateAddress', () => {
  it.each([
    '127.0.0.1',
    '127.255.0.9',
    '10.1.2.3',
    '172.16.0.1',
    '172.31.255.255',
    '192.168.1.1',
    '169.254.169.254',
    '100.64.0.1',
    '0.0.0.0',
    '224.0.0.1',
    '255.255.255.255',
    '::1',
    '::',
    '::ffff:127.0.0.1',
    '::ffff:7f00:1',
    '::ffff:169.254.169.254',
    '64:ff9b::10.0.0.1',
    'fe80::1',
    'fe80::1%eth0',
    'fd00:ec2::254',
    'fc00::1',
    'ff02::1',
    'not-an-address',
  ])('%s is private', (address) => {
    expect(isPrivateAddress(address)).toBe(true);
  });

  it.each([
    '157.240.22.35',
    '8.8.8.8',
    '172.32.0.1',
    '100.128.0.1',
    '2a03:2880:f12f:83:face:b00c:0:25de',
    '::ffff:157.240.22.35',
    '2001:4860::8888',
  ])('%s is public', (address) => {
    expect(isPrivateAddress(address)).toBe(false);
  });
});
