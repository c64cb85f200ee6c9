import { z } from '@hono/zod-openapi';
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import type { Sql } from '../db/client';
import { crmRecordsOfLead } from '../db/crm';
import { findLead, findLeadState, listLeads as listStoredLeads, storedRouting, type LeadPosition, type StoredLead } from '../db/leads';
import { lastErasure } from '../db/privacy';
import { readTimeline } from '../db/timeline';
import { cadenceLabelSchema } from '../domain/cadence-bodies';
import { identifier, isInWindow, opaqueKey } from '../domain/input';
import { crmKinds } from '../domain/crm';
import { consentStates, leadSources, leadStatuses } from '../domain/lead';
import { newLeadRecord, type LeadRecord, type TimelineEvent } from '../domain/lead-record';
import { mergeCapture } from '../domain/profile';
import { leadStateQuery, type LeadState } from '../contracts/lead';
import type { Principal } from './auth';
import { keysetCursor } from './cursor';
import { ApiError } from './errors';

export const leadIdPattern = /^lead-[0-9a-f]{24}$/;
/** A lead id in a path: `lead-` and 24 hex digits. */
export const leadIdParam = z.object({
  id: z
    .string()
    .regex(leadIdPattern, 'must be a lead id such as lead-0123456789abcdef01234567')
    .meta({ param: { name: 'id', in: 'path' }, example: 'lead-5f2b9c0e1d3a4b6c7d8e9f01' }),
});

const scoreLineSchema = z.object({ rule: z.string(), points: z.number().int(), reason: z.string() });

/** `GET /leads/{id}` (docs/api.md, "Reading"). */
export const leadViewSchema = z
  .object({
    leadId: z.string(),
    status: z.enum(leadStatuses),
    statusReason: z.string().nullable(),
    email: z.string(),
    firstName: z.string().nullable(),
    lastName: z.string().nullable(),
    company: z.string().nullable(),
    title: z.string().nullable(),
    phone: z.string().nullable(),
    country: z.string().nullable(),
    employees: z.number().nullable(),
    industry: z.string().nullable(),
    techStack: z.array(z.string()),
    fundingStage: z.string().nullable(),
    enrichment: z.enum(['pending', 'enriched', 'not_found', 'failed']),
    score: z.number().int().nullable(),
    grade: z.enum(['A', 'B', 'C', 'D', 'F']).nullable(),
    scoreBreakdown: z.array(scoreLineSchema),
    scoreModelVersion: z.number().int().nullable(),
    priority: z.enum(['P1', 'P2', 'P3']).nullable(),
    ownerId: z.string().nullable(),
    teamId: z.string().nullable(),
    routingReason: z.string().nullable(),
    sla: z
      .object({
        dueAt: z.string().nullable(),
        breaches: z.number().int(),
        respondedAt: z.string().nullable(),
        responseMs: z.number().nullable(),
      })
      .nullable()
      .meta({ description: 'null until the lead is routed' }),
    cadence: z
      .object({
        name: z.string(),
        version: z.number().int(),
        step: z.number().int().meta({ description: 'steps reached so far (0 until the first is due)' }),
        nextStepAt: z.string().nullable(),
      })
      .nullable()
      .meta({
        description: 'the nurture cadence the lead is enrolled in (mql, not_ready), pinned to a version; null otherwise',
        example: { name: 'mql-nurture', version: 3, step: 2, nextStepAt: '2026-12-01T09:00:00.000Z' },
      }),
    consent: z.record(z.string(), z.enum(consentStates)).meta({ example: { email: 'opted_in' } }),
    source: z.enum(leadSources),
    sourceDetail: z.string().nullable(),
    createdAt: z.string(),
    updatedAt: z.string(),
    temporalUiUrl: z.string(),
    crm: z
      .array(
        z.object({
          connectionId: z.string(),
          kind: z.enum(crmKinds),
          object: z.enum(['contact', 'deal']),
          recordId: z.string().meta({ description: "the CRM's record id" }),
          syncedAt: z.string(),
        }),
      )
      .optional()
      .meta({
        description: '`GET /leads/{id}` only: the CRM records the lead was pushed to, the latest push of each (docs/features/crm.md)',
      }),
  })
  .meta({ id: 'Lead' });
export type LeadView = z.infer<typeof leadViewSchema>;

export const leadNotFound = (id: string) => new ApiError(404, 'not_found', `no lead with id ${id}`);

/**
 * Reps see only the leads they own; ops and marketing see all. Another rep's lead answers exactly
 * as a lead that does not exist, so that a rep key cannot test whether a person is a lead
 * (docs/operations/security.md#what-each-role-can-see).
 */
export function assertMayRead(principal: Principal, ownerId: string | null, id: string) {
  if (principal.role === 'rep' && ownerId !== principal.repId) throw leadNotFound(id);
}

type Links = { temporalUiUrl: string; namespace: string };

/** The lead's workflow in the Temporal Web UI. */
export const temporalUiLink = (links: Links, leadId: string) =>
  `${links.temporalUiUrl}/namespaces/${encodeURIComponent(links.namespace)}/workflows/${leadId}`;
/** Where a lead is read from: the read model, and the lead's workflow for what the read model does not have yet. */
export type LeadSources = { sql: Sql; temporal: Client };

/** How long a read waits for the workflow's state: a worker that is down must not hold reads up. */
const stateQueryMs = 5_000;

/** The lead's state as its workflow holds it; undefined when it has no workflow. */
async function workflowState({ sql, temporal }: LeadSources, id: string): Promise<LeadState | undefined> {
  try {
    const handle = temporal.workflow.getHandle(id);
    // An erased lead reads as erased at once, while Temporal still deletes its runs in the
    // background: only a run started after the tombstone (the person captured anew) is the lead.
    const erased = await lastErasure(sql, id);
    if (erased) {
      const run = await temporal.withDeadline(Date.now() + stateQueryMs, () => handle.describe());
      if (run.status.name !== 'RUNNING' || run.startTime <= new Date(erased.erasedAt)) return undefined;
    }
    return await temporal.withDeadline(Date.now() + stateQueryMs, () => handle.query(leadStateQuery));
  } catch (error) {
    if (error instanceof WorkflowNotFoundError) return undefined;
    throw error;
  }
}

/**
 * The lead as its workflow holds it, as the read model would show it once saved: what a read
 * answers right after a capture's 202 (or through a Postgres outage), before the row exists. A
 * lead whose first captures are taken but not applied yet is shown as those captures make it.
 */
function storedFromWorkflow(id: string, state: LeadState): StoredLead | undefined {
  const [first, ...later] = state.queuedCaptures ?? [];
  let lead: LeadRecord | undefined = state.lead;
  if (!lead && first) {
    const made = newLeadRecord(id, first.capture, first.receivedAt);
    lead = { ...made, profile: later.reduce((profile, { capture }) => mergeCapture(profile, capture), made.profile) };
  }
  if (!lead) return undefined;
  const since = state.unsaved?.find((event) => event.type === 'captured')?.at ?? first?.receivedAt ?? new Date().toISOString();
  return {
    lead,
    routing: storedRouting(lead.routing),
    createdAt: since,
    updatedAt: new Date().toISOString(),
  };
}

/** Reads a lead, for a caller allowed to see it: from the read model, else from its workflow. */
export async function readLead({ sql, temporal }: LeadSources, id: string, principal: Principal, links: Links): Promise<LeadView> {
  let stored = await findLead(sql, id);
  if (!stored) {
    const state = await workflowState({ sql, temporal }, id);
    stored = state && storedFromWorkflow(id, state);
  }
  if (!stored) throw leadNotFound(id);
  assertMayRead(principal, stored.routing.ownerId, id);
  return { ...leadView(stored, links), crm: await crmRecordsOfLead(sql, id) };
}

/**
 * A lead's timeline, oldest first: from the read model, else (a lead right after its first
 * capture's 202, or stored by a workflow still waiting for Postgres) the events its workflow has
 * taken but not stored yet. Like the lead itself, never a mix of the two: a lead and its timeline
 * read one after the other agree, or the later one is newer.
 */
export async function readLeadTimeline(
  { sql, temporal }: LeadSources,
  id: string,
  principal: Principal,
): Promise<Omit<TimelineEvent, 'key'>[]> {
  const row = await findLeadState(sql, id);
  if (row) {
    assertMayRead(principal, row.ownerId, id);
    return readTimeline(sql, id);
  }
  const state = await workflowState({ sql, temporal }, id);
  const fromWorkflow = state && storedFromWorkflow(id, state);
  if (!fromWorkflow) throw leadNotFound(id);
  assertMayRead(principal, fromWorkflow.routing.ownerId, id);
  // Stable: events at the same time keep the order the workflow took them in.
  return state!.unsaved!.sort((a, b) => Date.parse(a.at) - Date.parse(b.at)).map(({ key: _key, ...event }) => event);
}

/** `GET /leads` (docs/api.md, "Reading"); `cadence` is an addition: `mql-nurture` or `mql-nurture@2`, as in the `CadenceVersion` search attribute. */
export const leadListQuerySchema = z.object({
  status: z.enum(leadStatuses).optional(),
  ownerId: identifier().optional(),
  source: z.enum(leadSources).optional(),
  cadence: cadenceLabelSchema.optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: opaqueKey(200).optional().meta({ description: 'nextCursor of the previous page' }),
});
export type LeadListQuery = z.infer<typeof leadListQuerySchema>;

export const leadListSchema = z
  .object({ leads: z.array(leadViewSchema), nextCursor: z.string().nullable().meta({ description: 'null on the last page' }) })
  .meta({ id: 'LeadList' });

// Checked in full: a forged cursor's values reach Postgres, which rejects years it cannot hold.
const cursor = keysetCursor<LeadPosition>((value) => value.length === 2 && isInWindow(value[0]!) && leadIdPattern.test(value[1]!));

/**
 * Leads newest first from the read model, a page at a time (keyset pagination on creation time,
 * stable while leads change). Reps see only their own leads.
 */
export async function listLeads(sql: Sql, query: LeadListQuery, principal: Principal, links: Links) {
  let ownerId = query.ownerId;
  if (principal.role === 'rep') {
    if (ownerId && ownerId !== principal.repId)
      throw new ApiError(403, 'forbidden', `a rep key lists only its own leads (${principal.repId})`);
    ownerId = principal.repId!;
  }
  const [cadenceName, cadenceVersion] = query.cadence ? query.cadence.split('@') : [];
  const { leads, next } = await listStoredLeads(sql, {
    status: query.status,
    ownerId,
    source: query.source,
    cadence: cadenceName ? { name: cadenceName, version: cadenceVersion ? Number(cadenceVersion) : undefined } : undefined,
    after: query.cursor ? cursor.decode(query.cursor) : undefined,
    limit: query.limit,
  });
  return { leads: leads.map((lead) => leadView(lead, links)), nextCursor: next && cursor.encode(next) };
}

/** The view of a stored lead: its record, with absent values as null, and its routing columns. */
function leadView({ lead, routing, createdAt, updatedAt }: StoredLead, links: Links): LeadView {
  const { profile: p, score } = lead;
  return {
    leadId: lead.leadId,
    status: lead.status,
    statusReason: lead.statusReason ?? null,
    email: p.email,
    firstName: p.firstName ?? null,
    lastName: p.lastName ?? null,
    company: p.company ?? null,
    title: p.title ?? null,
    phone: p.phone ?? null,
    country: p.country ?? null,
    employees: p.employees ?? null,
    industry: p.industry ?? null,
    techStack: p.techStack ?? [],
    fundingStage: p.fundingStage ?? null,
    enrichment: lead.enrichment,
    score: score?.score ?? null,
    grade: score?.grade ?? null,
    scoreBreakdown: score?.breakdown ?? [],
    scoreModelVersion: score?.modelVersion ?? null,
    priority: routing.priority,
    ownerId: routing.ownerId,
    teamId: routing.teamId,
    routingReason: routing.reason,
    // null until routed: routing always records its reason.
    sla:
      routing.reason === null
        ? null
        : { dueAt: routing.dueAt, breaches: routing.breaches, respondedAt: routing.respondedAt, responseMs: routing.responseMs },
    cadence: lead.cadence
      ? { name: lead.cadence.name, version: lead.cadence.version, step: lead.cadence.step, nextStepAt: lead.cadence.nextStepAt }
      : null,
    consent: Object.fromEntries(Object.entries(lead.consent).map(([channel, record]) => [channel, record!.status])),
    source: p.source,
    sourceDetail: p.sourceDetail ?? null,
    createdAt,
    updatedAt,
    temporalUiUrl: temporalUiLink(links, lead.leadId),
  };
}
