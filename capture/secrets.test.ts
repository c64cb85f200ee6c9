import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { EncryptionCodec } from '../codec/payload-codec';
import { openSecret, sealSecret } from './secrets';

const k1 = { id: 'k1', key: randomBytes(32) };
const k2 = { id: 'k2', key: randomBytes(32) };

describe("a source's sealed secret", () => {
  it('holds no trace of the secret and opens with the key it was sealed under, also after a rotation', async () => {
    const secret = 'tally-signing-secret-0123456789';
    const sealed = await sealSecret(new EncryptionCodec([k1]), secret);
    expect(sealed.toString('latin1')).not.toContain(secret);
    expect(await openSecret(new EncryptionCodec([k2, k1]), sealed)).toBe(secret);
    await expect(openSecret(new EncryptionCodec([k2]), sealed)).rejects.toThrow(/k1/);
  });

  it('is refused by a codec that does not encrypt', async () => {
    await expect(sealSecret({ encode: async (p) => p, decode: async (p) => p }, 's')).rejects.toThrow(/encrypting/);
  });
});
