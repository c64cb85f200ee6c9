import type { LeadStatus } from './lead';
import type { LeadRecord, TimelineEvent } from './lead-record';
import { explain } from './scoring';

/**
 * The handoff to the CRM (docs/features/crm.md): which of a lead's events push it to the CRMs it is
 * connected to, and what is written there. Pure: the worker's CRM delivery (worker/crm.ts) calls the
 * CRM with what these answer.
 */

export const crmKinds = ['hubspot', 'salesforce'] as const;
export type CrmKind = (typeof crmKinds)[number];

/** What a push writes: the lead as a contact (owner, score, status), or a deal for a conversion (with the contact). */
export type CrmPush = 'contact' | 'deal';

/** Statuses a rep's action moves a routed lead to, which the CRM's record follows. */
const followedStatuses: ReadonlySet<string> = new Set<LeadStatus>(['accepted', 'disqualified', 'recycled']);
/** A routed lead's statuses: a lead leaving another (a nurtured lead closed by aging) was never handed off. */
const routedStatuses: ReadonlySet<string> = new Set<LeadStatus>(['sql', 'accepted']);

/**
 * The pushes a save's events call for, keyed by their event (a retried save queues none twice):
 * routed to a rep (`assigned`, also after a reassignment) and a routed lead's accept,
 * disqualification or recycling push the contact; a conversion pushes the deal.
 */
export interface PushRequest {
  key: string;
  push: CrmPush;
  event: string;
  opportunity: Opportunity | null;
}

export function crmPushesFor(events: readonly TimelineEvent[]): PushRequest[] {
  return events.flatMap((e): PushRequest[] => {
    const contact: PushRequest = { key: e.key, push: 'contact', event: e.type, opportunity: null };
    if (e.type === 'assigned') return [contact];
    if (e.type === 'status_changed' && followedStatuses.has(String(e.data.status)) && routedStatuses.has(String(e.data.previous)))
      return [contact];
    // The opportunity (a name and an amount: no personal data) is kept with the push; the rest is read when it is delivered.
    if (e.type === 'converted') return [{ ...contact, push: 'deal', opportunity: (e.data.opportunity as Opportunity | null) ?? null }];
    return [];
  });
}

/**
 * A `Retry-After` header in seconds (RFC 9110 §10.2.3: a number of seconds or an HTTP date),
 * undefined when absent or unreadable; never negative, at most an hour.
 */
export function retryAfterSeconds(header: string | undefined, now: Date): number | undefined {
  if (!header) return undefined;
  const seconds = /^\d+$/.test(header.trim()) ? Number(header.trim()) : (Date.parse(header) - now.getTime()) / 1000;
  if (!Number.isFinite(seconds)) return undefined;
  return Math.min(Math.max(Math.ceil(seconds), 0), 3600);
}

/** What a push needs to know of the lead, read when it is delivered (the outbox entry holds no personal data). */
export interface CrmLead {
  lead: LeadRecord;
  ownerId: string | null;
  /** The owner's `crmUserId`; null: the CRM record gets no owner. */
  ownerCrmUserId: string | null;
  priority: string | null;
  dueAt: string | null;
  /** The lead's captures, engagement events and rep touches, oldest first: what the handoff note tells. */
  story: Pick<TimelineEvent, 'at' | 'type' | 'actor' | 'data'>[];
}

/** HubSpot's own lead status property (`hs_lead_status`, its default options) for ours. */
const hubspotLeadStatus: Partial<Record<LeadStatus, string>> = {
  sql: 'NEW',
  accepted: 'IN_PROGRESS',
  recycled: 'BAD_TIMING',
  disqualified: 'UNQUALIFIED',
  converted: 'OPEN_DEAL',
};

/** Our custom contact properties, to be created in HubSpot (docs/features/crm.md "HubSpot"); `lo_` for lead orchestration. */
export const hubspotContactPropertyNames = [
  'lo_lead_id',
  'lo_status',
  'lo_status_reason',
  'lo_score',
  'lo_grade',
  'lo_score_explanation',
  'lo_source',
  'lo_source_detail',
  'lo_priority',
  'lo_sla_due_at',
] as const;

/** The deal property that makes a conversion's deal one record however often it is pushed: unique in HubSpot. */
export const hubspotHandoffIdProperty = 'lo_handoff_id';

const dropEmpty = (properties: Record<string, string | null | undefined>): Record<string, string> =>
  Object.fromEntries(Object.entries(properties).filter((entry): entry is [string, string] => entry[1] !== null && entry[1] !== undefined));

/**
 * The HubSpot contact of a lead: found by email (HubSpot's unique contact key) when it exists,
 * made otherwise. Our fields only: a property the lead does not have is left as HubSpot has it.
 */
export function hubspotContactProperties({ lead, ownerCrmUserId, priority, dueAt }: CrmLead): Record<string, string> {
  const p = lead.profile;
  return dropEmpty({
    email: p.email,
    firstname: p.firstName,
    lastname: p.lastName,
    company: p.company,
    jobtitle: p.title,
    phone: p.phone,
    country: p.country,
    hubspot_owner_id: ownerCrmUserId,
    hs_lead_status: hubspotLeadStatus[lead.status],
    lo_lead_id: lead.leadId,
    lo_status: lead.status,
    lo_status_reason: lead.statusReason,
    lo_score: lead.score ? String(lead.score.score) : undefined,
    lo_grade: lead.score?.grade,
    lo_score_explanation: lead.score ? explain(lead.score) : undefined,
    lo_source: p.source,
    lo_source_detail: p.sourceDetail,
    lo_priority: priority,
    // Cleared once the rep has responded: there is no SLA due any more.
    lo_sla_due_at: dueAt ?? '',
  });
}

/** What a conversion said about its opportunity (the `convert` action's body). */
export interface Opportunity {
  name?: string;
  amount?: number;
}

/** HubSpot's deal stage and pipeline for new deals (connection settings). */
export interface DealPlacement {
  pipeline: string;
  dealStage: string;
}

/** The HubSpot deal of a conversion, keyed by `handoffId` (the conversion's event), with the handoff note as its description. */
export function hubspotDealProperties(
  crmLead: CrmLead,
  {
    handoffId,
    opportunity,
    placement,
    timelineUrl,
  }: { handoffId: string; opportunity: Opportunity | null; placement: DealPlacement; timelineUrl?: string },
): Record<string, string> {
  const { lead, ownerCrmUserId } = crmLead;
  return dropEmpty({
    dealname: opportunity?.name ?? `${lead.profile.company ?? 'Lead'}: handoff`,
    amount: opportunity?.amount === undefined ? undefined : String(opportunity.amount),
    pipeline: placement.pipeline,
    dealstage: placement.dealStage,
    hubspot_owner_id: ownerCrmUserId,
    description: handoffNote(crmLead, timelineUrl),
    [hubspotHandoffIdProperty]: handoffId,
  });
}

/** Salesforce's standard Lead `Status` picklist (its default values) for ours; a converted lead's is set only by Salesforce's own conversion. */
const salesforceLeadStatus: Partial<Record<LeadStatus, string>> = {
  sql: 'Open - Not Contacted',
  accepted: 'Working - Contacted',
  recycled: 'Closed - Not Converted',
  disqualified: 'Closed - Not Converted',
};

/** Our custom Lead fields, to be created in Salesforce (docs/features/crm.md "Salesforce"), with the external-id field the connection names. */
export const salesforceLeadFieldNames = [
  'LO_Status__c',
  'LO_Status_Reason__c',
  'LO_Score__c',
  'LO_Grade__c',
  'LO_Score_Explanation__c',
  'LO_Source__c',
  'LO_Source_Detail__c',
  'LO_Priority__c',
  'LO_SLA_Due__c',
] as const;

/** What Salesforce requires of a new Lead and the lead may not have: its Web-to-Lead placeholder. */
const notProvided = '[not provided]';

/**
 * The Salesforce Lead of a lead, upserted by the external-id field holding our lead id (the field
 * itself is in the URL, not in these fields). A field the lead does not have is not sent, except
 * `LastName` and `Company`, which Salesforce requires.
 */
export function salesforceLeadFields({ lead, ownerCrmUserId, priority, dueAt }: CrmLead): Record<string, string | number | null> {
  const p = lead.profile;
  return {
    ...dropEmpty({
      FirstName: p.firstName,
      LastName: p.lastName ?? notProvided,
      Company: p.company ?? notProvided,
      Email: p.email,
      Title: p.title,
      Phone: p.phone,
      Country: p.country,
      OwnerId: ownerCrmUserId,
      Status: salesforceLeadStatus[lead.status],
      LO_Status__c: lead.status,
      LO_Status_Reason__c: lead.statusReason,
      LO_Grade__c: lead.score?.grade,
      LO_Score_Explanation__c: lead.score ? explain(lead.score) : undefined,
      LO_Source__c: p.source,
      LO_Source_Detail__c: p.sourceDetail,
      LO_Priority__c: priority,
    }),
    ...(lead.score ? { LO_Score__c: lead.score.score } : {}),
    // Cleared (null) once the rep has responded: there is no SLA due any more.
    LO_SLA_Due__c: dueAt,
  };
}

/** Where a conversion's Opportunity starts (connection settings) and how far off its close date is. */
export interface OpportunityPlacement {
  stageName: string;
  closeInDays: number;
}

/**
 * The Salesforce Opportunity of a conversion, upserted by the external-id field holding `handoffId`
 * (the conversion's event), with the handoff note as its Description. `convertedAt` is the
 * conversion's time: the close date is counted from it, so a retried push writes the same one.
 */
export function salesforceOpportunityFields(
  crmLead: CrmLead,
  {
    opportunity,
    placement,
    convertedAt,
    timelineUrl,
  }: { opportunity: Opportunity | null; placement: OpportunityPlacement; convertedAt: string; timelineUrl?: string },
): Record<string, string | number> {
  const { lead, ownerCrmUserId } = crmLead;
  const closeDate = new Date(Date.parse(convertedAt) + placement.closeInDays * 86_400_000).toISOString().slice(0, 10);
  return {
    ...dropEmpty({
      Name: (opportunity?.name ?? `${lead.profile.company ?? 'Lead'}: handoff`).slice(0, 120),
      StageName: placement.stageName,
      CloseDate: closeDate,
      OwnerId: ownerCrmUserId,
      Description: handoffNote(crmLead, timelineUrl),
    }),
    ...(opportunity?.amount === undefined ? {} : { Amount: opportunity.amount }),
  };
}

/** A SOQL string literal: backslashes and single quotes escaped (SOQL reference, "Quoted String Escape Sequences"). */
export const soqlString = (value: string) => `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;

/**
 * The `Website` values an Account of the company at `domain` may hold, as orgs write them (bare,
 * `www.`, `http(s)://`, a trailing slash): a lead converted with that company's Account matches
 * one of them exactly. A `LIKE '%acme.io%'` would also match `notacme.io` (docs/features/crm.md
 * "Converting the Lead").
 */
export function accountWebsites(domain: string): string[] {
  const host = domain
    .trim()
    .toLowerCase()
    .replace(/^www\./, '');
  return [host, `www.${host}`].flatMap((h) => [h, `${h}/`, `http://${h}`, `http://${h}/`, `https://${h}`, `https://${h}/`]);
}

/** The SOQL query of the Accounts whose Website is the company's at `domain` (two at most: more than one is no match). */
export const accountByWebsiteQuery = (domain: string) =>
  `SELECT Id FROM Account WHERE Website IN (${accountWebsites(domain).map(soqlString).join(', ')}) LIMIT 2`;

/** The SOQL query of a Lead's conversion, by the external-id field holding our lead id: what makes converting it exactly once. */
export const leadConversionQuery = (leadIdField: string, leadId: string) =>
  `SELECT Id, IsConverted, ConvertedOpportunityId, ConvertedContactId, ConvertedAccountId FROM Lead WHERE ${leadIdField} = ${soqlString(leadId)} LIMIT 1`;

/** A deal description holds 65,536 characters; the note stays well within it. */
const noteLimit = 8000;
const day = (at: string) => at.slice(0, 10);

/**
 * The handoff note (docs/features/crm.md "The handoff note"): what the lead did (its captures and
 * engagement), the reps' touches, and why it scored what it did, so that the account executive
 * starts from the story rather than from a bare contact.
 */
export function handoffNote({ lead, story }: CrmLead, timelineUrl?: string): string {
  const captures = story
    .filter((e) => e.type === 'captured')
    .map((e) => `${day(e.at)} ${e.data.source}${e.data.sourceDetail ? ` (${e.data.sourceDetail})` : ''}`);
  const activity = new Map<string, number>();
  for (const e of story) if (e.type === 'activity') activity.set(String(e.data.type), (activity.get(String(e.data.type)) ?? 0) + 1);
  const touches = story
    .filter((e) => e.type === 'touch')
    .map((e) => `${day(e.at)} ${e.data.channel} by ${e.actor.replace(/^rep:/, '')}${e.data.note ? `: ${e.data.note}` : ''}`);
  const lines = [
    `Handoff of lead ${lead.leadId}${lead.profile.company ? ` (${lead.profile.company})` : ''}.`,
    `Score: ${lead.score ? `${explain(lead.score)}; grade ${lead.score.grade}` : 'not scored'}.`,
    `Captures: ${captures.join('; ') || 'none'}.`,
    `Engagement: ${
      [...activity].map(([type, count]) => `${type.replaceAll('_', ' ')} ×${count}`).join(', ') || 'none reported'
    }; emails opened: ${lead.engagement.openedEmails}.`,
    `Touches: ${touches.join('; ') || 'none logged'}.`,
    ...(timelineUrl ? [`Timeline: ${timelineUrl}`] : []),
  ];
  const note = lines.join('\n');
  return note.length > noteLimit ? `${note.slice(0, noteLimit - 1)}…` : note;
}
