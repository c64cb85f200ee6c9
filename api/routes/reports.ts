import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import { agingBuckets, funnelReport, responseBuckets } from '../../db/reports';
import { identifier, isBoundedWindow, maxWindowDays, timestamp } from '../../domain/input';
import { leadSources, leadStatuses } from '../../domain/lead';
import { priorities } from '../../domain/sla';
import { requireRole } from '../auth';
import type { ApiDeps, AppEnv } from '../context';
import { ApiError, errorResponses } from '../errors';

const defaultWindowDays = 30;

const querySchema = z
  .object({
    from: timestamp()
      .optional()
      .meta({ description: `leads captured at or after this time (default: \`to\` minus ${defaultWindowDays} days)` }),
    to: timestamp().optional().meta({ description: 'leads captured before this time (default: now)' }),
    teamId: identifier().optional().meta({ description: "only the team's leads (its reps, for rep load)" }),
    source: z.enum(leadSources).optional().meta({ description: 'only leads of this first-touch source' }),
  })
  .refine((q) => !q.from || !q.to || Date.parse(q.to) > Date.parse(q.from), { path: ['to'], message: 'must be after from' })
  .refine((q) => !q.from || isBoundedWindow(q.from, q.to ?? new Date().toISOString()), {
    path: ['from'],
    message: `must be at most ${maxWindowDays} days before to`,
  });

const ms = (what: string) =>
  z
    .number()
    .nullable()
    .meta({ description: `${what}, in milliseconds (null: no lead measured)` });
const rate = (what: string) =>
  z
    .number()
    .nullable()
    .meta({ description: `${what} (0–1; null when there is nothing to divide by)` });
const count = (description: string) => z.number().int().meta({ description });

const percentiles = {
  leads: count('leads with a first response, the ones measured'),
  p50Ms: ms('median response time'),
  p90Ms: ms('90th percentile response time'),
  p99Ms: ms('99th percentile response time'),
};

const reportSchema = z
  .object({
    from: z.string(),
    to: z.string(),
    teamId: z.string().nullable(),
    source: z.enum(leadSources).nullable(),
    repId: z.string().nullable().meta({ description: 'set for a rep key: every figure is limited to the leads the rep owns' }),
    responseTime: z
      .object({
        ...percentiles,
        byPriority: z.array(z.object({ priority: z.enum(priorities).nullable(), ...percentiles })),
        byTeam: z.array(z.object({ teamId: z.string().nullable(), ...percentiles })),
        distribution: z.array(z.object({ bucket: z.enum(responseBuckets.map((b) => b.bucket)), leads: z.number().int() })).meta({
          description: 'Speed to lead: how many measured leads had their first response within each time bucket (upper bounds inclusive).',
        }),
      })
      .meta({
        description:
          "Lead response time is the time from a lead's first assignment to an owner (its `assigned` event) to its owner's first response (accept or logged touch), over the window's leads that got one, overall, by the lead's priority and by its team.",
      }),
    sla: z
      .object({
        measured: count('leads whose SLA outcome is known: responded, or breached at least once'),
        withinSla: count('measured leads that got their first response without any SLA breach'),
        breachedLeads: count('leads with at least one SLA breach'),
        breaches: count('SLA breaches in all (a lead breaches once per assignment it is not answered in)'),
        complianceRate: rate('withinSla / measured'),
        byDay: z
          .array(
            z.object({
              day: z.string().meta({ description: 'UTC date of the first assignment' }),
              measured: z.number().int(),
              withinSla: z.number().int(),
              complianceRate: z.number().nullable(),
            }),
          )
          .meta({ description: 'SLA compliance over time: the same figures by the UTC day the lead was first assigned.' }),
      })
      .meta({
        description:
          'SLA compliance rate is the share of leads with a known SLA outcome that were answered within their response SLA with no breach.',
      }),
    funnel: z
      .object({
        leads: count('leads captured in the window'),
        mql: count('leads that became MQL (or went straight to SQL, passing MQL on the way)'),
        sql: count('leads that became SQL (sales-ready)'),
        converted: count('leads that converted to an opportunity'),
        mqlToSqlRate: rate('sql / mql'),
        mqlToSqlMedianMs: ms('median time from becoming MQL to becoming SQL'),
        sqlToConvertedRate: rate('SQL leads that converted / sql'),
        sqlToConvertedMedianMs: ms('median time from becoming SQL to converting'),
      })
      .meta({
        description:
          "The funnel counts the window's leads by the furthest milestones they reached (first time each), from the timeline's status changes.",
      }),
    aging: z
      .array(
        z.object({
          status: z.enum(leadStatuses),
          buckets: z.object(
            Object.fromEntries(agingBuckets.map((b) => [b.bucket, z.number().int()])) as Record<
              (typeof agingBuckets)[number]['bucket'],
              z.ZodNumber
            >,
          ),
        }),
      )
      .meta({
        description:
          'Lead aging counts the open leads now (whenever captured) by status and by whole days since capture: 0–7, 8–30, 31–90, over 90.',
      }),
    disqualificationReasons: z.array(z.object({ reason: z.string(), leads: z.number().int(), share: z.number() })).meta({
      description:
        "The disqualification reason mix counts the window's disqualified leads by their reason, with each reason's share of them.",
    }),
    bySource: z
      .array(z.object({ source: z.enum(leadSources), leads: z.number().int(), conversions: z.number().int(), amount: z.number() }))
      .meta({
        description:
          "Leads and conversions by source count the window's leads and those that converted by first-touch source, with the sum of the converted opportunities' amounts.",
      }),
    repFollowUp: z
      .array(
        z.object({ repId: z.string(), acceptedLeads: z.number().int(), touches: z.number().int(), touchesPerAcceptedLead: z.number() }),
      )
      .meta({
        description:
          "Rep follow-up is the number of touches logged on the window's accepted leads divided by those leads, per rep owning them.",
      }),
    repLoad: z
      .array(
        z.object({
          repId: z.string(),
          teamId: z.string().nullable(),
          active: z.boolean(),
          openLeads: z.number().int(),
          capacity: z.number().int(),
          utilisation: z.number().nullable(),
        }),
      )
      .meta({
        description:
          "Rep load is each rep's open leads now (`sql` or `accepted`, what routing counts) against its capacity, whatever the window or source.",
      }),
    unassigned: z
      .object({
        leads: z.number().int(),
        oldest: z.object({ leadId: z.string(), createdAt: z.string(), ageMs: z.number() }).nullable(),
      })
      .nullable()
      .meta({
        description:
          'The unassigned queue is the sales-ready leads with no owner now, with the earliest captured of them (null for a rep key).',
      }),
  })
  .meta({ id: 'FunnelReport' });

const funnelRoute = createRoute({
  method: 'get',
  path: '/reports/funnel',
  tags: ['reports'],
  summary:
    'SLA and funnel report: response time, SLA compliance, MQL→SQL→converted, aging, DQ reasons, sources, rep follow-up and load, unassigned queue',
  description:
    'Computed from Postgres. Figures about leads count the leads captured in [from, to) (of `teamId`, of `source`); aging, rep load and the unassigned queue describe the state now under the same team and source. A rep key sees only its own numbers: leads it owns and its own load.',
  security: [{ apiKey: [] }],
  middleware: [requireRole('ops', 'marketing', 'rep')] as const,
  request: { query: querySchema },
  responses: {
    200: { description: 'the report', content: { 'application/json': { schema: reportSchema } } },
    ...errorResponses(400, 401, 403),
  },
});

export function reportRoutes({ sql }: ApiDeps) {
  return new OpenAPIHono<AppEnv>().openapi(funnelRoute, async (c) => {
    const query = c.req.valid('query');
    const principal = c.get('principal');
    const to = query.to ? new Date(query.to).toISOString() : new Date().toISOString();
    const from = query.from ? new Date(query.from).toISOString() : new Date(Date.parse(to) - defaultWindowDays * 86_400_000).toISOString();
    if (Date.parse(from) >= Date.parse(to)) {
      throw new ApiError(400, 'validation_failed', 'invalid query: from', [{ path: 'from', message: 'must be before to (default: now)' }]);
    }
    const repId = principal.role === 'rep' ? principal.repId! : undefined;
    const report = await funnelReport(sql, { from, to, teamId: query.teamId, source: query.source, ownerId: repId });
    return c.json({ from, to, teamId: query.teamId ?? null, source: query.source ?? null, repId: repId ?? null, ...report }, 200);
  });
}
