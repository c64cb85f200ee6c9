import { z } from '@hono/zod-openapi';
import type { Sql } from '../db/client';
import type { LeadRow } from '../db/rows';
import { cadenceLabelSchema } from '../domain/cadence-bodies';
import { consentStates, leadSources, leadStatuses } from '../domain/lead';
import type { Principal } from './auth';
import { ApiError } from './errors';

/** A lead id in a path: `lead-` and 24 hex digits. */
export const leadIdParam = z.object({
  id: z
    .string()
    .regex(/^lead-[0-9a-f]{24}$/, 'must be a lead id such as lead-0123456789abcdef01234567')
    .meta({ param: { name: 'id', in: 'path' }, example: 'lead-5f2b9c0e1d3a4b6c7d8e9f01' }),
});

const scoreLineSchema = z.object({ rule: z.string(), points: z.number().int(), reason: z.string() });

/** `GET /leads/{id}` (API.md, "Reading"). */
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
      .meta({ description: 'the nurture cadence the lead is enrolled in (mql, not_ready), pinned to a version; null otherwise', example: { name: 'mql-nurture', version: 3, step: 2, nextStepAt: '2026-12-01T09:00:00.000Z' } }),
    consent: z.record(z.string(), z.enum(consentStates)).meta({ example: { email: 'opted_in' } }),
    source: z.enum(leadSources),
    sourceDetail: z.string().nullable(),
    createdAt: z.string(),
    updatedAt: z.string(),
    temporalUiUrl: z.string(),
  })
  .meta({ id: 'Lead' });
export type LeadView = z.infer<typeof leadViewSchema>;

/** Reps see only the leads they own; ops and marketing see all. */
export function assertMayRead(principal: Principal, lead: { owner_id: string | null }, id: string) {
  if (principal.role === 'rep' && lead.owner_id !== principal.repId) {
    throw new ApiError(403, 'forbidden', `lead ${id} is not owned by ${principal.repId}`);
  }
}

export const leadNotFound = (id: string) => new ApiError(404, 'not_found', `no lead with id ${id}`);

type Links = { temporalUiUrl: string; namespace: string };

/** Reads a lead from the read model, for a caller allowed to see it. */
export async function readLead(sql: Sql, id: string, principal: Principal, links: Links): Promise<LeadView> {
  const [row] = await sql<LeadRow[]>`SELECT * FROM leads WHERE lead_id = ${id}`;
  if (!row) throw leadNotFound(id);
  assertMayRead(principal, row, id);
  return leadView(row, links);
}

/** `GET /leads` (API.md, "Reading"); `cadence` is an addition: `mql-nurture` or `mql-nurture@2`, as in the `CadenceVersion` search attribute. */
export const leadListQuerySchema = z.object({
  status: z.enum(leadStatuses).optional(),
  ownerId: z.string().trim().min(1).max(100).optional(),
  source: z.enum(leadSources).optional(),
  cadence: cadenceLabelSchema.optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: z.string().max(200).optional().meta({ description: 'nextCursor of the previous page' }),
});
export type LeadListQuery = z.infer<typeof leadListQuerySchema>;

export const leadListSchema = z
  .object({ leads: z.array(leadViewSchema), nextCursor: z.string().nullable().meta({ description: 'null on the last page' }) })
  .meta({ id: 'LeadList' });

const encodeCursor = (createdAt: string, leadId: string) => Buffer.from(JSON.stringify([createdAt, leadId])).toString('base64url');
function decodeCursor(cursor: string): [string, string] {
  try {
    const value: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (Array.isArray(value) && value.length === 2 && value.every((v) => typeof v === 'string') && !Number.isNaN(Date.parse(value[0]!))) {
      return value as [string, string];
    }
  } catch {
    // not ours: answered below
  }
  throw new ApiError(400, 'validation_failed', 'invalid query: cursor', [{ path: 'cursor', message: 'must be the nextCursor of a previous page' }]);
}

/**
 * Leads newest first from the read model, a page at a time (keyset pagination on creation time,
 * stable while leads change). Reps see only their own leads.
 */
export async function listLeads(sql: Sql, query: LeadListQuery, principal: Principal, links: Links) {
  let ownerId = query.ownerId;
  if (principal.role === 'rep') {
    if (ownerId && ownerId !== principal.repId) throw new ApiError(403, 'forbidden', `a rep key lists only its own leads (${principal.repId})`);
    ownerId = principal.repId!;
  }
  const [cadenceName, cadenceVersion] = query.cadence ? query.cadence.split('@') : [];
  const after = query.cursor ? decodeCursor(query.cursor) : undefined;
  const rows = await sql<(LeadRow & { cursor_at: string })[]>`
    SELECT *, created_at::text AS cursor_at FROM leads
    WHERE true
      ${query.status ? sql`AND status = ${query.status}` : sql``}
      ${ownerId ? sql`AND owner_id = ${ownerId}` : sql``}
      ${query.source ? sql`AND source = ${query.source}` : sql``}
      ${cadenceName ? sql`AND cadence->>'name' = ${cadenceName}` : sql``}
      ${cadenceVersion ? sql`AND (cadence->>'version')::int = ${Number(cadenceVersion)}` : sql``}
      ${after ? sql`AND (created_at, lead_id) < (${after[0]}::timestamptz, ${after[1]})` : sql``}
    ORDER BY created_at DESC, lead_id DESC
    LIMIT ${query.limit + 1}`;
  const page = rows.slice(0, query.limit);
  const last = page.at(-1);
  return { leads: page.map((row) => leadView(row, links)), nextCursor: rows.length > query.limit && last ? encodeCursor(last.cursor_at, last.lead_id) : null };
}

function leadView(row: LeadRow, links: Links): LeadView {
  return {
    leadId: row.lead_id,
    status: row.status,
    statusReason: row.status_reason,
    email: row.email,
    firstName: row.first_name,
    lastName: row.last_name,
    company: row.company,
    title: row.title,
    phone: row.phone,
    country: row.country,
    employees: row.employees,
    industry: row.industry,
    techStack: row.tech_stack,
    fundingStage: row.funding_stage,
    enrichment: row.enrichment,
    score: row.score,
    grade: row.grade,
    scoreBreakdown: row.score_breakdown,
    scoreModelVersion: row.score_model_version,
    priority: row.priority,
    ownerId: row.owner_id,
    teamId: row.team_id,
    routingReason: row.routing_reason,
    sla: row.routing_reason === null
      ? null
      : {
          dueAt: row.sla_due_at?.toISOString() ?? null,
          breaches: row.sla_breaches,
          respondedAt: row.responded_at?.toISOString() ?? null,
          responseMs: row.response_ms === null ? null : Number(row.response_ms),
        },
    cadence: row.cadence && { name: row.cadence.name, version: row.cadence.version, step: row.cadence.step, nextStepAt: row.cadence.nextStepAt },
    consent: Object.fromEntries(Object.entries(row.consent).map(([channel, record]) => [channel, record!.status])),
    source: row.source,
    sourceDetail: row.source_detail,
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
    temporalUiUrl: `${links.temporalUiUrl}/namespaces/${encodeURIComponent(links.namespace)}/workflows/${row.lead_id}`,
  };
}
