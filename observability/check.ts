/** `work`, or a rejection once `ms` have passed without an answer (a probe or a scrape never hangs on an outage). */
export function within<T>(ms: number, work: Promise<T>): Promise<T> {
  return Promise.race([work, new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`no answer in ${ms} ms`)), ms).unref())]);
}

/** A health probe's verdict: `ok`, or why not (its error, or no answer within `timeoutMs`). */
export async function check(probe: () => Promise<unknown>, timeoutMs = 2000): Promise<string> {
  try {
    await within(timeoutMs, probe());
    return 'ok';
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
}
