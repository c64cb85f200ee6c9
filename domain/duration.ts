import { parse, toSeconds } from 'iso8601-duration';

/**
 * Durations already read: the same few strings from the configuration are read over and over
 * (scoring decay reads every step for every lead a backtest re-scores), and parsing is the cost.
 */
const parsed = new Map<string, number>();

/** Milliseconds in an ISO-8601 duration (`PT5M`, `P30D`). Months and years count from the Unix epoch, i.e. as calendar averages. */
export function durationMs(iso: string): number {
  let ms = parsed.get(iso);
  if (ms === undefined) {
    ms = Math.round(toSeconds(parse(iso)) * 1000);
    if (parsed.size < 1000) parsed.set(iso, ms);
  }
  return ms;
}
