import { z } from 'zod';
import { durationMs } from './duration';

/**
 * The one place that says what input the API accepts: every request schema is built from these,
 * so whatever passes validation can be stored. Postgres rejects NUL in text and jsonb and unpaired
 * surrogates in jsonb (SQLSTATE 22021, 22P05), and timestamps outside its range (22008); a value it
 * rejects after the API has answered 202 would make the lead's activity retry forever.
 * Workflow code must not import this module (zod stays out of the workflow bundle).
 */

const hasNoNul = (value: string) => !value.includes('\u0000');
const isWellFormed = (value: string) => value.isWellFormed();

/** A string Postgres can store. */
const storable = () =>
  z
    .string()
    // abort: the checks after these are meaningless on a string that cannot be stored.
    .refine(hasNoNul, { message: 'must not contain NUL (U+0000)', abort: true })
    .refine(isWellFormed, { message: 'must not contain unpaired surrogates (invalid UTF-16)', abort: true });

/** Storable, trimmed and in NFC (so that one text typed two ways compares and dedupes equal). */
const storableString = () => storable().trim().normalize('NFC');

/** Text of 1 to `max` characters. */
export const text = (max: number) => storableString().min(1).max(max);
/** Text of 1 to `max` characters, or absent. */
export const optionalText = (max: number) => text(max).optional();
/**
 * C0 controls (CR, LF, NUL, tab, ...) and DEL. A one-line field holding them could forge extra
 * lines or hidden markup in every place the value is shown: a Slack alert, an email subject, a log
 * line, a CSV export (docs/features/email-and-notifications.md "Escaping").
 */
// eslint-disable-next-line no-control-regex
const controlCharacter = /[\u0000-\u001F\u007F]/;
const isOneLine = (value: string) => !controlCharacter.test(value);

/** One line of text (a name, a company, a phone) of 1 to `max` characters: no control characters. */
export const line = (max: number) =>
  storable()
    .refine(isOneLine, { message: 'must be one line: no control characters (CR, LF, tab, DEL or other C0)', abort: true })
    .trim()
    .normalize('NFC')
    .min(1)
    .max(max);
/** One line of text, or absent. */
export const optionalLine = (max: number) => line(max).optional();

/** Free text that may be empty (consent wording as shown). */
export const anyText = (max: number) => storableString().max(max);

/** An id chosen by clients or the server for reps, teams and owners: 1 to `max` ASCII letters, digits, `_`, `.` or `-`. */
export const identifier = (max = 64) =>
  z
    .string()
    .trim()
    .regex(new RegExp(`^[A-Za-z0-9_.-]{1,${max}}$`), `must be 1–${max} letters, digits, "_", "." or "-"`);

/** A key compared as sent (an event id, an Idempotency-Key): 1 to `max` storable characters, not trimmed. */
export const opaqueKey = (max: number) => storable().min(1).max(max);

/** An email address as captured or given for a rep: trimmed, at most 320 characters (RFC 5321). */
/** A country as captures and routing take it: two letters, upper-cased. */
export const countryCode = () =>
  z
    .string()
    .trim()
    .regex(/^[A-Za-z]{2}$/, 'must be an ISO 3166-1 alpha-2 country code')
    .transform((c) => c.toUpperCase());

export const email = () => z.string().trim().pipe(z.email().max(320));

/** The earliest instant accepted: no lead, consent or absence predates the service's data. */
export const earliestTimestamp = '2000-01-01T00:00:00Z';
const earliestMs = Date.parse(earliestTimestamp);
const dayMs = 24 * 3600_000;

/** Whether a date-time Date.parse reads lies between 2000-01-01 and now + `ahead` ms. */
export const isInWindow = (value: string, ahead = dayMs) => {
  const ms = Date.parse(value);
  return ms >= earliestMs && ms <= Date.now() + ahead;
};

/**
 * An ISO-8601 timestamp with an offset, between 2000-01-01T00:00:00Z and now + `ahead` (default one
 * day: room for clocks ahead of ours). The upper bound moves with the clock, so it is checked on each
 * request; the schema's description states the window.
 */
export const timestamp = (options: { ahead?: number; aheadText?: string } = {}) => {
  const ahead = options.ahead ?? dayMs;
  const window = `between ${earliestTimestamp} and ${options.aheadText ?? 'one day from now'}`;
  return z.iso
    .datetime({ offset: true })
    .refine((value) => isInWindow(value, ahead), `must be ${window}`)
    .meta({ description: `ISO-8601 timestamp with offset, ${window}` });
};

/** A timestamp a plan may put in the future (a rep away until…): up to five years from now. */
export const futureTimestamp = () => timestamp({ ahead: 5 * 366 * dayMs, aheadText: 'five years from now' });

/** A finite integer in [min, max] (JSON's 1e400 parses to Infinity and is rejected). */
/** The longest window a report or backtest reads: a year, so one call cannot scan the whole history (docs/operations/security.md "Bounded calls"). */
export const maxWindowDays = 366;
/** True when [from, to) spans at most `maxWindowDays`. */
export const isBoundedWindow = (from: string, to: string) => Date.parse(to) - Date.parse(from) <= maxWindowDays * dayMs;

export const integer = (min: number, max: number) => z.number().int().min(min).max(max);
/** A finite number in [min, max]. */
export const finiteNumber = (min: number, max: number) => z.number().min(min).max(max);

/** An array of at most `max` items (`min` at least). */
export const boundedArray = <T extends z.ZodType>(item: T, max: number, min = 0) => z.array(item).min(min).max(max);

/**
 * An ISO-8601 duration string, checked to parse and to be positive and at most `max` (default ten
 * years: longer waits are typing mistakes, and timers must stay within what Temporal and Date hold).
 */
export const isoDuration = (max = 'P3660D') => {
  const maxMs = durationMs(max);
  return z
    .string()
    .max(100)
    .refine(
      (value) => {
        try {
          const ms = durationMs(value);
          return ms > 0 && ms <= maxMs;
        } catch {
          return false;
        }
      },
      { message: `must be a positive ISO-8601 duration such as PT5M or P30D, at most ${max}` },
    );
};
