import type { Capture } from './capture';
import { consentStates } from './lead';

export const consentChannels = ['email', 'phone'] as const;
export type ConsentChannel = (typeof consentChannels)[number];
export type ConsentStatus = (typeof consentStates)[number];

export interface ConsentRecord {
  status: ConsentStatus;
  /**
   * When the service took the statement (the capture's or the event's arrival, the workflow's
   * time): what orders consent. Records stored before this rule may carry the client's time.
   */
  at: string;
  /** Where the consent came from: the capture source or the activity. */
  source: string;
  text?: string;
  /** When the client says the consent was given, when it says so: kept for the record, never used to order. */
  statedAt?: string;
  /** Set when the person confirmed the opt-in themselves (the double opt-in link): only such an opt-in lifts an opt-out. */
  confirmed?: true;
  /** On an opt-out: when the person was last sent a confirmation email (`consent_confirmation_requested`). */
  confirmationRequestedAt?: string;
}
export type Consent = Partial<Record<ConsentChannel, ConsentRecord>>;

export interface ConsentChange {
  channel: ConsentChannel;
  from: ConsentStatus;
  record: ConsentRecord;
}

/**
 * Why a statement was not applied. `needs_confirmation`: an opt-in that is not the person's own
 * confirmation met an opt-out; `stale`: a confirmed opt-in no newer than the opt-out it would lift.
 */
export type ConsentRefusal = 'needs_confirmation' | 'stale';

/**
 * Applies a consent statement to a channel; only a change of status is a change
 * (docs/operations/security.md, "Consent"). An opt-out always applies. Once a channel is opted
 * out, nothing but an opt-in the person confirmed themselves, taken after the opt-out, lifts it:
 * an opt-in (or `unknown`) on a capture is refused, whatever date the client gives it, since any
 * public form can send one.
 */
export function applyConsent(
  consent: Consent,
  channel: ConsentChannel,
  record: ConsentRecord,
): { consent: Consent; change?: ConsentChange; refused?: ConsentRefusal } {
  const current = consent[channel];
  const from = current?.status ?? 'unknown';
  if (current && from === record.status) return { consent };
  if (from === 'opted_out') {
    if (record.status !== 'opted_in' || !record.confirmed) return { consent, refused: 'needs_confirmation' };
    if (!isAfter(record.at, current!.at)) return { consent, refused: 'stale' };
  }
  return { consent: { ...consent, [channel]: record }, change: { channel, from, record } };
}

/** How often captures may send one person a confirmation email: a public form must not become a way to mail someone. */
export const confirmationRequestEveryMs = 24 * 3600 * 1000;

/**
 * Whether a refused opt-in on email sends the person a confirmation email now: at most one per
 * `confirmationRequestEveryMs`, noted on the opt-out itself. Answers the consent with the note.
 */
export function requestConfirmation(consent: Consent, channel: ConsentChannel, at: string): { consent: Consent; due: boolean } {
  const current = consent[channel];
  if (current?.status !== 'opted_out') return { consent, due: false };
  const last = current.confirmationRequestedAt ? Date.parse(current.confirmationRequestedAt) : NaN;
  if (Number.isFinite(last) && Date.parse(at) - last < confirmationRequestEveryMs) return { consent, due: false };
  return { consent: { ...consent, [channel]: { ...current, confirmationRequestedAt: at } }, due: true };
}

/** A time that does not parse orders before everything, so it never lifts an opt-out. */
const isAfter = (a: string, b: string) => {
  const [ta, tb] = [Date.parse(a), Date.parse(b)];
  return Number.isFinite(ta) && (!Number.isFinite(tb) || ta > tb);
};

/**
 * The consent statements a capture carries, one per channel it names, timed by the service's
 * `receivedAt`; the client's `consent.capturedAt` (or `occurredAt`) is kept as `statedAt`.
 */
export function consentFromCapture(capture: Capture, receivedAt: string): { channel: ConsentChannel; record: ConsentRecord }[] {
  const given = capture.consent;
  if (!given) return [];
  const stated = given.capturedAt ?? capture.occurredAt;
  const source = `capture:${capture.source}${capture.sourceDetail ? `/${capture.sourceDetail}` : ''}`;
  return consentChannels.flatMap((channel) => {
    const status = given[channel];
    return status
      ? [
          {
            channel,
            record: {
              status,
              at: receivedAt,
              source,
              ...(given.text ? { text: given.text } : {}),
              ...(stated ? { statedAt: stated } : {}),
            },
          },
        ]
      : [];
  });
}
