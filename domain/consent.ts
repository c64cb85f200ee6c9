import type { Capture } from './capture';
import { consentStates } from './lead';

export const consentChannels = ['email', 'phone'] as const;
export type ConsentChannel = (typeof consentChannels)[number];
export type ConsentStatus = (typeof consentStates)[number];

export interface ConsentRecord {
  status: ConsentStatus;
  at: string;
  /** Where the consent came from: the capture source or the activity. */
  source: string;
  text?: string;
}
export type Consent = Partial<Record<ConsentChannel, ConsentRecord>>;

export interface ConsentChange {
  channel: ConsentChannel;
  from: ConsentStatus;
  record: ConsentRecord;
}

/** Applies a consent statement to a channel; only a change of status is a change. */
export function applyConsent(consent: Consent, channel: ConsentChannel, record: ConsentRecord): { consent: Consent; change?: ConsentChange } {
  const from = consent[channel]?.status ?? 'unknown';
  if (consent[channel] && from === record.status) return { consent };
  return { consent: { ...consent, [channel]: record }, change: { channel, from, record } };
}

/** The consent statements a capture carries, one per channel it names. */
export function consentFromCapture(capture: Capture, receivedAt: string): { channel: ConsentChannel; record: ConsentRecord }[] {
  const given = capture.consent;
  if (!given) return [];
  const at = given.capturedAt ?? capture.occurredAt ?? receivedAt;
  const source = `capture:${capture.source}${capture.sourceDetail ? `/${capture.sourceDetail}` : ''}`;
  return consentChannels.flatMap((channel) => {
    const status = given[channel];
    return status ? [{ channel, record: { status, at, source, ...(given.text ? { text: given.text } : {}) } }] : [];
  });
}
