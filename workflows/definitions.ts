import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';
import { defineQuery, defineSignal } from '@temporalio/workflow';
import type { CaptureSignal, LeadSource, LeadStatus } from '../domain/lead';

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

export interface LeadState {
  leadId: string;
  status: LeadStatus;
  source?: LeadSource;
  captures: number;
  lastActivityAt: string;
}
export const leadStateQuery = defineQuery<LeadState>('leadState');
