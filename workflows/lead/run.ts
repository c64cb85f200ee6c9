import { log, patched, proxyActivities, proxyLocalActivities, workflowInfo } from '@temporalio/workflow';
import type { createActivities } from '../../activities';
import type { ActionName } from '../../domain/actions';
import type { CaptureSignal } from '../../domain/capture';
import type { LeadPolicy } from '../../domain/config';
import { durationMs } from '../../domain/duration';
import { closedStatuses, type LeadStatus } from '../../domain/lead';
import type { LeadRecord } from '../../domain/lead-record';
import type { ScoringModelRules } from '../../domain/scoring-model';
import type { ActionRequest, ActionResult, CaptureAnswer, EngagementSignal, RescoreSignal } from '../definitions';
import { outlasted } from './failures';
import { Journal, type JournalCheckpoint } from './journal';
import { workflowPatches } from './patches';

export type Activities = ReturnType<typeof createActivities>;

const dataAccess = { startToCloseTimeout: '10 seconds', retry: { initialInterval: '200 milliseconds', maximumInterval: '10 seconds' } } as const;
/**
 * Attempts that fit `retryFor` on that backoff. Local activities are bounded by attempts: the
 * worker does not stop retrying one at its schedule-to-close timeout (seen with SDK 1.24).
 */
export function attemptsWithin(retryFor: number): number {
  let attempts = 1;
  for (let waited = 0, pause = 200; waited < retryFor; attempts += 1, pause = Math.min(pause * 2, 10_000)) waited += pause;
  return attempts;
}
/** For runs whose policy predates `dataAccess` (config/defaults.json has the same values). */
const dataAccessDefaults = { retryFor: 'PT2M', slowRetryFirst: 'PT1M', slowRetryMax: 'PT15M' };
export const durable = proxyActivities<Activities>(dataAccess);

/** The workflow clock: the SDK makes Date deterministic inside workflows. */
export const clock = () => new Date().getTime();
export const now = () => new Date().toISOString();

/** Signals, carried over continue-as-new when they arrive at a boundary. */
export type SignalWork =
  | { kind: 'capture'; signal: CaptureSignal }
  | { kind: 'engagement'; signal: EngagementSignal }
  | { kind: 'retryRouting' }
  | { kind: 'rescore'; signal: RescoreSignal };
/** A rep or ops action waiting its turn; its update handler waits for the outcome. */
export interface ActionWork {
  kind: 'action';
  name: ActionName;
  request: ActionRequest<ActionName>;
  resolve(result: ActionResult): void;
  reject(error: unknown): void;
}
export type Work = SignalWork | ActionWork;

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

const seenIdsKept = 500;


/** What a run restores when an input is quarantined: its state from before that input. */
export interface RunCheckpoint {
  lead?: string;
  policy: LeadPolicy;
  captures: number;
  reactivatedFrom?: LeadStatus;
  enrichmentFailedAt?: string;
  routeRetryAt?: number;
  routeRetryDelay: number;
  journal: JournalCheckpoint;
}

/**
 * The state of one run of a lead's workflow and what it carries into the next, shared by the
 * lifecycle modules (intake, assignment, nurture, actions). It also decides how data access runs:
 * as local activities while someone waits, as ordinary activities for work that timers start.
 */
export class LeadRun {
  readonly leadId: string;
  policy: LeadPolicy;
  /** false: this run started before cadences and keeps its old rules (every open lead disqualified after 90 idle days) to its end. */
  readonly nurtures: boolean;
  readonly journal: Journal;
  readonly queue: Work[];
  lead?: LeadRecord;
  /** Captures applied in this run (the state query reports it). */
  captures = 0;
  /** Set by the first capture of a run that reopened a closed lead, until that capture is applied. */
  reactivatedFrom?: LeadStatus;
  seenIds: string[];
  enrichmentFailedAt?: string;
  /** While in the unassigned queue: when to try routing again, and the current backoff. */
  routeRetryAt?: number;
  routeRetryDelay: number;
  /** True while the main loop is applying a signal, an action or a timer. */
  busy = false;
  /** Set while applying signals and updates; cleared for work that timers start. */
  someoneWaits: boolean;
  /** Captures answered in the current workflow task: their answers leave with its completion (`flushAnswers`). */
  private answersOwed = 0;
  private readonly enrichFast: Activities['enrichLead'];
  private readonly enrichDurable: Activities['enrichLead'];
  /** Data accesses that outlasted their retry window in this run (keys their alerts). */
  private stalls = 0;
  /** Routing decisions asked for in this run (keys them). Not restored with a checkpoint: a decision rolled back is not taken again. */
  private routings = 0;
  private readonly fast: Activities;
  private readonly slow: Activities;

  constructor(input: LeadWorkflowInput, nurtures: boolean) {
    this.leadId = input.leadId;
    this.policy = input.policy;
    this.nurtures = nurtures;
    this.journal = new Journal(input.leadId);
    this.queue = [...(input.pending ?? [])];
    this.seenIds = input.carried?.seenIds ?? [];
    this.enrichmentFailedAt = input.carried?.enrichmentFailedAt;
    this.routeRetryAt = input.carried?.routeRetryAt;
    this.routeRetryDelay = input.carried?.routeRetryDelay ?? durationMs(input.policy.routing.unassignedRetryFirst);
    // A run carried over from the last one starts on its own.
    this.someoneWaits = input.carried === undefined;
    // Enrichment never holds speed-to-lead up longer than its budget; the provider retries within it.
    const enrichment = { startToCloseTimeout: durationMs(input.policy.enrichment.budget), retry: { maximumAttempts: 1 } };
    this.enrichFast = proxyLocalActivities<Activities>(enrichment).enrichLead;
    this.enrichDurable = proxyActivities<Activities>(enrichment).enrichLead;
    /**
     * What someone waits for (a capture being routed, a rep's action) runs as local activities:
     * short Postgres transactions run by the worker inside the workflow task, without the round
     * trips of scheduling activity tasks through the server — that is most of speed-to-lead. What
     * timers start (the SLA ladder, routing retries, decay, re-enrichment) runs as ordinary
     * activities, which the server retries and the UI shows as pending through a long outage.
     * Either retries a transient failure for `dataAccess.retryFor`, then more slowly (`patiently`).
     */
    const { retryFor, slowRetryFirst, slowRetryMax } = input.policy.dataAccess ?? dataAccessDefaults;
    const bounded = { ...dataAccess, scheduleToCloseTimeout: durationMs(retryFor) };
    const patient = proxyActivities<Activities>({ ...dataAccess, retry: { initialInterval: durationMs(slowRetryFirst), maximumInterval: durationMs(slowRetryMax) } });
    const local = proxyLocalActivities<Activities>({
      ...bounded,
      retry: { ...dataAccess.retry, maximumAttempts: attemptsWithin(durationMs(retryFor)) },
      // A local activity holds its workflow task open while it retries (by default for backoffs up
      // to a minute), and nothing the workflow answers meanwhile leaves: neither a capture's answer
      // nor a read's query. Past a second's backoff a timer waits instead, so through a Postgres
      // outage captures are still answered at once (issue 12).
      ...(patched(workflowPatches.localRetryTimers) ? { localRetryThreshold: '1 second' } : {}),
    });
    this.fast = this.patiently(local, patient, retryFor);
    this.slow = this.patiently(proxyActivities<Activities>(bounded), patient, retryFor);
  }

  /**
   * The key of a new routing decision (README, "Routing is keyed"): this run and the decision's
   * number in it, the same in every attempt of the workflow task that asks for it (unlike the
   * workflow's time), and new for every decision, so re-routing after a breach still picks again.
   */
  routingKey(): string {
    return `${workflowInfo().runId}:${++this.routings}`;
  }

  /** Data access: local while someone waits, ordinary otherwise. */
  io(): Activities {
    return this.someoneWaits ? this.fast : this.slow;
  }

  /**
   * Data access that outlasts an outage: once a call has failed for its whole retry window, the
   * worker logs a warning and the call goes on as an ordinary activity that the server retries ever
   * more slowly (`slowRetryFirst` doubling up to `slowRetryMax`), shown as pending in the UI. Once
   * it succeeds, ops gets an alert in the outbox saying how long the lead waited. Nothing is lost.
   */
  private patiently(activities: Activities, patient: Activities, retryFor: string): Activities {
    return new Proxy({} as Activities, {
      get: (_, name: keyof Activities) =>
        async (...args: unknown[]) => {
          const call = (via: Activities) => (via[name] as (...a: unknown[]) => Promise<unknown>)(...args);
          try {
            return await call(activities);
          } catch (error) {
            if (!outlasted(error) || !patched(workflowPatches.quarantineBadInput)) throw error;
            const since = new Date().toISOString();
            log.warn('lead data access stalled', { leadId: this.leadId, activity: name, retryFor });
            const result = await call(patient);
            const message = `Lead ${this.leadId}: ${name} failed from ${since} until ${new Date().toISOString()} (retried for ${retryFor}, then more slowly)`;
            await patient.queueAlert({ leadId: this.leadId, notification: { key: `${workflowInfo().runId}:stalled:${++this.stalls}`, kind: 'data_access_stalled', recipient: 'ops', message, data: { leadId: this.leadId, activity: name, since } } });
            return result;
          }
        },
    });
  }

  /**
   * Takes a capture into the queue and says what it is (issue 12), from the run's state alone so
   * that no answer waits for Postgres: a duplicate when the lead is open, or when a capture taken
   * before this one will open or reopen it; otherwise this capture makes (or reactivates) the lead.
   * A run that has not loaded its lead yet has none open: it was started by this capture.
   */
  takeCapture(signal: CaptureSignal): CaptureAnswer {
    const lead = this.lead;
    const open = lead !== undefined && this.reactivatedFrom === undefined && !closedStatuses.includes(lead.status);
    const earlier = this.queue.some((work) => work.kind === 'capture');
    this.queue.push({ kind: 'capture', signal });
    this.answersOwed += 1;
    return open ? { duplicate: true, status: lead.status } : { duplicate: earlier, status: 'new' };
  }

  /**
   * Lets the answers given so far leave before the next data access. The worker holds a workflow
   * task open while local activities run (and, through an outage, retry), and update answers only
   * leave with the task's completion; a no-op activity completes the task first. Runs without capture
   * updates (all recorded histories) never get here with an answer owed, so never start the timer.
   */
  async flushAnswers() {
    if (this.answersOwed === 0) return;
    await this.endTask();
  }

  /** Completes the current workflow task (by scheduling a no-op activity): what it answered leaves, and its local activities are recorded. */
  async endTask() {
    this.answersOwed = 0;
    await durable.noop();
  }

  /**
   * The lead a new run starts from, read as an ordinary activity: its result is in the history at
   * once, so if a later workflow task fails after its local activities wrote the lead (the server
   * fails a task that holds more than a hundred buffered signals), the task's retry does not read
   * the run's own writes back and apply its inputs twice. It also completes the first task, so the
   * capture that started the run is answered without waiting for Postgres.
   */
  loadDurably(): Promise<LeadRecord | null> {
    this.answersOwed = 0;
    return this.slow.loadLead(this.leadId);
  }

  /**
   * What a new run starts from, read as an ordinary activity like `loadDurably`: the lead (unless
   * `load` is false: the API found none) and the newest published scoring model.
   */
  loadRunStart(load: boolean) {
    this.answersOwed = 0;
    return this.slow.loadRunStart({ leadId: this.leadId, load });
  }

  /** Scores from now on by `model` (a published version): carried over continue-as-new in the policy. */
  useModel(model: ScoringModelRules) {
    this.policy = { ...this.policy, scoring: model.scoring, qualification: model.qualification, icp: model.icp };
  }

  /** The lead this run starts from (carried over or loaded); a closed one is reopened by the next capture. */
  adopt(start: LeadRecord | null | undefined) {
    if (start && closedStatuses.includes(start.status)) {
      this.reactivatedFrom = start.status;
      this.lead = { ...start, status: 'new', statusReason: undefined };
    } else {
      this.lead = start ?? undefined;
    }
  }

  enrichLead: Activities['enrichLead'] = (query) => (this.someoneWaits ? this.enrichFast : this.enrichDurable)(query);

  /** A capture or event id seen before is not applied again; the newest are kept. */
  firstSight(id: string): boolean {
    if (this.seenIds.includes(id)) return false;
    this.seenIds = [...this.seenIds, id].slice(-seenIdsKept);
    return true;
  }

  setStatus(current: LeadRecord, status: LeadStatus, reason?: string) {
    this.journal.record('status_changed', { status, previous: current.status, reason: reason ?? null });
    current.status = status;
    current.statusReason = reason;
  }

  /** The run's state before an input, to go back to if that input is quarantined. */
  checkpoint(): RunCheckpoint {
    return {
      lead: this.lead && JSON.stringify(this.lead),
      policy: this.policy,
      captures: this.captures,
      reactivatedFrom: this.reactivatedFrom,
      enrichmentFailedAt: this.enrichmentFailedAt,
      routeRetryAt: this.routeRetryAt,
      routeRetryDelay: this.routeRetryDelay,
      journal: this.journal.checkpoint(),
    };
  }

  /** Back to a checkpoint; ids seen since stay seen, so a redelivered bad input is not applied again. */
  restore(checkpoint: RunCheckpoint) {
    this.lead = checkpoint.lead === undefined ? undefined : JSON.parse(checkpoint.lead);
    this.policy = checkpoint.policy;
    this.captures = checkpoint.captures;
    this.reactivatedFrom = checkpoint.reactivatedFrom;
    this.enrichmentFailedAt = checkpoint.enrichmentFailedAt;
    this.routeRetryAt = checkpoint.routeRetryAt;
    this.routeRetryDelay = checkpoint.routeRetryDelay;
    this.journal.restore(checkpoint.journal);
  }

  /** What continue-as-new hands to the next run. */
  carried(): CarriedState {
    return { lead: this.lead!, seenIds: this.seenIds, enrichmentFailedAt: this.enrichmentFailedAt, routeRetryAt: this.routeRetryAt, routeRetryDelay: this.routeRetryDelay };
  }
}
