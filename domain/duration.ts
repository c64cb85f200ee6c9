import { parse, toSeconds } from 'iso8601-duration';

/** Milliseconds in an ISO-8601 duration (`PT5M`, `P30D`). Months and years count from the Unix epoch, i.e. as calendar averages. */
export function durationMs(iso: string): number {
  return Math.round(toSeconds(parse(iso)) * 1000);
}
