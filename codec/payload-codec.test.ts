import { randomBytes } from 'node:crypto';
import { defaultPayloadConverter } from '@temporalio/common';
import { describe, expect, it } from 'vitest';
import { isRefusedPayload } from '../contracts/payloads';
import { EncryptionCodec, PayloadDecryptionError, PlaintextRefusingCodec, encryptedEncoding, keyIdMetadataKey } from './payload-codec';

const k1 = { id: 'k1', key: randomBytes(32) };
const k2 = { id: 'k2', key: randomBytes(32) };
const text = (bytes: Uint8Array | null | undefined) => Buffer.from(bytes ?? []).toString();

describe('the payload codec (AES-256-GCM)', () => {
  const capture = defaultPayloadConverter.toPayload({ email: 'jane@acme.io', firstName: 'Jane' });

  it('encrypts with the newest key, naming it, and decrypts to the same payload', async () => {
    const codec = new EncryptionCodec([k2, k1]);
    const [encrypted] = await codec.encode([capture]);
    expect(text(encrypted!.metadata!.encoding)).toBe(encryptedEncoding);
    expect(text(encrypted!.metadata![keyIdMetadataKey])).toBe('k2');
    expect(text(encrypted!.data)).not.toContain('jane@acme.io');
    const [decrypted] = await codec.decode([encrypted!]);
    expect(defaultPayloadConverter.fromPayload(decrypted!)).toEqual({ email: 'jane@acme.io', firstName: 'Jane' });
    // A fresh nonce each time: the same value never encrypts to the same bytes.
    const [again] = await codec.encode([capture]);
    expect(Buffer.from(again!.data!).equals(Buffer.from(encrypted!.data!))).toBe(false);
  });

  it('reads payloads of older keys still listed, and passes plain payloads through', async () => {
    const [old] = await new EncryptionCodec([k1]).encode([capture]);
    const rotated = new EncryptionCodec([k2, k1]);
    expect(defaultPayloadConverter.fromPayload((await rotated.decode([old!]))[0]!)).toMatchObject({ email: 'jane@acme.io' });
    expect(await rotated.decode([capture])).toEqual([capture]);
  });

  it('refuses an unknown key, altered bytes and a payload relabelled with another key id', async () => {
    const [sealed] = await new EncryptionCodec([k1]).encode([capture]);
    await expect(new EncryptionCodec([k2]).decode([sealed!])).rejects.toThrow(PayloadDecryptionError);
    const altered = Buffer.from(sealed!.data!);
    altered.writeUInt8(altered.readUInt8(20) ^ 1, 20);
    await expect(new EncryptionCodec([k1]).decode([{ ...sealed!, data: altered }])).rejects.toThrow('does not decrypt');
    const relabelled = { ...sealed!, metadata: { ...sealed!.metadata, [keyIdMetadataKey]: Buffer.from('k2') } };
    await expect(new EncryptionCodec([{ id: 'k2', key: k1.key }]).decode([relabelled])).rejects.toThrow('does not decrypt');
  });
});

describe('the plaintext-refusing codec of a production worker', () => {
  it('passes encrypted payloads to the encryption codec and decodes a plaintext one to a marker, never its content', async () => {
    const encryption = new EncryptionCodec([k1]);
    const refused: (string | undefined)[] = [];
    const refusing = new PlaintextRefusingCodec((encoding) => refused.push(encoding));
    const mine = await encryption.encode([defaultPayloadConverter.toPayload({ reason: 'spam' })]);
    const forged = defaultPayloadConverter.toPayload({ reason: 'spam', actor: { role: 'ops' } });
    // Decoding runs the codecs in reverse order: the refusing one first, then the encryption.
    const decoded = await encryption.decode(await refusing.decode([...mine, forged]));
    const [ours, theirs] = decoded.map((payload) => defaultPayloadConverter.fromPayload(payload));
    expect(ours).toEqual({ reason: 'spam' });
    expect(isRefusedPayload(ours)).toBe(false);
    expect(isRefusedPayload(theirs)).toBe(true);
    expect(JSON.stringify(theirs)).not.toContain('ops');
    expect(refused).toEqual(['json/plain']);
    expect(await refusing.encode(mine)).toEqual(mine);
  });
});
