import { parse, toSeconds } from 'iso8601-duration';
import { z } from 'zod';

/** Milliseconds in an ISO-8601 duration (`PT5M`, `P30D`). Months and years count from the Unix epoch, i.e. as calendar averages. */
export function durationMs(iso: string): number {
  return Math.round(toSeconds(parse(iso)) * 1000);
}

/** An ISO-8601 duration string in configuration or API input, checked to parse and to be positive. */
export const isoDuration = z.string().refine(
  (value) => {
    try {
      return durationMs(value) > 0;
    } catch {
      return false;
    }
  },
  { message: 'must be a positive ISO-8601 duration such as PT5M or P30D' },
);
