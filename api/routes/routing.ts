import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import { findLead } from '../../db/leads';
import type { Sql } from '../../db/client';
import { listRoutingDecisions, previewRouting, type DecisionPosition, type RoutingContext } from '../../db/routing';
import {
  countryCode,
  email,
  identifier,
  integer,
  isBoundedWindow,
  isInWindow,
  maxWindowDays,
  opaqueKey,
  timestamp,
} from '../../domain/input';
import { leadSources, leadStatuses } from '../../domain/lead';
import { segmentOf, segments, teamMismatch } from '../../domain/routing';
import { routingOutcomes, type RoutingStep } from '../../domain/routing-decision';
import { emailDomainOf } from '../../domain/scoring';
import { priorities, slaClock } from '../../domain/sla';
import { requireRole } from '../auth';
import type { ApiDeps, AppEnv } from '../context';
import { keysetCursor } from '../cursor';
import { errorResponses } from '../errors';
import { leadIdPattern, leadNotFound, temporalUiLink } from '../lead-view';

// Routing preview and the routing log (docs/features/routing.md, "Preview" and "The routing log"):
// ops only, like the routing data they explain.

const opsOnly = requireRole('ops');
const json = <T extends z.ZodType>(schema: T) => ({ content: { 'application/json': { schema } } });
const leadId = z.string().regex(leadIdPattern, 'must be a lead id such as lead-0123456789abcdef01234567');

const domainSchema = z
  .string()
  .trim()
  .toLowerCase()
  .max(253)
  .regex(/^[a-z0-9-]+(\.[a-z0-9-]+)+$/, 'must be a domain such as acme.io');

/** A lead profile, as a capture gives it, reduced to what routing reads. */
const previewProfileSchema = z
  .strictObject({
    email: email().optional().meta({ description: 'the account is matched by its domain', example: 'jane@acme.io' }),
    emailDomain: domainSchema.optional().meta({ description: 'instead of email', example: 'acme.io' }),
    source: z.enum(leadSources).meta({ description: 'the SLA priority comes from it', example: 'demo_request' }),
    country: countryCode().optional(),
    employees: integer(1, 10_000_000).optional().meta({ description: 'company size: the segment comes from it' }),
    segment: z.enum(segments).optional().meta({ description: 'instead of employees' }),
  })
  .refine((p) => !(p.email && p.emailDomain), { path: ['emailDomain'], message: 'give email or emailDomain, not both' })
  .refine((p) => !(p.employees !== undefined && p.segment), { path: ['segment'], message: 'give employees or segment, not both' });

const previewBodySchema = z
  .strictObject({
    leadId: leadId
      .optional()
      .meta({ description: 'an existing lead: its stored profile is routed', example: 'lead-5f2b9c0e1d3a4b6c7d8e9f01' }),
    lead: previewProfileSchema.optional().meta({ description: 'a lead profile (instead of leadId)' }),
  })
  .refine((b) => (b.leadId === undefined) !== (b.lead === undefined), { path: ['leadId'], message: 'give leadId or lead, one of them' })
  .meta({ id: 'RoutingPreviewRequest' });

/** How many of the teams passed over a preview lists. */
const maxTerritories = 100;

const repSkipSchema = z.enum(['inactive', 'out_of_office', 'at_capacity', 'breached_sla', 'unknown']);
const stepSchema = z
  .discriminatedUnion('step', [
    z.object({
      step: z.literal('account'),
      account: z.string(),
      domain: z.string(),
      ownerId: z.string(),
      skipped: repSkipSchema.nullable().meta({ description: 'why the owner did not get the lead; null: they did' }),
      teamId: z.string().nullable().meta({ description: "the owner's team, whose round robin then takes the lead" }),
      teamName: z.string().nullable(),
    }),
    z.object({
      step: z.literal('territory'),
      country: z.string().nullable(),
      segment: z.enum(segments),
      teamId: z.string().nullable().meta({ description: 'the first team in routing order that covers the lead; null: none' }),
      teamName: z.string().nullable(),
    }),
    z.object({
      step: z.literal('round_robin'),
      teamId: z.string(),
      eligible: z.array(z.string()),
      skipped: z.array(z.object({ repId: z.string(), why: repSkipSchema })),
      pick: z.string().nullable().meta({ description: 'null: nobody eligible, the unassigned queue' }),
    }),
  ])
  .meta({ id: 'RoutingStep' });

const previewSchema = z
  .object({
    at: z.string().meta({ description: 'the moment judged: availability, business hours, the SLA clock' }),
    lead: z.object({
      leadId: z.string().nullable(),
      status: z.enum(leadStatuses).nullable().meta({ description: "an existing lead's status (routing runs once a lead is sql)" }),
      emailDomain: z.string().nullable(),
      country: z.string().nullable(),
      segment: z.enum(segments),
      source: z.enum(leadSources),
    }),
    account: z
      .object({ domain: z.string(), name: z.string(), ownerId: z.string().nullable() })
      .nullable()
      .meta({ description: "the account of the lead's email domain" }),
    territories: z
      .object({
        teams: z
          .array(z.object({ teamId: z.string(), name: z.string(), matched: z.boolean(), why: z.enum(['not_in_segment']).nullable() }))
          .meta({
            description: `the teams whose countries cover the lead, in routing order, up to the first whose segments do too (at most ${maxTerritories})`,
          }),
        otherCountries: z
          .number()
          .int()
          .meta({ description: 'teams before the match passed over because their countries leave the lead out' }),
      })
      .nullable()
      .meta({ description: 'how territory matching went; null when the account owner (or their team) decided' }),
    path: z.array(stepSchema).meta({ description: 'the reason path, as the routing log records it' }),
    outcome: z.enum(routingOutcomes),
    ownerId: z.string().nullable().meta({ description: 'the pick; null: the unassigned queue' }),
    teamId: z.string().nullable(),
    reason: z.string().meta({ description: "the routing reason the lead's timeline would show" }),
    priority: z.enum(priorities),
    sla: z.string().meta({ description: 'ISO-8601 duration of the response SLA' }),
    slaReason: z.string(),
    dueAt: z.string().nullable().meta({ description: 'when the SLA would be breached if assigned now; null when unassigned' }),
  })
  .meta({ id: 'RoutingPreview' });

const defaultWindowDays = 90;
const dayMs = 24 * 3600_000;

const decisionsQuerySchema = z
  .object({
    leadId: leadId.optional(),
    repId: identifier().optional().meta({ description: 'decisions that gave the lead to this rep' }),
    teamId: identifier().optional(),
    outcome: z.enum(routingOutcomes).optional(),
    from: timestamp()
      .optional()
      .meta({ description: `decided at or after this time (default: \`to\` minus ${defaultWindowDays} days)` }),
    to: timestamp().optional().meta({ description: 'decided before this time (default: now)' }),
    limit: z.coerce.number().int().min(1).max(200).default(50),
    cursor: opaqueKey(600).optional().meta({ description: 'nextCursor of the previous page' }),
  })
  .refine((q) => !q.from || !q.to || Date.parse(q.to) > Date.parse(q.from), { path: ['to'], message: 'must be after from' })
  .refine((q) => !q.from || isBoundedWindow(q.from, q.to ?? new Date().toISOString()), {
    path: ['from'],
    message: `must be at most ${maxWindowDays} days before to`,
  });

const decisionSchema = z
  .object({
    leadId: z.string(),
    decidedAt: z.string(),
    outcome: z.enum(routingOutcomes),
    repId: z.string().nullable(),
    teamId: z.string().nullable(),
    reason: z.string(),
    priority: z.enum(priorities),
    sla: z.string(),
    path: z.array(stepSchema).nullable().meta({ description: 'null for decisions recorded before the path was' }),
    links: z.object({ lead: z.string().meta({ example: '/leads/lead-5f2b9c0e1d3a4b6c7d8e9f01' }), temporalUiUrl: z.string() }),
  })
  .meta({ id: 'RoutingDecision' });

const decisionListSchema = z
  .object({ decisions: z.array(decisionSchema), nextCursor: z.string().nullable().meta({ description: 'null on the last page' }) })
  .meta({ id: 'RoutingDecisionList' });

// Checked in full: a forged cursor's time reaches Postgres, which rejects years it cannot hold.
const cursor = keysetCursor<DecisionPosition>(
  (value) =>
    value.length === 3 && isInWindow(value[0]!) && leadIdPattern.test(value[1]!) && value[2]!.length > 0 && value[2]!.length <= 200,
);

/** The lead a preview routes: an existing lead's stored profile, or the profile given. */
async function profileToPreview(sql: Sql, body: z.infer<typeof previewBodySchema>): Promise<PreviewedLead> {
  if (body.leadId === undefined) {
    const p = body.lead!;
    const emailDomain = p.emailDomain ?? (p.email ? emailDomainOf(p.email) : null);
    return { leadId: null, status: null, emailDomain, country: p.country, segment: p.segment ?? segmentOf(p.employees), source: p.source };
  }
  const stored = await findLead(sql, body.leadId);
  if (!stored) throw leadNotFound(body.leadId);
  const { profile, status } = stored.lead;
  return {
    leadId: body.leadId,
    status,
    emailDomain: emailDomainOf(profile.email),
    country: profile.country,
    segment: segmentOf(profile.employees),
    source: profile.source,
  };
}

type PreviewedLead = Omit<z.infer<typeof previewSchema>['lead'], 'country'> & { country?: string };

/** How territory matching went: the teams of the lead's country in routing order up to the match, and how many others came before it. */
function territoriesOf(teams: RoutingContext['teams'], territory: Extract<RoutingStep, { step: 'territory' }>, lead: PreviewedLead) {
  const matchedAt = teams.findIndex((t) => t.id === territory.teamId);
  const passed = (matchedAt === -1 ? teams : teams.slice(0, matchedAt + 1)).map((team) => ({
    team,
    why: teamMismatch(team, lead.country, lead.segment),
  }));
  const inCountry = passed.filter(({ why }) => why !== 'not_in_territory');
  return {
    teams: inCountry.slice(0, maxTerritories).map(({ team, why }) => ({
      teamId: team.id,
      name: team.name,
      matched: why === undefined,
      why: why === 'not_in_segment' ? why : null,
    })),
    otherCountries: passed.length - inCountry.length,
  };
}

export function routingRoutes({ sql, config, temporalUiUrl, namespace }: ApiDeps) {
  return new OpenAPIHono<AppEnv>()
    .openapi(
      createRoute({
        method: 'post',
        path: '/routing/preview',
        tags: ['routing data'],
        summary: 'What routing would do now for a lead, step by step; nothing is written and no round robin moves',
        security: [{ apiKey: [] }],
        middleware: opsOnly,
        request: { body: { required: true, ...json(previewBodySchema) } },
        responses: {
          200: { description: 'the decision routing would take now', ...json(previewSchema) },
          ...errorResponses(400, 401, 403, 404, 413, 415),
        },
      }),
      async (c) => {
        const lead = await profileToPreview(sql, c.req.valid('json'));
        const now = new Date();
        const { context, decision } = await previewRouting(sql, { ...lead, domain: lead.emailDomain ?? '', sla: config.sla, now });
        const { assignment, path, outcome } = decision;
        const territory = path.find((s): s is Extract<RoutingStep, { step: 'territory' }> => s.step === 'territory');
        return c.json(
          {
            at: now.toISOString(),
            lead: { ...lead, country: lead.country ?? null },
            account:
              context.account && lead.emailDomain
                ? { domain: lead.emailDomain, name: context.account.name, ownerId: context.account.owner_id }
                : null,
            territories: territory ? territoriesOf(context.teams, territory, lead) : null,
            path,
            outcome,
            ownerId: assignment.ownerId,
            teamId: assignment.teamId,
            reason: assignment.reason,
            priority: assignment.priority,
            sla: assignment.sla,
            slaReason: assignment.slaReason,
            dueAt: assignment.ownerId ? slaClock(now, assignment.sla, config.escalation.reminderAt).dueAt : null,
          },
          200,
        );
      },
    )
    .openapi(
      createRoute({
        method: 'get',
        path: '/routing/decisions',
        tags: ['routing data'],
        summary: 'The routing log: decisions newest first, filtered, a page at a time',
        security: [{ apiKey: [] }],
        middleware: opsOnly,
        request: { query: decisionsQuerySchema },
        responses: {
          200: { description: 'a page of routing decisions', ...json(decisionListSchema) },
          ...errorResponses(400, 401, 403),
        },
      }),
      async (c) => {
        const query = c.req.valid('query');
        const to = query.to ?? new Date().toISOString();
        const from = query.from ?? new Date(Date.parse(to) - defaultWindowDays * dayMs).toISOString();
        const { decisions, next } = await listRoutingDecisions(sql, {
          ...query,
          from,
          to,
          after: query.cursor ? cursor.decode(query.cursor) : undefined,
        });
        return c.json(
          {
            decisions: decisions.map(({ assignment, ...d }) => ({
              leadId: d.leadId,
              decidedAt: d.decidedAt,
              outcome: d.outcome,
              repId: d.repId,
              teamId: d.teamId,
              reason: assignment.reason,
              priority: assignment.priority,
              sla: assignment.sla,
              path: d.path,
              links: { lead: `/leads/${d.leadId}`, temporalUiUrl: temporalUiLink({ temporalUiUrl, namespace }, d.leadId) },
            })),
            nextCursor: next && cursor.encode(next),
          },
          200,
        );
      },
    );
}
