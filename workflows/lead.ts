import {
  ActivityFailure,
  allHandlersFinished,
  condition,
  continueAsNew,
  proxyActivities,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { createActivities } from '../activities';
import type { LeadPolicy } from '../domain/config';
import { applyConsent, consentFromCapture, type ConsentChannel, type ConsentRecord } from '../domain/consent';
import { durationMs } from '../domain/duration';
import { activityOfSource, newEngagement, recordActivity } from '../domain/engagement';
import { closedStatuses, type CaptureSignal, type LeadStatus } from '../domain/lead';
import type { LeadRecord, TimelineEvent } from '../domain/lead-record';
import { enrichProfile, mergeCapture, type Firmographics } from '../domain/profile';
import { statusAfterScore } from '../domain/qualification';
import { emailDomainOf, explain, nextDecayAt, scoreLead } from '../domain/scoring';
import {
  activitySignal,
  captureSignal,
  leadStateQuery,
  searchAttributes,
  type ActivitySignal,
} from './definitions';

type Activities = ReturnType<typeof createActivities>;

const { loadLead, saveLead } = proxyActivities<Activities>({
  startToCloseTimeout: '10 seconds',
  retry: { initialInterval: '200 milliseconds', maximumInterval: '10 seconds' },
});

type Work = { kind: 'capture'; signal: CaptureSignal } | { kind: 'activity'; signal: ActivitySignal };

/** Carried over continue-as-new so a months-long lead keeps everything it knows. */
export interface CarriedState {
  lead: LeadRecord;
  /** Capture and event ids already applied, newest last (bounded). */
  seenIds: string[];
  enrichmentFailedAt?: string;
}

export interface LeadWorkflowInput {
  leadId: string;
  policy: LeadPolicy;
  carried?: CarriedState;
  /** Signals that arrived while the previous run was closing or continuing as new. */
  pending?: Work[];
}

export interface LeadOutcome {
  status: LeadStatus;
  reason?: string;
}

const seenIdsKept = 500;
const enrichableFields: (keyof Firmographics)[] = ['companyName', 'employees', 'industry', 'country', 'techStack', 'fundingStage'];

/** One lead, from its first capture until it closes: merge, enrich, consent, score, qualify. */
export async function leadWorkflow(input: LeadWorkflowInput): Promise<LeadOutcome> {
  const { leadId, policy } = input;
  const queue: Work[] = [...(input.pending ?? [])];
  setHandler(captureSignal, (signal) => void queue.push({ kind: 'capture', signal }));
  setHandler(activitySignal, (signal) => void queue.push({ kind: 'activity', signal }));

  const { enrichLead } = proxyActivities<Activities>({
    // Enrichment never holds speed-to-lead up longer than its budget; the provider retries within it.
    startToCloseTimeout: durationMs(policy.enrichment.budget),
    retry: { maximumAttempts: 1 },
  });

  // The workflow clock: the SDK makes Date deterministic inside workflows.
  const clock = () => new Date().getTime();
  const now = () => new Date().toISOString();
  let seenIds = input.carried?.seenIds ?? [];
  let enrichmentFailedAt = input.carried?.enrichmentFailedAt;
  let captures = 0;
  let eventSeq = 0;
  let lead: LeadRecord | undefined;
  let reactivatedFrom: LeadStatus | undefined;
  let events: TimelineEvent[] = [];

  const start = input.carried?.lead ?? (await loadLead(leadId));
  if (start && closedStatuses.includes(start.status)) {
    reactivatedFrom = start.status;
    lead = { ...start, status: 'new', statusReason: undefined };
  } else {
    lead = start ?? undefined;
  }
  setHandler(leadStateQuery, () => ({ lead, captures }));

  /** A timeline event caused by this run; its key is unique per run and stable on replay. */
  const record = (type: string, data: Record<string, unknown>, at = now(), actor = 'system') =>
    events.push({ key: `${workflowInfo().runId}:${++eventSeq}`, at, type, actor, data });

  const noteConsent = (current: LeadRecord, channel: ConsentChannel, consentRecord: ConsentRecord) => {
    const { consent, change } = applyConsent(current.consent, channel, consentRecord);
    current.consent = consent;
    if (change) {
      record('consent_changed', { channel, from: change.from, to: consentRecord.status, source: consentRecord.source, text: consentRecord.text ?? null }, consentRecord.at);
    }
  };

  const enrich = async (current: LeadRecord) => {
    const missing = enrichableFields.filter((field) => {
      const key = field === 'companyName' ? 'company' : field;
      const value = current.profile[key];
      return value === undefined || (Array.isArray(value) && value.length === 0);
    });
    try {
      const { provider, firmographics } = await enrichLead({ email: current.profile.email, domain: emailDomainOf(current.profile.email), fields: missing });
      enrichmentFailedAt = undefined;
      if (!firmographics) {
        current.enrichment = 'not_found';
        record('enrichment_not_found', { provider });
        return;
      }
      const before = current.profile;
      current.profile = enrichProfile(before, firmographics);
      current.enrichment = 'enriched';
      const filled = Object.keys(current.profile).filter((k) => !(k in before));
      record('enriched', { provider, filled });
    } catch (error) {
      // Scored on what is known; enriched again after `retryAfter`.
      const message = error instanceof ActivityFailure ? (error.cause?.message ?? error.message) : String(error);
      current.enrichment = 'failed';
      enrichmentFailedAt = now();
      record('enrichment_failed', { error: message, retryAfter: policy.enrichment.retryAfter });
    }
  };

  const rescore = (current: LeadRecord, reason: string) => {
    const previous = current.score;
    const score = scoreLead({ ...current.profile }, current.engagement, new Date(), policy);
    current.score = score;
    if (!previous || previous.score !== score.score || previous.grade !== score.grade || previous.modelVersion !== score.modelVersion) {
      record('score_changed', {
        score: score.score,
        previousScore: previous?.score ?? null,
        grade: score.grade,
        modelVersion: score.modelVersion,
        reason,
        explanation: explain(score),
        breakdown: score.breakdown,
      });
    }
    const status = statusAfterScore(current.status, score.score, policy.qualification);
    if (status !== current.status) setStatus(current, status, `score ${score.score} (${reason})`);
  };

  const setStatus = (current: LeadRecord, status: LeadStatus, reason?: string) => {
    record('status_changed', { status, previous: current.status, reason: reason ?? null });
    current.status = status;
    current.statusReason = reason;
  };

  const save = async (current: LeadRecord) => {
    const pendingEvents = events;
    events = [];
    await saveLead({ lead: current, events: pendingEvents });
    upsertSearchAttributes([
      { key: searchAttributes.LeadStatus, value: current.status },
      { key: searchAttributes.LeadSource, value: current.profile.source },
      ...(current.score ? [{ key: searchAttributes.LeadScore, value: current.score.score }] : []),
    ]);
  };

  const remember = (id: string) => {
    seenIds = [...seenIds, id].slice(-seenIdsKept);
  };

  const onCapture = async ({ captureId, receivedAt, capture }: CaptureSignal) => {
    if (seenIds.includes(captureId)) return;
    remember(captureId);
    captures += 1;
    const merged = lead !== undefined && reactivatedFrom === undefined;
    const current: LeadRecord = lead
      ? { ...lead, profile: mergeCapture(lead.profile, capture) }
      : { leadId, status: 'new', profile: mergeCapture(undefined, capture), consent: {}, engagement: newEngagement(now()), enrichment: 'pending' };
    lead = current;
    if (reactivatedFrom) {
      record('reactivated', { previousStatus: reactivatedFrom });
      reactivatedFrom = undefined;
    }
    events.push({
      key: `capture:${captureId}`,
      at: capture.occurredAt ?? receivedAt,
      type: 'captured',
      actor: `capture:${capture.source}`,
      data: { source: capture.source, sourceDetail: capture.sourceDetail ?? null, merged },
    });
    for (const { channel, record: consentRecord } of consentFromCapture(capture, receivedAt)) noteConsent(current, channel, consentRecord);
    current.engagement = recordActivity(current.engagement, activityOfSource[capture.source], now());
    if (current.enrichment === 'pending') await enrich(current);
    rescore(current, `captured via ${capture.source}`);
    await save(current);
  };

  const onActivity = async (signal: ActivitySignal) => {
    const current = lead;
    if (!current || seenIds.includes(signal.activityId)) return;
    remember(signal.activityId);
    events.push({
      key: `activity:${signal.activityId}`,
      at: signal.occurredAt ?? signal.receivedAt,
      type: 'activity',
      actor: signal.actor,
      data: { type: signal.type, eventId: signal.eventId ?? null },
    });
    current.engagement = recordActivity(current.engagement, signal.type, now());
    if (signal.type === 'unsubscribed') {
      noteConsent(current, 'email', { status: 'opted_out', at: signal.occurredAt ?? signal.receivedAt, source: 'activity:unsubscribed' });
    }
    rescore(current, `activity ${signal.type}`);
    await save(current);
  };

  /** The next moment something is due without any signal: enrichment retry, a decay step, or closing an idle lead. */
  const nextDeadline = (current: LeadRecord): number => {
    const candidates = [new Date(current.engagement.lastEngagementAt).getTime() + durationMs(policy.inactiveDisqualifyAfter)];
    const decay = nextDecayAt(policy.scoring, current.engagement.lastEngagementAt, new Date());
    if (decay) candidates.push(decay.getTime());
    if (enrichmentFailedAt) candidates.push(new Date(enrichmentFailedAt).getTime() + durationMs(policy.enrichment.retryAfter));
    return Math.min(...candidates);
  };

  for (;;) {
    if (lead && queue.length === 0 && workflowInfo().continueAsNewSuggested) {
      await continueAsNew<typeof leadWorkflow>({ leadId, policy, carried: { lead, seenIds, enrichmentFailedAt } });
    }
    const wait = lead ? Math.max(0, nextDeadline(lead) - clock()) : undefined;
    const gotWork = wait === undefined ? (await condition(() => queue.length > 0), true) : await condition(() => queue.length > 0, wait);
    if (gotWork) {
      while (queue.length > 0) {
        const work = queue.shift()!;
        if (work.kind === 'capture') await onCapture(work.signal);
        else await onActivity(work.signal);
      }
      continue;
    }

    const current = lead!;
    if (enrichmentFailedAt && clock() >= new Date(enrichmentFailedAt).getTime() + durationMs(policy.enrichment.retryAfter)) {
      await enrich(current);
    }
    rescore(current, 'time since last engagement');
    const idleSince = new Date(current.engagement.lastEngagementAt).getTime();
    if (clock() >= idleSince + durationMs(policy.inactiveDisqualifyAfter)) {
      // DESIGN.md: 90 days with no activity closes any open lead with a reason.
      setStatus(current, 'disqualified', 'unresponsive');
      await save(current);
      break;
    }
    await save(current);
  }

  await condition(allHandlersFinished);
  if (queue.length > 0) {
    // Someone was captured while the lead was closing: reactivate it rather than drop the capture.
    await continueAsNew<typeof leadWorkflow>({ leadId, policy, carried: { lead: lead!, seenIds, enrichmentFailedAt }, pending: queue });
  }
  return { status: lead!.status, reason: lead!.statusReason };
}
