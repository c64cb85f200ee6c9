import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { ActionBody } from '../domain/action-bodies';
import type { ActionName, Actor } from '../domain/actions';
import type { EngagementType } from '../domain/engagement';
import type { CaptureSignal } from '../domain/capture';
import type { ConsentChannel } from '../domain/consent';
import type { LeadPolicy } from '../domain/config';
import type { LeadStatus } from '../domain/lead';
import type { LeadRecord, TimelineEvent } from '../domain/lead-record';
import type { RescoreSignal } from './rollout';

export const taskQueueDefault = 'leads';

/**
 * A capture as a signal: how a capture of a running lead reaches it when its workflow did not
 * answer the update in time (capture/take.ts). Applied once, by capture id, with the update.
 */
export const captureSignal = defineSignal<[CaptureSignal]>('capture');

/** What the lead's workflow answers a capture it has taken (the body of the API's 202). */
export interface CaptureAnswer {
  /** true when this capture merges into a lead that is open, or that an earlier capture taken before it opens or reopens. */
  duplicate: boolean;
  /** The lead's status when the capture was taken (`new` for a lead this capture makes or reopens). */
  status: LeadStatus;
}
/**
 * A capture of a person whose lead's workflow runs (`POST /leads`; the first capture starts the
 * workflow with the capture in its input). The workflow answers once the capture is in its queue,
 * before anything is written to Postgres, so the answer says what the lead itself decided.
 */
export const captureUpdate = defineUpdate<CaptureAnswer, [CaptureSignal]>('takeCapture');

/** An engagement event reported for a running lead (`POST /leads/{id}/activities`; the signal keeps its wire name `activity`). */
export interface EngagementSignal {
  /** Unique per report: the client's `eventId`, or one the API made up (wire name kept: histories carry it). */
  activityId: string;
  /** The client's de-duplication key, if it sent one: the same one twice is recorded once. */
  eventId?: string;
  type: EngagementType;
  occurredAt?: string;
  receivedAt: string;
  /** The role of the key that reported it. */
  actor: string;
}
export const engagementSignal = defineSignal<[EngagementSignal]>('activity');

/** The person confirmed an opt-in by the link of a confirmation email (`POST /consent/confirm/{token}`). */
export interface ConsentConfirmationSignal {
  /** One per link: confirming twice is recorded once. */
  confirmationId: string;
  channel: ConsentChannel;
  /** When the API received the confirmation: what orders it against the opt-out it lifts. */
  receivedAt: string;
}
export const consentConfirmationSignal = defineSignal<[ConsentConfirmationSignal]>('confirmConsent');

/**
 * What the workflow knows right now: the query ops and tests use, and the API's fallback for reads
 * while Postgres does not have the lead yet (or not all of it).
 */
export interface LeadState {
  lead?: LeadRecord;
  captures: number;
  /** Captures taken but not applied yet, oldest first: a lead whose first capture waits here has no record yet. */
  queuedCaptures?: CaptureSignal[];
  /** Timeline events not in Postgres yet: applied since the last save (or in it), or, for a lead not made yet, those of its queued captures. */
  unsaved?: TimelineEvent[];
}
export const leadStateQuery = defineQuery<LeadState>('leadState');

/** Reps changed (added, back from leave, more capacity): a lead in the unassigned queue tries routing again. */
export const retryRoutingSignal = defineSignal('retryRouting');

/** A rep or ops action: the validated body, who acts, and when the API received it. */
export type ActionRequest<A extends ActionName> = ActionBody<A> & { actor: Actor; at: string };
export interface ActionResult {
  status: LeadRecord['status'];
}

/**
 * Rep and ops actions are updates: the caller learns whether the workflow applied them, and a
 * validator rejects, with the reason, an action that does not fit the lead's state or its owner.
 */
export const actionUpdates = {
  accept: defineUpdate<ActionResult, [ActionRequest<'accept'>]>('accept'),
  touches: defineUpdate<ActionResult, [ActionRequest<'touches'>]>('touch'),
  disqualify: defineUpdate<ActionResult, [ActionRequest<'disqualify'>]>('disqualify'),
  convert: defineUpdate<ActionResult, [ActionRequest<'convert'>]>('convert'),
  recycle: defineUpdate<ActionResult, [ActionRequest<'recycle'>]>('recycle'),
  reassign: defineUpdate<ActionResult, [ActionRequest<'reassign'>]>('reassign'),
} satisfies Record<ActionName, unknown>;

/** Signals, carried over continue-as-new when they arrive at a boundary. */
export type SignalWork =
  | { kind: 'capture'; signal: CaptureSignal }
  | { kind: 'engagement'; signal: EngagementSignal }
  | { kind: 'consentConfirmation'; signal: ConsentConfirmationSignal }
  | { kind: 'retryRouting' }
  | { kind: 'rescore'; signal: RescoreSignal };

/**
 * What a run knows about its lead, as one serialisable value: a checkpoint is a copy of it, and
 * continue-as-new carries it over (`CarriedState`).
 */
export interface RunState {
  lead?: LeadRecord;
  policy: LeadPolicy;
  /** Captures applied in this run (the state query reports it). */
  captures: number;
  /** Set by the first capture of a run that reopened a closed lead, until that capture is applied. */
  reactivatedFrom?: LeadStatus;
  /** Capture and event ids already applied, newest last (bounded). */
  seenIds: string[];
  enrichmentFailedAt?: string;
  /** While in the unassigned queue: when to try routing again (epoch ms), and the current backoff. */
  routeRetryAt?: number;
  routeRetryDelay: number;
}

/** Carried over continue-as-new so a months-long lead keeps everything it knows. */
export type CarriedState = Omit<RunState, 'policy' | 'captures' | 'reactivatedFrom'> & { lead: LeadRecord };

export interface LeadWorkflowInput {
  leadId: string;
  policy: LeadPolicy;
  /** The capture that started this lead's workflow (a new lead, or a closed one captured again). */
  capture?: CaptureSignal;
  carried?: CarriedState;
  /** Signals that arrived while the previous run was closing or continuing as new. */
  pending?: SignalWork[];
}

export interface LeadOutcome {
  status: LeadStatus;
  reason?: string;
}

/**
 * The lead workflow's signature (workflows/lead/workflow.ts), for clients below workflows/ that
 * start it by name: as the type parameter of @temporalio/client's `WorkflowClient.start` (which
 * takes a workflow type name or the function), `start<LeadWorkflow>('leadWorkflow', …)` checks
 * the arguments without importing workflow code.
 */
export type LeadWorkflow = (input: LeadWorkflowInput) => Promise<LeadOutcome>;
