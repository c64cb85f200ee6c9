import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { METADATA_ENCODING_KEY, type DataConverter, type Payload, type PayloadCodec } from '@temporalio/common';
// A CommonJS module whose exports Node's ESM loader cannot list: take them from its default export.
import proto from '@temporalio/proto';
import { refusedPayloadKey } from '../contracts/payloads';

const { Payload: PayloadMessage } = proto.temporal.api.common.v1;

/**
 * Payload encryption: every payload the service hands Temporal — workflow input,
 * signals, updates, activity arguments and results, queries, memos — leaves the process as
 * AES-256-GCM ciphertext, so Temporal's history and anyone who can read it (the server's database,
 * its backups, Temporal Cloud) hold no personal data in the clear. Search attributes are not
 * payloads the codec sees: they stay plain and hold no personal data (docs/features/privacy.md).
 */

/** The `encoding` of an encrypted payload; the Web UI and the CLI show it for payloads they cannot decode. */
export const encryptedEncoding = 'binary/encrypted';
/** Metadata naming the key a payload was encrypted with, so keys can rotate: old payloads stay readable. */
export const keyIdMetadataKey = 'encryption-key-id';

/** A named AES-256 key (`LEAD_PAYLOAD_KEYS` holds them, newest first). */
export interface PayloadKey {
  id: string;
  key: Buffer;
}

const ivBytes = 12; // GCM's standard nonce size; random per payload (2^32 payloads per key keep collisions negligible)
const tagBytes = 16;
const cipher = 'aes-256-gcm';

/** The payload could not be decrypted: an unknown key id, a wrong key, or tampered bytes. */
export class PayloadDecryptionError extends Error {}

export class EncryptionCodec implements PayloadCodec {
  private readonly newest: PayloadKey;
  private readonly byId: Map<string, Buffer>;

  /** `keys` newest first: new payloads use the first, every one of them decrypts. */
  constructor(keys: readonly PayloadKey[]) {
    if (keys.length === 0) throw new Error('EncryptionCodec needs at least one key');
    for (const { id, key } of keys) {
      if (key.length !== 32) throw new Error(`payload key ${id}: must be 32 bytes (AES-256), got ${key.length}`);
    }
    this.newest = keys[0]!;
    this.byId = new Map(keys.map(({ id, key }) => [id, key]));
  }

  /** What a log line or an error report that serializes the codec shows: the key ids, never the keys. */
  toJSON(): { keyIds: string[] } {
    return { keyIds: [...this.byId.keys()] };
  }

  async encode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((payload) => this.encrypt(payload));
  }

  /** Payloads that are not encrypted (written before encryption was turned on, or search attributes) pass through. */
  async decode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((payload) => (encodingOf(payload) === encryptedEncoding ? this.decrypt(payload) : payload));
  }

  private encrypt(payload: Payload): Payload {
    const { id, key } = this.newest;
    const iv = randomBytes(ivBytes);
    const aes = createCipheriv(cipher, key, iv);
    // The key id is authenticated too: a payload relabelled with another key id fails to decrypt.
    aes.setAAD(Buffer.from(id));
    const plain = PayloadMessage.encode(payload).finish();
    const sealed = Buffer.concat([iv, aes.update(plain), aes.final(), aes.getAuthTag()]);
    return {
      metadata: { [METADATA_ENCODING_KEY]: Buffer.from(encryptedEncoding), [keyIdMetadataKey]: Buffer.from(id) },
      data: sealed,
    };
  }

  private decrypt(payload: Payload): Payload {
    const id = Buffer.from(payload.metadata?.[keyIdMetadataKey] ?? []).toString();
    const key = this.byId.get(id);
    if (!key)
      throw new PayloadDecryptionError(`payload encrypted with key "${id}", which is not among the configured keys (LEAD_PAYLOAD_KEYS)`);
    const sealed = Buffer.from(payload.data ?? []);
    if (sealed.length < ivBytes + tagBytes) throw new PayloadDecryptionError(`encrypted payload too short (${sealed.length} bytes)`);
    try {
      const aes = createDecipheriv(cipher, key, sealed.subarray(0, ivBytes));
      aes.setAAD(Buffer.from(id));
      aes.setAuthTag(sealed.subarray(sealed.length - tagBytes));
      const plain = Buffer.concat([aes.update(sealed.subarray(ivBytes, sealed.length - tagBytes)), aes.final()]);
      return PayloadMessage.decode(plain);
    } catch {
      throw new PayloadDecryptionError(`payload encrypted with key "${id}" does not decrypt with it (wrong key or altered bytes)`);
    }
  }
}

/**
 * A production worker's second codec, after the `EncryptionCodec` (decoding runs the codecs in
 * reverse, so this one sees the payload as it came from Temporal): an unencrypted payload decodes to
 * a marker (`contracts/payloads.ts`) instead of its content. Such a payload was written by someone
 * without the payload keys (a plaintext update with actor ops, sent to the server directly): the
 * workflow interceptors reject or drop it. A marker rather than an error: an error while decoding a
 * signal would fail every workflow task of the lead from then on, and the lead would stop.
 */
export class PlaintextRefusingCodec implements PayloadCodec {
  constructor(private readonly onRefused: (encoding: string | undefined) => void = () => {}) {}

  async encode(payloads: Payload[]): Promise<Payload[]> {
    return payloads;
  }

  async decode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((payload) => {
      const encoding = encodingOf(payload);
      if (encoding === encryptedEncoding) return payload;
      this.onRefused(encoding);
      return {
        metadata: { [METADATA_ENCODING_KEY]: Buffer.from('json/plain') },
        data: Buffer.from(JSON.stringify({ [refusedPayloadKey]: encoding ?? 'none' })),
      };
    });
  }
}

function encodingOf(payload: Payload): string | undefined {
  const encoding = payload.metadata?.[METADATA_ENCODING_KEY];
  return encoding ? Buffer.from(encoding).toString() : undefined;
}

/**
 * The data converter of every client and worker of the service. The codec runs outside the
 * workflow sandbox (in the worker's and client's own process), so node:crypto is fine here.
 */
export function encryptingDataConverter(codec: PayloadCodec): DataConverter {
  return { payloadCodecs: [codec] };
}

/** `id:<base64 of 32 bytes>` for `LEAD_PAYLOAD_KEYS`: a fresh key. */
export function newPayloadKey(id: string): string {
  return `${id}:${randomBytes(32).toString('base64')}`;
}
