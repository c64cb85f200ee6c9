import {
  ActivityFailure,
  ApplicationFailure,
  allHandlersFinished,
  condition,
  continueAsNew,
  patched,
  proxyActivities,
  proxyLocalActivities,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { SearchAttributeUpdatePair } from '@temporalio/common';
import type { createActivities } from '../activities';
import { rejectAction, type ActionName, type ActionRejection } from '../domain/actions';
import { cadenceLabel, cadenceOfStatus, enroll, exhausted, reachStep, stepBlocked, type CadenceStep } from '../domain/cadence';
import type { LeadPolicy } from '../domain/config';
import { applyConsent, consentFromCapture, type ConsentChannel, type ConsentRecord } from '../domain/consent';
import { durationMs } from '../domain/duration';
import { activityOfSource, newEngagement, recordActivity } from '../domain/engagement';
import type { CaptureSignal } from '../domain/capture';
import { closedStatuses, type LeadStatus } from '../domain/lead';
import type { Assignment, LeadRecord, OutboxNotification, TimelineEvent } from '../domain/lead-record';
import { acceptedIdleUntil, archiveAt, idleSince, nextReengagementAt } from '../domain/recycling';
import { enrichProfile, mergeCapture, type Firmographics } from '../domain/profile';
import { statusAfterScore } from '../domain/qualification';
import { emailDomainOf, explain, nextDecayAt, scoreLead } from '../domain/scoring';
import { slaClock } from '../domain/sla';
import {
  actionFailureTypes,
  actionUpdates,
  activitySignal,
  captureSignal,
  leadStateQuery,
  retryRoutingSignal,
  searchAttributes,
  type ActionRequest,
  type ActionResult,
  type ActivitySignal,
} from './definitions';

type Activities = ReturnType<typeof createActivities>;

const dataAccess = { startToCloseTimeout: '10 seconds', retry: { initialInterval: '200 milliseconds', maximumInterval: '10 seconds' } } as const;
/**
 * What someone waits for (a capture being routed, a rep's action) runs as local activities: short
 * Postgres transactions run by the worker inside the workflow task, without the round trips of
 * scheduling activity tasks through the server — that is most of speed-to-lead. What timers start
 * (the SLA ladder, routing retries, decay, re-enrichment) runs as ordinary activities, which the
 * server retries and the UI shows as pending through a long outage.
 */
const fast = proxyLocalActivities<Activities>(dataAccess);
const durable = proxyActivities<Activities>(dataAccess);

/** Signals, carried over continue-as-new when they arrive at a boundary. */
type SignalWork = { kind: 'capture'; signal: CaptureSignal } | { kind: 'activity'; signal: ActivitySignal } | { kind: 'retryRouting' };
/** A rep or ops action waiting its turn; its update handler waits for the outcome. */
interface ActionWork {
  kind: 'action';
  name: ActionName;
  request: ActionRequest<ActionName>;
  resolve(result: ActionResult): void;
  reject(error: unknown): void;
}
type Work = SignalWork | ActionWork;

function actionFailure({ kind, message }: ActionRejection): ApplicationFailure {
  const type = kind === 'not_owner' ? actionFailureTypes.notOwner : actionFailureTypes.invalidState;
  return ApplicationFailure.create({ type, message, nonRetryable: true });
}

/** Carried over continue-as-new so a months-long lead keeps everything it knows. */
export interface CarriedState {
  lead: LeadRecord;
  /** Capture and event ids already applied, newest last (bounded). */
  seenIds: string[];
  enrichmentFailedAt?: string;
  /** While in the unassigned queue: the next routing attempt and the backoff. */
  routeRetryAt?: number;
  routeRetryDelay?: number;
}

export interface LeadWorkflowInput {
  leadId: string;
  policy: LeadPolicy;
  /** false when the API found no stored lead for this person: there is nothing to load. */
  stored?: boolean;
  carried?: CarriedState;
  /** Signals that arrived while the previous run was closing or continuing as new. */
  pending?: SignalWork[];
}

export interface LeadOutcome {
  status: LeadStatus;
  reason?: string;
}

/**
 * Changes to this workflow that leads already running depend on, each guarded with `patched()`
 * (README, "Changing workflow code"). A run started before a change keeps the old behaviour to its
 * end; its next run (continue-as-new, reactivation) takes the new one.
 */
export const workflowPatches = {
  /** Nurture cadences, recycling with re-engagement and archiving, and the 30-day rule for accepted leads (issue #5). */
  nurtureCadences: 'nurture-cadences-and-recycling',
} as const;

const seenIdsKept = 500;
const enrichableFields: (keyof Firmographics)[] = ['companyName', 'employees', 'industry', 'country', 'techStack', 'fundingStage'];

/**
 * One lead, from its first capture until it closes: merge, enrich, consent, score, qualify, route,
 * hold the owner to the response SLA with the escalation ladder, and apply rep and ops actions.
 */
export async function leadWorkflow(input: LeadWorkflowInput): Promise<LeadOutcome> {
  const { leadId } = input;
  let { policy } = input;
  /** false: this run started before cadences and keeps its old rules (every open lead disqualified after 90 idle days) to its end. */
  const nurtures = patched(workflowPatches.nurtureCadences);
  const queue: Work[] = [...(input.pending ?? [])];
  setHandler(captureSignal, (signal) => void queue.push({ kind: 'capture', signal }));
  setHandler(activitySignal, (signal) => void queue.push({ kind: 'activity', signal }));
  setHandler(retryRoutingSignal, () => void queue.push({ kind: 'retryRouting' }));

  // Enrichment never holds speed-to-lead up longer than its budget; the provider retries within it.
  const enrichment = { startToCloseTimeout: durationMs(policy.enrichment.budget), retry: { maximumAttempts: 1 } };
  const enrichFast = proxyLocalActivities<Activities>(enrichment).enrichLead;
  const enrichDurable = proxyActivities<Activities>(enrichment).enrichLead;
  /** Set while applying signals and updates; cleared for work that timers start. */
  let someoneWaits = input.carried === undefined; // a run carried over from the last one starts on its own
  const io = () => (someoneWaits ? fast : durable);
  const enrichLead: Activities['enrichLead'] = (query) => (someoneWaits ? enrichFast : enrichDurable)(query);
  const loadLead: Activities['loadLead'] = (id) => io().loadLead(id);
  const saveLead: Activities['saveLead'] = (save) => io().saveLead(save);
  const routeLead: Activities['routeLead'] = (request) => io().routeLead(request);
  const saveAndRouteLead: Activities['saveAndRouteLead'] = (args) => io().saveAndRouteLead(args);
  const assignTo: Activities['assignTo'] = (args) => io().assignTo(args);

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
  let outbox: OutboxNotification[] = [];
  let lastPublished = '';
  /** While in the unassigned queue: when to try routing again, and the current backoff. */
  let routeRetryAt = input.carried?.routeRetryAt;
  let routeRetryDelay = input.carried?.routeRetryDelay ?? durationMs(policy.routing.unassignedRetryFirst);
  /** True while the main loop is applying a signal, an action or a timer. */
  let busy = false;

  if (nurtures && !policy.recycling) {
    // The run before this one started on a policy that predates cadences: take the worker's.
    policy = await durable.currentPolicy();
  }
  const start = input.carried?.lead ?? (input.stored === false ? null : await loadLead(leadId));
  if (start && closedStatuses.includes(start.status)) {
    reactivatedFrom = start.status;
    lead = { ...start, status: 'new', statusReason: undefined };
  } else {
    lead = start ?? undefined;
  }
  setHandler(leadStateQuery, () => ({ lead, captures }));

  for (const name of Object.keys(actionUpdates) as ActionName[]) {
    setHandler(
      actionUpdates[name] as typeof actionUpdates.accept,
      (request) => new Promise<ActionResult>((resolve, reject) => queue.push({ kind: 'action', name, request, resolve, reject })),
      {
        // Rejects at once what clearly does not fit. While a step is under way (e.g. routing has
        // chosen an owner the workflow has not recorded yet) the check waits for the action's turn.
        validator: (request) => {
          if (!lead) throw ApplicationFailure.create({ type: actionFailureTypes.invalidState, message: 'the lead is not captured yet' });
          if (busy) return;
          const rejection = rejectAction(name, lead.status, lead.routing?.ownerId, request.actor);
          if (rejection) throw actionFailure(rejection);
        },
      },
    );
  }

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

  /** Queues an alert in the outbox, written with the lead's next save. */
  const notify = (kind: OutboxNotification['kind'], recipient: string, message: string, data: Record<string, unknown> = {}) =>
    outbox.push({ key: `${workflowInfo().runId}:${++eventSeq}`, kind, recipient, message, data: { leadId, ...data } });

  /**
   * Keeps the cadence in step with the status: `mql` and `not_ready` leads are enrolled in their
   * cadence (on its current version), and leave it when the status moves on.
   */
  const followStatus = async (current: LeadRecord) => {
    if (!nurtures) return;
    if (current.status !== 'recycled') current.recycle = undefined;
    const wanted = cadenceOfStatus[current.status];
    const enrolled = current.cadence;
    if (enrolled && enrolled.name !== wanted) {
      record('cadence_exited', { cadence: enrolled.name, version: enrolled.version, step: enrolled.step, reason: `lead is ${current.status}` });
      current.cadence = undefined;
    }
    if (wanted && !current.cadence) {
      const cadence = await io().currentCadence(wanted);
      current.cadence = enroll(cadence, now());
      record('cadence_enrolled', { cadence: wanted, version: cadence.version, steps: cadence.steps.length, nextStepAt: current.cadence.nextStepAt });
    }
  };

  const save = async (current: LeadRecord) => {
    await followStatus(current);
    const pendingEvents = events;
    const pendingNotifications = outbox;
    events = [];
    outbox = [];
    await saveLead({ lead: current, events: pendingEvents, notifications: pendingNotifications });
    const routing = current.routing;
    const slaOpen = routing?.dueAt && !routing.respondedAt;
    const attributes = [
      { key: searchAttributes.LeadStatus, value: current.status },
      { key: searchAttributes.LeadSource, value: current.profile.source },
      ...(current.score ? [{ key: searchAttributes.LeadScore, value: current.score.score }] : []),
      ...(routing ? [{ key: searchAttributes.LeadPriority, value: routing.priority }] : []),
      { key: searchAttributes.LeadOwner, value: routing?.ownerId ?? null },
      { key: searchAttributes.SlaDueAt, value: slaOpen ? new Date(routing!.dueAt!) : null },
      ...(nurtures ? [{ key: searchAttributes.CadenceVersion, value: current.cadence ? cadenceLabel(current.cadence) : null }] : []),
    ] as SearchAttributeUpdatePair[];
    // Each upsert is an event and a visibility write: only when something ops can filter on changed.
    const published = JSON.stringify(attributes.map(({ key, value }) => [key.name, value]));
    if (published !== lastPublished) {
      upsertSearchAttributes(attributes);
      lastPublished = published;
    }
  };

  /** Starts an assignment: the owner (or the unassigned queue), a fresh SLA clock, and the alert. */
  const startAssignment = (
    current: LeadRecord,
    assignment: Assignment,
    ladder = true,
  ) => {
    const sla = assignment.ownerId && ladder ? slaClock(new Date(), assignment.sla, policy.escalation.reminderAt) : undefined;
    current.routing = {
      ...assignment,
      assignedAt: assignment.ownerId ? now() : null,
      reminderAt: sla?.reminderAt ?? null,
      dueAt: sla?.dueAt ?? null,
      reminded: false,
      breaches: current.routing?.breaches ?? 0,
      respondedAt: null,
      responseMs: null,
    };
    if (assignment.ownerId) {
      routeRetryAt = undefined;
      record('assigned', { ownerId: assignment.ownerId, teamId: assignment.teamId, reason: assignment.reason, priority: assignment.priority, sla: assignment.sla, slaReason: assignment.slaReason, dueAt: sla?.dueAt ?? null });
      notify('assignment', assignment.ownerId, `New ${assignment.priority} lead ${leadId} (${current.profile.company ?? current.profile.email}): respond within ${assignment.sla}`, { dueAt: sla?.dueAt ?? null });
    } else {
      routeRetryDelay = durationMs(policy.routing.unassignedRetryFirst);
      routeRetryAt = clock() + routeRetryDelay;
      record('unassigned', { teamId: assignment.teamId, reason: assignment.reason, priority: assignment.priority });
      notify('unassigned', 'ops', `Lead ${leadId} is in the unassigned queue${assignment.teamId ? ` of team ${assignment.teamId}` : ''}: ${assignment.reason}`);
    }
  };

  const routeRequest = (current: LeadRecord, exclude: string[] = []) => {
    const p = current.profile;
    return { leadId, email: p.email, country: p.country, employees: p.employees, source: p.source, sla: policy.sla, exclude, at: now() };
  };
  const route = async (current: LeadRecord, exclude: string[] = []) => startAssignment(current, await routeLead(routeRequest(current, exclude)));

  /** Another try for a lead in the unassigned queue: quiet (no event, no alert) unless it finds an owner. */
  const retryRouting = async (current: LeadRecord) => {
    const assignment = await routeLead(routeRequest(current));
    if (assignment.ownerId) {
      startAssignment(current, assignment);
      await save(current);
    } else {
      routeRetryDelay = Math.min(routeRetryDelay * 2, durationMs(policy.routing.unassignedRetryMax));
      routeRetryAt = clock() + routeRetryDelay;
    }
  };
  const waitingForOwner = (current: LeadRecord) => current.status === 'sql' && current.routing !== undefined && !current.routing.ownerId;

  /**
   * A sales-ready lead without an assignment gets one. Its row is written in the same transaction
   * first, so concurrent routing counts it against the owner's capacity.
   */
  const routeIfSalesReady = async (current: LeadRecord) => {
    if (current.status !== 'sql' || current.routing) return;
    await followStatus(current);
    const pending = { lead: current, events, notifications: outbox };
    events = [];
    outbox = [];
    startAssignment(current, await saveAndRouteLead({ save: pending, route: routeRequest(current) }));
    await save(current);
  };
  /** Saves what a step changed; a lead that just became sales-ready is routed in the same breath. */
  const saveOrRoute = (current: LeadRecord) => (current.status === 'sql' && !current.routing ? routeIfSalesReady(current) : save(current));

  /** The owner's first response (accept or touch) stops the SLA clock. */
  const respond = (current: LeadRecord, how: string, actor: string) => {
    const routing = current.routing;
    if (!routing || routing.respondedAt) return;
    routing.respondedAt = now();
    routing.responseMs = routing.assignedAt ? new Date().getTime() - new Date(routing.assignedAt).getTime() : null;
    record('responded', { by: actor, how, responseMs: routing.responseMs, withinSla: routing.dueAt ? routing.respondedAt <= routing.dueAt : null }, routing.respondedAt, actor);
  };

  /** Back to marketing with a reason: re-engaged at 30/60/90 days, routed afresh if it becomes sales-ready again. */
  const recycle = (current: LeadRecord, reason: string, note: string | null, actor = 'system', at = now()) => {
    record('recycled', { reason, note, previousOwner: current.routing?.ownerId ?? null, by: actor }, at, actor);
    setStatus(current, 'recycled', reason);
    current.routing = undefined;
    routeRetryAt = undefined;
    if (nurtures) current.recycle = { at: now(), reason, reengagements: 0 };
  };

  /** A rep's response or logged touch: activity that keeps the lead from aging. */
  const touchedBy = (current: LeadRecord) => {
    if (nurtures) current.lastTouchAt = now();
  };

  /**
   * A touch of the lead (a cadence step, a re-engagement), written to the outbox for delivery only
   * where the lead's consent on that channel allows; recorded either way.
   */
  const touchLead = (current: LeadRecord, kind: 'cadence_step' | 'reengagement', touch: Pick<CadenceStep, 'channel' | 'template'>, data: Record<string, unknown>) => {
    const address = touch.channel === 'email' ? current.profile.email : current.profile.phone;
    const skipped = stepBlocked(touch, current.consent) ?? (address ? undefined : `no ${touch.channel} address`);
    record(kind, { ...data, channel: touch.channel, template: touch.template, sent: !skipped, skipped: skipped ?? null });
    if (skipped) return;
    notify(kind, address!, `${touch.template} (${touch.channel}) to lead ${leadId}`, { ...data, channel: touch.channel, template: touch.template });
    current.lastTouchAt = now();
  };

  const applyAction = async (name: ActionName, request: ActionRequest<ActionName>): Promise<ActionResult> => {
    const current = lead!;
    const rejection = rejectAction(name, current.status, current.routing?.ownerId, request.actor);
    if (rejection) throw actionFailure(rejection);
    const actor = request.actor.role === 'rep' ? `rep:${request.actor.repId}` : 'ops';
    const body = request as Record<string, any>;
    switch (name) {
      case 'accept':
        respond(current, 'accept', actor);
        touchedBy(current);
        setStatus(current, 'accepted', `accepted by ${actor}`);
        break;
      case 'touches':
        record('touch', { channel: body.channel, note: body.note ?? null }, request.at, actor);
        respond(current, `${body.channel} touch`, actor);
        touchedBy(current);
        if (current.status === 'sql') setStatus(current, 'accepted', `first touch by ${actor}`);
        break;
      case 'disqualify':
        setStatus(current, 'disqualified', body.reason);
        record('disqualified', { reason: body.reason, note: body.note ?? null, by: actor }, request.at, actor);
        break;
      case 'convert':
        setStatus(current, 'converted', 'became an opportunity');
        record('converted', { opportunity: body.opportunity ?? null, by: actor }, request.at, actor);
        break;
      case 'recycle':
        recycle(current, body.reason, body.note ?? null, actor, request.at);
        break;
      case 'reassign': {
        const previous = current.routing!;
        const reason = `reassigned by ${actor} from ${previous.ownerId ?? 'the unassigned queue'}`;
        const assigned = await assignTo({ leadId, repId: body.ownerId, reason });
        if (!assigned) throw ApplicationFailure.create({ type: actionFailureTypes.unknownRep, message: `no rep with id ${body.ownerId}`, nonRetryable: true });
        record('reassigned', { from: previous.ownerId, to: body.ownerId, by: actor }, request.at, actor);
        startAssignment(current, { ...previous, ownerId: body.ownerId, teamId: assigned.teamId, reason, ownerManagerId: assigned.ownerManagerId });
        break;
      }
    }
    await save(current);
    return { status: current.status };
  };

  /** The SLA ladder (DESIGN.md): reminder at 50%, reassignment at breach, the manager or the unassigned queue at the next. */
  const onSlaDeadline = async (current: LeadRecord) => {
    const routing = current.routing!;
    if (!routing.reminded && routing.reminderAt && clock() < new Date(routing.dueAt!).getTime()) {
      routing.reminded = true;
      record('sla_reminder', { ownerId: routing.ownerId, dueAt: routing.dueAt });
      notify('sla_reminder', routing.ownerId!, `Reminder: lead ${leadId} is due for a response by ${routing.dueAt}`, { dueAt: routing.dueAt });
      return;
    }
    routing.breaches += 1;
    const breachedOwner = routing.ownerId!;
    record('sla_breached', { ownerId: breachedOwner, breach: routing.breaches, dueAt: routing.dueAt, priority: routing.priority });
    if (routing.breaches <= policy.escalation.reassignments) {
      notify('sla_breach', routing.ownerManagerId ?? 'ops', `SLA breached: ${breachedOwner} did not respond to ${routing.priority} lead ${leadId} by ${routing.dueAt}; reassigning`, { ownerId: breachedOwner });
      await route(current, [breachedOwner]);
      return;
    }
    // The ladder's last step: the team manager, or the unassigned queue; ops is alerted either way.
    const manager = routing.teamManagerId && routing.teamManagerId !== breachedOwner ? routing.teamManagerId : null;
    const assigned = manager ? await assignTo({ leadId, repId: manager, reason: `escalated to team manager ${manager} after ${routing.breaches} SLA breaches` }) : null;
    notify('escalation', 'ops', `Lead ${leadId} breached its SLA ${routing.breaches} times: escalated to ${assigned ? `team manager ${manager}` : 'the unassigned queue'}`);
    record('escalated', { to: assigned ? manager : 'unassigned queue', breaches: routing.breaches });
    startAssignment(
      current,
      { ...routing, ownerId: assigned ? manager : null, reason: `escalated after ${routing.breaches} SLA breaches`, ownerManagerId: assigned?.ownerManagerId ?? null },
      false,
    );
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
    await saveOrRoute(current);
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
    await saveOrRoute(current);
  };

  const ms = (iso: string) => new Date(iso).getTime();
  /** When an open lead closes for want of activity: archived once recycled, disqualified otherwise. */
  const closesAt = (current: LeadRecord) =>
    (nurtures ? archiveAt(current, policy) : undefined) ?? idleSince(current) + durationMs(policy.inactiveDisqualifyAfter);

  /** What nurture has due now: the next cadence step, a re-engagement of a recycled lead, or the 30-day rule for accepted leads. */
  const nurtureDue = async (current: LeadRecord) => {
    const enrolled = current.cadence;
    if (enrolled?.nextStepAt && clock() >= ms(enrolled.nextStepAt)) {
      const migration = await io().cadenceMigration({ name: enrolled.name, version: enrolled.version });
      // Counted from when the step was due, so the cadence keeps its offsets however late a worker is.
      const { step, enrollment } = reachStep(enrolled, enrolled.nextStepAt, migration ?? undefined);
      if (migration) record('cadence_migrated', { cadence: enrolled.name, from: enrolled.version, to: migration.version, step: enrollment.step });
      current.cadence = enrollment;
      const position = { cadence: enrollment.name, version: enrollment.version, step: enrollment.step, of: enrollment.steps.length, dueAt: enrolled.nextStepAt };
      if (step) touchLead(current, 'cadence_step', step, position);
      if (exhausted(enrollment)) {
        recycle(current, 'no_response', `${cadenceLabel(enrollment)} ended after ${enrollment.steps.length} steps without the lead becoming sales-ready`);
      }
    }
    const reengagement = nextReengagementAt(current, policy);
    if (reengagement && clock() >= reengagement.at) {
      current.recycle!.reengagements = reengagement.number;
      rescore(current, `re-engagement ${reengagement.number} after recycling`);
      if (current.status === 'recycled') {
        touchLead(current, 'reengagement', reengagement.touch, { number: reengagement.number, of: policy.recycling.reengagement.length, dueAt: new Date(reengagement.at).toISOString() });
      }
    }
    const acceptedIdle = acceptedIdleUntil(current, policy);
    if (acceptedIdle !== undefined && clock() >= acceptedIdle) {
      const ownerId = current.routing?.ownerId ?? null;
      const manager = current.routing?.ownerManagerId ?? current.routing?.teamManagerId ?? 'ops';
      record('escalated', { to: manager, ownerId, reason: `accepted, no activity for ${policy.acceptedIdleAfter}` });
      notify('escalation', manager, `Lead ${leadId} accepted by ${ownerId} has had no activity for ${policy.acceptedIdleAfter}: recycled to marketing`, { ownerId });
      recycle(current, 'no_response', `no activity logged for ${policy.acceptedIdleAfter} after it was accepted`);
    }
  };

  /** The next moment something is due without any signal: enrichment retry, a decay step, nurture, or closing an idle lead. */
  const slaDeadline = (current: LeadRecord): number | undefined => {
    const routing = current.routing;
    if (current.status !== 'sql' || !routing?.ownerId || routing.respondedAt || !routing.dueAt) return undefined;
    return new Date(routing.reminded || !routing.reminderAt ? routing.dueAt : routing.reminderAt).getTime();
  };
  const nextDeadline = (current: LeadRecord): number => {
    const candidates = [closesAt(current)];
    if (nurtures) {
      if (current.cadence?.nextStepAt) candidates.push(ms(current.cadence.nextStepAt));
      const reengagement = nextReengagementAt(current, policy);
      if (reengagement) candidates.push(reengagement.at);
      const acceptedIdle = acceptedIdleUntil(current, policy);
      if (acceptedIdle !== undefined) candidates.push(acceptedIdle);
    }
    const sla = slaDeadline(current);
    if (sla !== undefined) candidates.push(sla);
    if (routeRetryAt !== undefined && waitingForOwner(current)) candidates.push(routeRetryAt);
    const decay = nextDecayAt(policy.scoring, current.engagement.lastEngagementAt, new Date());
    if (decay) candidates.push(decay.getTime());
    if (enrichmentFailedAt) candidates.push(new Date(enrichmentFailedAt).getTime() + durationMs(policy.enrichment.retryAfter));
    return Math.min(...candidates);
  };

  if (nurtures && lead && !closedStatuses.includes(lead.status)) {
    // A lead carried over from a run that predates cadences: give it its re-engagement schedule or its cadence now.
    if (lead.status === 'recycled' && !lead.recycle) lead.recycle = { at: now(), reason: lead.statusReason ?? 'other', reengagements: 0 };
    if (cadenceOfStatus[lead.status] && !lead.cadence) await save(lead);
  }

  for (;;) {
    if (lead && queue.length === 0 && (workflowInfo().continueAsNewSuggested || workflowInfo().historyLength >= policy.history.maxEventsPerRun)) {
      await continueAsNew<typeof leadWorkflow>({ leadId, policy, carried: { lead, seenIds, enrichmentFailedAt, routeRetryAt, routeRetryDelay } });
    }
    const wait = lead ? Math.max(0, nextDeadline(lead) - clock()) : undefined;
    const gotWork = wait === undefined ? (await condition(() => queue.length > 0), true) : await condition(() => queue.length > 0, wait);
    busy = true;
    someoneWaits = gotWork;
    if (gotWork) {
      while (queue.length > 0 && !closedStatuses.includes(lead?.status ?? 'new')) {
        const work = queue.shift()!;
        if (work.kind === 'capture') await onCapture(work.signal);
        else if (work.kind === 'activity') await onActivity(work.signal);
        else if (work.kind === 'retryRouting') {
          if (lead && waitingForOwner(lead)) await retryRouting(lead);
        } else {
          await applyAction(work.name, work.request).then(work.resolve, work.reject);
        }
        if (lead) await routeIfSalesReady(lead);
      }
      busy = false;
      if (lead && closedStatuses.includes(lead.status)) break;
      continue;
    }

    const current = lead!;
    if (enrichmentFailedAt && clock() >= new Date(enrichmentFailedAt).getTime() + durationMs(policy.enrichment.retryAfter)) {
      await enrich(current);
    }
    const sla = slaDeadline(current);
    if (sla !== undefined && clock() >= sla) await onSlaDeadline(current);
    if (routeRetryAt !== undefined && clock() >= routeRetryAt && waitingForOwner(current)) await retryRouting(current);
    if (nurtures) await nurtureDue(current);
    rescore(current, 'time since last engagement');
    await routeIfSalesReady(current);
    if (clock() >= closesAt(current)) {
      // DESIGN.md: 90 days with no activity closes any open lead with a reason; a recycled one is archived.
      setStatus(current, nurtures && current.status === 'recycled' ? 'archived' : 'disqualified', 'unresponsive');
      await save(current);
      break;
    }
    if (events.length > 0 || outbox.length > 0) await save(current);
    busy = false;
  }

  // Actions queued behind the one that closed the lead no longer fit it.
  for (const work of queue) {
    if (work.kind === 'action') work.reject(actionFailure({ kind: 'invalid_state', message: `the lead is ${lead!.status}` }));
  }
  await condition(allHandlersFinished);
  const signals = queue.filter((work): work is SignalWork => work.kind === 'capture');
  if (signals.length > 0) {
    // Someone was captured while the lead was closing: reactivate it rather than drop the capture.
    await continueAsNew<typeof leadWorkflow>({ leadId, policy, carried: { lead: lead!, seenIds, enrichmentFailedAt, routeRetryAt, routeRetryDelay }, pending: signals });
  }
  return { status: lead!.status, reason: lead!.statusReason };
}
