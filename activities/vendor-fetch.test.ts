import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { vendorApiHosts } from '../domain/vendor-urls';
import { publicOnlyLookup, RefusedUrl, vendorGet } from './vendor-fetch';

// A local server that counts what reaches it: a refused URL must not.
let server: Server;
let origin: string;
let hits = 0;
beforeAll(async () => {
  server = createServer((_, response) => {
    hits += 1;
    response.end('{"id":"1"}');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise((resolve) => server.close(resolve)));

const meta = { hosts: vendorApiHosts.meta_lead_ads };
const get = (base: string, extraOrigins: string[] = []) =>
  vendorGet(base, '1?fields=id', { policy: { ...meta, extraOrigins }, headers: {}, timeoutMs: 2000 });

describe('vendorGet', () => {
  it('refuses a loopback URL before connecting, unless its origin is an extra one', async () => {
    await expect(get(`${origin}/v21.0`)).rejects.toThrow(RefusedUrl);
    expect(hits).toBe(0);
    expect(await get(`${origin}/v21.0`, [origin])).toMatchObject({ status: 200, body: '{"id":"1"}' });
    expect(hits).toBe(1);
  });
});

describe('publicOnlyLookup', () => {
  it('fails for a name that resolves to loopback', async () => {
    const error = await new Promise<NodeJS.ErrnoException | null>((resolve) =>
      publicOnlyLookup('localhost', {}, (failure) => resolve(failure)),
    );
    expect(error).toBeInstanceOf(RefusedUrl);
    expect(error).toMatchObject({
      code: 'EREFUSEDADDRESS',
      message: expect.stringMatching(/^names localhost, which resolves to (127\.0\.0\.1|::1), not a public address$/),
    });
  });

  it('answers the addresses of a name given as a public address, in the form asked for', async () => {
    const one = await new Promise<unknown[]>((resolve) => publicOnlyLookup('8.8.8.8', {}, (...answer) => resolve(answer)));
    expect(one).toEqual([null, '8.8.8.8', 4]);
    const all = await new Promise<unknown[]>((resolve) => publicOnlyLookup('8.8.8.8', { all: true }, (...answer) => resolve(answer)));
    expect(all).toEqual([null, [{ address: '8.8.8.8', family: 4 }]]);
  });
});
