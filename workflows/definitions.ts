import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';
import { defineQuery, defineSignal } from '@temporalio/workflow';
import type { ActivityType } from '../domain/engagement';
import type { CaptureSignal } from '../domain/lead';
import type { LeadRecord } from '../domain/lead-record';

/** Custom search attributes (DESIGN.md, "Architecture"): ops filter leads by them in the Temporal UI. No PII goes here. */
export const searchAttributes = {
  LeadStatus: defineSearchAttributeKey('LeadStatus', SearchAttributeType.KEYWORD),
  LeadOwner: defineSearchAttributeKey('LeadOwner', SearchAttributeType.KEYWORD),
  LeadScore: defineSearchAttributeKey('LeadScore', SearchAttributeType.INT),
  LeadPriority: defineSearchAttributeKey('LeadPriority', SearchAttributeType.KEYWORD),
  LeadSource: defineSearchAttributeKey('LeadSource', SearchAttributeType.KEYWORD),
  SlaDueAt: defineSearchAttributeKey('SlaDueAt', SearchAttributeType.DATETIME),
  CadenceVersion: defineSearchAttributeKey('CadenceVersion', SearchAttributeType.KEYWORD),
} as const;

export const taskQueueDefault = 'leads';

/** A capture of this person: the first one starts the workflow (signal-with-start), later ones merge into it. */
export const captureSignal = defineSignal<[CaptureSignal]>('capture');

/** An engagement event reported for a running lead (`POST /leads/{id}/activities`). */
export interface ActivitySignal {
  /** Unique per report: the client's `eventId`, or one the API made up. */
  activityId: string;
  /** The client's de-duplication key, if it sent one: the same one twice is recorded once. */
  eventId?: string;
  type: ActivityType;
  occurredAt?: string;
  receivedAt: string;
  /** The role of the key that reported it. */
  actor: string;
}
export const activitySignal = defineSignal<[ActivitySignal]>('activity');

/** What the workflow knows right now (the query ops and tests use; reads for clients come from Postgres). */
export interface LeadState {
  lead?: LeadRecord;
  captures: number;
}
export const leadStateQuery = defineQuery<LeadState>('leadState');
