import { ApplicationFailure, isCancellation } from '@temporalio/workflow';
import { badDataFailureType } from '../../contracts/failures';

/** Why the store refused an input for good (a non-retryable `BadData` failure), or undefined for any other failure. */
export function badDataReason(error: unknown): string | undefined {
  // The activity's failure, as such or as the cause of an ActivityFailure.
  for (let failure = error; failure instanceof Error; failure = failure.cause) {
    if (failure instanceof ApplicationFailure && failure.type === badDataFailureType) return failure.message;
  }
  return undefined;
}

/**
 * A data access that ran out of its retry window (`dataAccess.retryFor`) for any other reason
 * than bad data: the store is down or keeps failing, and trying again later can help. (A local
 * activity's last failure reaches the workflow as the activity's own error, not always wrapped
 * in an ActivityFailure, so anything but bad data and cancellation counts.)
 */
export const outlasted = (error: unknown): boolean => badDataReason(error) === undefined && !isCancellation(error);
