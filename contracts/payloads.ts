/**
 * What an unencrypted payload decodes to on a worker that refuses them (codec/payload-codec.ts,
 * `PlaintextRefusingCodec`): anyone who reaches Temporal can write a plaintext signal, update or
 * workflow start, but only the service's own processes hold the payload keys. The workflow
 * interceptors (workflows/interceptors.ts) never let such a value reach a handler.
 */
export const refusedPayloadKey = 'refusedUnencryptedPayload';

/** A decoded argument that stands for a refused plaintext payload. */
export function isRefusedPayload(value: unknown): boolean {
  return typeof value === 'object' && value !== null && refusedPayloadKey in value;
}
