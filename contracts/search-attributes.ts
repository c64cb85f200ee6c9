import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

/** Custom search attributes (docs/design.md, "Architecture"): ops filter leads by them in the Temporal UI. No PII goes here. */
export const searchAttributes = {
  LeadStatus: defineSearchAttributeKey('LeadStatus', SearchAttributeType.KEYWORD),
  LeadOwner: defineSearchAttributeKey('LeadOwner', SearchAttributeType.KEYWORD),
  LeadScore: defineSearchAttributeKey('LeadScore', SearchAttributeType.INT),
  LeadPriority: defineSearchAttributeKey('LeadPriority', SearchAttributeType.KEYWORD),
  LeadSource: defineSearchAttributeKey('LeadSource', SearchAttributeType.KEYWORD),
  SlaDueAt: defineSearchAttributeKey('SlaDueAt', SearchAttributeType.DATETIME),
  CadenceVersion: defineSearchAttributeKey('CadenceVersion', SearchAttributeType.KEYWORD),
} as const;
