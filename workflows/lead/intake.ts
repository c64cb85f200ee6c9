import { ActivityFailure } from '@temporalio/workflow';
import type { CaptureSignal } from '../../domain/capture';
import { applyConsent, consentFromCapture, requestConfirmation, type ConsentChannel, type ConsentRecord } from '../../domain/consent';
import { engagementOfSource, recordEngagement } from '../../domain/engagement';
import { newLeadRecord, type LeadRecord, type TimelineEvent } from '../../domain/lead-record';
import { enrichProfile, mergeCapture, type Firmographics } from '../../domain/profile';
import { emailDomainOf } from '../../domain/scoring';
import type { ConsentConfirmationSignal, EngagementSignal } from '../../contracts/lead';
import { saveOrRoute } from './assignment';
import { rescore } from './scoring';
import { now, type LeadRun } from './run';

/**
 * What comes in (docs/design.md, "Capture, dedupe and merge", "Enrichment", "Consent"): captures merged
 * into the lead, engagement events, consent, and enrichment of the first capture.
 */

const enrichableFields: (keyof Firmographics)[] = ['companyName', 'employees', 'industry', 'country', 'techStack', 'fundingStage'];

function noteConsent(run: LeadRun, current: LeadRecord, channel: ConsentChannel, consentRecord: ConsentRecord) {
  const { consent, change, refused } = applyConsent(current.consent, channel, consentRecord);
  current.consent = consent;
  if (change) {
    run.journal.record(
      'consent_changed',
      {
        channel,
        from: change.from,
        to: consentRecord.status,
        source: consentRecord.source,
        text: consentRecord.text ?? null,
        // What the client said; `at` (the service's time) is what orders consent.
        statedAt: consentRecord.statedAt ?? null,
      },
      consentRecord.at,
    );
    return;
  }
  if (!refused) return;
  // An opt-out stays (docs/operations/security.md, "Consent"): an opt-in on email asks the person
  // to confirm it by a signed link, at most once a day; anything else is only written down.
  const asked =
    channel === 'email' && consentRecord.status === 'opted_in' && !consentRecord.confirmed && current.profile.email
      ? requestConfirmation(current.consent, channel, consentRecord.at)
      : undefined;
  const data = {
    channel,
    status: consentRecord.status,
    source: consentRecord.source,
    statedAt: consentRecord.statedAt ?? null,
    reason: refused,
  };
  if (!asked) {
    run.journal.record('consent_refused', data, consentRecord.at);
    return;
  }
  current.consent = asked.consent;
  run.journal.record('consent_confirmation_requested', { ...data, sent: asked.due }, consentRecord.at);
  if (asked.due)
    run.journal.notify('consent_confirmation', current.profile.email, `email consent confirmation to lead ${run.leadId}`, {
      channel: 'email',
    });
}

/** Fills what the lead lacks from the enrichment provider; on failure the lead is scored on what is known and enriched again after `retryAfter`. */
export async function enrich(run: LeadRun, current: LeadRecord) {
  const missing = enrichableFields.filter((field) => {
    const key = field === 'companyName' ? 'company' : field;
    const value = current.profile[key];
    return value === undefined || (Array.isArray(value) && value.length === 0);
  });
  try {
    const { provider, firmographics } = await run.enrichLead({
      email: current.profile.email,
      domain: emailDomainOf(current.profile.email),
      fields: missing,
    });
    run.state.enrichmentFailedAt = undefined;
    if (!firmographics) {
      current.enrichment = 'not_found';
      run.journal.record('enrichment_not_found', { provider });
      return;
    }
    const before = current.profile;
    current.profile = enrichProfile(before, firmographics);
    current.enrichment = 'enriched';
    const filled = Object.keys(current.profile).filter((k) => !(k in before));
    run.journal.record('enriched', { provider, filled });
  } catch (error) {
    const message = error instanceof ActivityFailure ? (error.cause?.message ?? error.message) : String(error);
    current.enrichment = 'failed';
    run.state.enrichmentFailedAt = now();
    run.journal.record('enrichment_failed', { error: message, retryAfter: run.policy.enrichment.retryAfter });
  }
}

/** The timeline event of a capture; keyed by its id, so a redelivery writes it once. */
export function captureEvent({ captureId, receivedAt, capture }: CaptureSignal, merged: boolean): TimelineEvent {
  return {
    key: `capture:${captureId}`,
    at: capture.occurredAt ?? receivedAt,
    type: 'captured',
    actor: `capture:${capture.source}`,
    data: { source: capture.source, sourceDetail: capture.sourceDetail ?? null, merged },
  };
}

/** The timeline event of an engagement event; keyed by its id, so a redelivery writes it once. */
function engagementEvent(signal: EngagementSignal): TimelineEvent {
  return {
    key: `activity:${signal.activityId}`,
    at: signal.occurredAt ?? signal.receivedAt,
    type: 'activity',
    actor: signal.actor,
    data: { type: signal.type, eventId: signal.eventId ?? null },
  };
}

/** A capture of this person: the first one makes the lead, later ones merge into it (or reopen a closed one). */
export async function onCapture(run: LeadRun, signal: CaptureSignal) {
  const { captureId, receivedAt, capture } = signal;
  if (!run.firstSight(captureId)) return;
  run.state.captures += 1;
  const { lead, leadId } = run;
  const merged = lead !== undefined && run.state.reactivatedFrom === undefined;
  const current: LeadRecord = lead ? { ...lead, profile: mergeCapture(lead.profile, capture) } : newLeadRecord(leadId, capture, now());
  run.lead = current;
  if (run.state.reactivatedFrom) {
    run.journal.record('reactivated', { previousStatus: run.state.reactivatedFrom });
    run.state.reactivatedFrom = undefined;
  }
  run.journal.add(captureEvent(signal, merged));
  for (const { channel, record: consentRecord } of consentFromCapture(capture, receivedAt))
    noteConsent(run, current, channel, consentRecord);
  current.engagement = recordEngagement(current.engagement, engagementOfSource[capture.source], now());
  if (current.enrichment === 'pending') await enrich(run, current);
  rescore(run, current, `captured via ${capture.source}`);
  await saveOrRoute(run, current);
}

/**
 * Records an engagement event on the lead (timeline, engagement, an unsubscribe's consent) without
 * re-scoring it: what every event gets, also one that reaches a lead that is closing. Returns false
 * for an id seen before.
 */
export function noteEngagement(run: LeadRun, current: LeadRecord, signal: EngagementSignal): boolean {
  if (!run.firstSight(signal.activityId)) return false;
  run.journal.add(engagementEvent(signal));
  current.engagement = recordEngagement(current.engagement, signal.type, now());
  if (signal.type === 'unsubscribed') {
    // Ordered by the service's time: the client's occurredAt is only what it says.
    const stated = signal.occurredAt ? { statedAt: signal.occurredAt } : {};
    noteConsent(run, current, 'email', { status: 'opted_out', at: signal.receivedAt, source: 'activity:unsubscribed', ...stated });
  }
  return true;
}

/** An engagement event (`POST /leads/{id}/activities`): recorded once per id, re-scores the lead. */
export async function onEngagement(run: LeadRun, signal: EngagementSignal) {
  const current = run.lead;
  if (!current || !noteEngagement(run, current, signal)) return;
  rescore(run, current, `activity ${signal.type}`);
  await saveOrRoute(run, current);
}

/**
 * The person confirmed an opt-in by the signed link of a confirmation email (`POST
 * /consent/confirm/{token}`): the only statement that lifts an opt-out, ordered by when the API
 * received it. Recorded once per confirmation id.
 */
export async function onConsentConfirmation(run: LeadRun, signal: ConsentConfirmationSignal) {
  const current = run.lead;
  if (!current || !run.firstSight(signal.confirmationId)) return;
  noteConsent(run, current, signal.channel, { status: 'opted_in', at: signal.receivedAt, source: 'confirmation_link', confirmed: true });
  if (run.journal.hasPending) await saveOrRoute(run, current);
}
