import { randomBytes } from 'node:crypto';
import type { PayloadCodec } from '@temporalio/common';
import proto from '@temporalio/proto';
import { encryptedEncoding } from '../codec/payload-codec';
import { sha256 } from './vendors/signatures';

const { Payload: PayloadMessage } = proto.temporal.api.common.v1;

/**
 * A source's secrets at rest. An HMAC key must be had in the clear to check a signature, so it
 * cannot be hashed: it is sealed with the payload codec (AES-256-GCM under `LEAD_PAYLOAD_KEYS`,
 * codec/payload-codec.ts), reusing its keys and their rotation — a secret sealed under an older key
 * still opens while that key is listed. A token that is only compared is hashed instead (`hashToken`).
 */
export async function sealSecret(codec: PayloadCodec, secret: string): Promise<Buffer> {
  const [sealed] = await codec.encode([{ metadata: { encoding: Buffer.from('binary/plain') }, data: Buffer.from(secret, 'utf8') }]);
  const encoding = Buffer.from(sealed!.metadata?.encoding ?? []).toString();
  // Only ever stored encrypted: a codec that does not encrypt (the history recorder's) is a mistake here.
  if (encoding !== encryptedEncoding) throw new Error('sealSecret needs the encrypting payload codec');
  return Buffer.from(PayloadMessage.encode(sealed!).finish());
}

export async function openSecret(codec: PayloadCodec, sealed: Uint8Array): Promise<string> {
  const [payload] = await codec.decode([PayloadMessage.decode(sealed)]);
  return Buffer.from(payload!.data ?? []).toString('utf8');
}

export const hashToken = (token: string) => sha256(token).toString('hex');

/** A fresh secret for vendors that take one of ours: 32 random bytes, as Standard Webhooks' `whsec_` for `generic`. */
export function newSecret(vendor: string): string {
  const bytes = randomBytes(32);
  return vendor === 'generic' ? `whsec_${bytes.toString('base64')}` : bytes.toString('base64url');
}
