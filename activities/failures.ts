import { ApplicationFailure } from '@temporalio/activity';
import { badDataFailureType } from '../contracts/failures';

/**
 * SQLSTATE classes that say the data is at fault, not the database: 22 (data exception: a NUL
 * byte, an unpaired surrogate, a timestamp out of range) and 23 (an integrity constraint the
 * code does not expect). Anything else (connection refused, serialization failure, a lock
 * timeout) is transient and retried.
 */
const permanentClasses = ['22', '23'];

function sqlState(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) ? code : undefined;
}

/**
 * Turns a permanent data error into a non-retryable failure, so the workflow quarantines the input
 * that caused it instead of retrying it forever. The message is Postgres's own, which names the
 * problem (e.g. `invalid byte sequence for encoding "UTF8": 0x00`) but not the value's context.
 */
export function classifyFailure(error: unknown): unknown {
  const state = sqlState(error);
  if (state && permanentClasses.includes(state.slice(0, 2))) {
    const message = error instanceof Error ? error.message : String(error);
    return ApplicationFailure.create({ type: badDataFailureType, message: `SQLSTATE ${state}: ${message}`, nonRetryable: true });
  }
  return error;
}

/** The same activities, each failing non-retryably on bad data. */
export function failingPermanentlyOnBadData<T extends Record<string, (...args: any[]) => Promise<unknown>>>(activities: T): T {
  return Object.fromEntries(
    Object.entries(activities).map(([name, activity]) => [
      name,
      async (...args: unknown[]) => {
        try {
          return await activity(...args);
        } catch (error) {
          throw classifyFailure(error);
        }
      },
    ]),
  ) as T;
}
