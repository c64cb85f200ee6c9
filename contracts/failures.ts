/** Failure types of rejected actions, which the API turns into 403 / 409 / 400 / 422. */
export const actionFailureTypes = { notOwner: 'NotOwner', invalidState: 'InvalidState', unknownRep: 'UnknownRep', rejectedInput: 'RejectedInput' } as const;

/** The failure type of a data activity whose input the store refuses for good: the workflow quarantines that input. */
export const badDataFailureType = 'BadData';
