import { randomBytes } from 'node:crypto';
import type { Payload, PayloadCodec } from '@temporalio/common';
import { EncryptionCodec, keyIdMetadataKey, type PayloadKey } from '../../codec/payload-codec';

/**
 * The payload keys of the tests: random for each test process, so no key is committed; a test
 * file's clients, workers and codec server share them. `older` and `newer` are for key rotation.
 */
export const testPayloadKeys = {
  older: { id: 'test-k1', key: randomBytes(32) },
  newer: { id: 'test-k2', key: randomBytes(32) },
} satisfies Record<string, PayloadKey>;

/** What the services under test encrypt with unless a test says otherwise. */
export const testCodec = new EncryptionCodec([testPayloadKeys.older]);

/** Every payload (anything with byte-valued metadata) and every string in a history as fetched from Temporal. */
function contents(value: unknown, found: { payloads: Payload[]; strings: string[] } = { payloads: [], strings: [] }) {
  if (typeof value === 'string') found.strings.push(value);
  else if (Array.isArray(value)) for (const item of value) contents(item, found);
  else if (value && typeof value === 'object' && !(value instanceof Uint8Array)) {
    const { metadata } = value as Payload;
    if (metadata && typeof metadata === 'object' && Object.values(metadata).every((v) => v instanceof Uint8Array))
      found.payloads.push(value as Payload);
    else for (const item of Object.values(value)) contents(item, found);
  }
  return found;
}

/**
 * What a reader of the history can see, as text: its strings and the bytes of every payload,
 * decoded by `codec` first when one is given (a reader without the keys gets ciphertext).
 */
export async function historyText(history: unknown, codec?: PayloadCodec): Promise<string> {
  const { payloads, strings } = contents(history);
  const readable = codec ? await codec.decode(payloads) : payloads;
  const bytes = readable.flatMap(({ metadata, data }) => [...Object.values(metadata ?? {}), data ?? new Uint8Array()]);
  return [...strings, ...bytes.map((b) => Buffer.from(b).toString('utf8'))].join('\n');
}

/** The key ids the history's encrypted payloads name. */
export function keyIdsIn(history: unknown): Set<string> {
  return new Set(
    contents(history).payloads.flatMap(({ metadata }) =>
      metadata?.[keyIdMetadataKey] ? [Buffer.from(metadata[keyIdMetadataKey]).toString()] : [],
    ),
  );
}
