/** Failure types of rejected actions, which the API turns into 403 / 409 / 400 / 422. */
export const actionFailureTypes = {
  notOwner: 'NotOwner',
  invalidState: 'InvalidState',
  unknownRep: 'UnknownRep',
  rejectedInput: 'RejectedInput',
} as const;

/** The failure type of a data activity whose input the store refuses for good: the workflow quarantines that input. */
export const badDataFailureType = 'BadData';

/**
 * The failure type of a vendor call to a URL the service refuses (docs/operations/security.md
 * "Outbound calls"): not retried; the delivery is recorded as rejected and ops are alerted.
 */
export const refusedUrlFailureType = 'RefusedUrl';

/**
 * The failure type of a workflow start or update whose payload was not encrypted with the service's
 * keys, on a worker that refuses those (docs/operations/security.md "Unencrypted payloads").
 */
export const unencryptedPayloadFailureType = 'UnencryptedPayload';
