import { randomBytes, randomUUID } from 'node:crypto';
import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import type { Sql } from '../../db/client';
import {
  insertRep,
  insertTeam,
  listAccounts,
  listReps,
  listTeams,
  repExists,
  rotateRepKey,
  teamExists,
  updateRep,
  updateTeam,
  upsertAccount,
} from '../../db/people';
import { boundedArray, email, futureTimestamp, identifier, integer, text } from '../../domain/input';
import { segments } from '../../domain/routing';
import { hashKey, requireRole } from '../auth';
import type { ApiDeps, AppEnv } from '../context';
import { ApiError, errorResponses } from '../errors';
import { createWakeUps } from '../wake-ups';

const id = identifier();
const validTimeZone = (tz: string) => {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
};
const clock = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'must be HH:MM');
/** The end of business hours may also be 24:00, the end of the day: a team open all day has no closed minute. */
const closingClock = z.string().regex(/^(([01]\d|2[0-3]):[0-5]\d|24:00)$/, 'must be HH:MM (or 24:00, the end of the day)');

const repFields = {
  name: text(200),
  email: email(),
  teamId: id.nullable().optional(),
  weight: integer(1, 100),
  capacity: integer(0, 10_000),
  active: z.boolean(),
  outOfOfficeUntil: futureTimestamp().nullable().optional(),
  managerId: id.nullable().optional(),
  slackUserId: z
    .string()
    .trim()
    .regex(/^[UW][A-Z0-9]{2,30}$/, 'must be a Slack member id such as U024BE7LH')
    .nullable()
    .optional()
    .meta({ description: 'Slack member id for Slack alerts; null or absent: no Slack' }),
  crmUserId: z
    .string()
    .trim()
    .regex(/^[A-Za-z0-9]{1,40}$/, 'must be a CRM user id such as a HubSpot owner id (12345678) or a Salesforce user id (005…)')
    .nullable()
    .optional()
    .meta({
      description:
        "the rep's user in the CRM (HubSpot owner id, Salesforce user id), the owner of what is pushed there (docs/features/crm.md); null or absent: none",
    }),
};

export const repInputSchema = z
  .strictObject({
    id: id.optional().meta({ description: 'chosen by the server (rep-…) when absent' }),
    ...repFields,
    weight: repFields.weight.default(1),
    capacity: repFields.capacity.default(50),
    active: repFields.active.default(true),
  })
  .meta({ id: 'RepInput' });
/**
 * A patch changes exactly the fields it names: built from the fields without their defaults (a
 * default would fill an omitted field and overwrite the stored value). `null` clears the nullable
 * ones (team, out of office, manager).
 */
const repPatchSchema = z.strictObject(repFields).partial().meta({ id: 'RepPatch' });
const repSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    email: z.string(),
    teamId: z.string().nullable(),
    weight: z.number(),
    capacity: z.number(),
    active: z.boolean(),
    outOfOfficeUntil: z.string().nullable(),
    managerId: z.string().nullable(),
    slackUserId: z.string().nullable(),
    crmUserId: z.string().nullable(),
  })
  .meta({ id: 'Rep' });

const teamFields = {
  name: text(200),
  countries: boundedArray(
    z
      .string()
      .regex(/^[A-Za-z]{2}$/, 'must be ISO 3166-1 alpha-2')
      .transform((c) => c.toUpperCase()),
    250,
  ),
  segments: boundedArray(z.enum(segments), segments.length),
  businessHours: z.strictObject({
    timeZone: z.string().max(100).refine(validTimeZone, 'must be an IANA time zone such as America/New_York'),
    days: boundedArray(integer(1, 7), 7, 1).meta({ description: 'ISO weekdays, Monday = 1' }),
    start: clock,
    end: closingClock,
  }),
  managerId: id.nullable().optional(),
};
export const teamInputSchema = z
  .strictObject({
    id: id.optional(),
    ...teamFields,
    countries: teamFields.countries.default([]).meta({ description: 'empty: any country' }),
    segments: teamFields.segments.default([]).meta({ description: 'empty: any segment' }),
  })
  .meta({ id: 'TeamInput' });
/** As the rep patch: the fields without their defaults, so a patch changes exactly what it names; `managerId: null` clears the manager. */
const teamPatchSchema = z.strictObject(teamFields).partial().meta({ id: 'TeamPatch' });
const teamSchema = teamInputSchema.required({ id: true }).extend({ managerId: z.string().nullable() }).meta({ id: 'Team' });

export const accountInputSchema = z
  .strictObject({
    domain: z
      .string()
      .trim()
      .toLowerCase()
      .max(253)
      .regex(/^[a-z0-9-]+(\.[a-z0-9-]+)+$/, 'must be a domain such as acme.io'),
    name: text(300),
    ownerId: id.nullable().optional(),
  })
  .meta({ id: 'Account' });

const opsOnly = requireRole('ops');
const json = <T extends z.ZodType>(schema: T) => ({ content: { 'application/json': { schema } } });

const existence = { team: teamExists, rep: repExists };

/** A team or rep named in a body must exist. */
async function assertExists(sql: Sql, what: keyof typeof existence, value: string | null | undefined, path: string) {
  if (!value) return;
  if (!(await existence[what](sql, value)))
    throw new ApiError(400, 'validation_failed', `invalid body: ${path}`, [{ path, message: `no ${what} with id ${value}` }]);
}

const conflict = (what: string) => new ApiError(409, 'conflict', `${what} already exists`);

/** A new rep key: returned once, stored only as its hash. */
const newRepKey = () => `rk_${randomBytes(24).toString('base64url')}`;

/**
 * Reps, teams and accounts (docs/api.md): routing data, managed by ops. `repKeysChanged` is told
 * when a rep's key may have started to work (a rep created, changed or given a new key): app.ts
 * forgets the unknown keys it remembered, so a reactivated rep is let in at once by this process.
 */
export function peopleRoutes(deps: ApiDeps, { repKeysChanged = () => {} }: { repKeysChanged?: () => void } = {}) {
  const { sql } = deps;
  // Every change here may let waiting leads find an owner: those it could serve are woken, in the
  // background (the answer does not wait), and each also retries on its own backoff.
  const wakeUps = deps.wakeUps ?? createWakeUps(deps);
  return new OpenAPIHono<AppEnv>()
    .openapi(
      createRoute({
        method: 'get',
        path: '/reps',
        tags: ['routing data'],
        summary: 'All reps',
        security: [{ apiKey: [] }],
        middleware: opsOnly,
        responses: { 200: { description: 'reps', ...json(z.object({ reps: z.array(repSchema) })) }, ...errorResponses(401, 403) },
      }),
      async (c) => c.json({ reps: await listReps(sql) }, 200),
    )
    .openapi(
      createRoute({
        method: 'post',
        path: '/reps',
        tags: ['routing data'],
        summary: 'Add a rep; its API key is returned once',
        security: [{ apiKey: [] }],
        middleware: opsOnly,
        request: { body: { required: true, ...json(repInputSchema) } },
        responses: {
          201: { description: 'the rep and its API key', ...json(repSchema.extend({ apiKey: z.string() })) },
          ...errorResponses(400, 401, 403, 409, 413, 415, 422),
        },
      }),
      async (c) => {
        const input = c.req.valid('json');
        await assertExists(sql, 'team', input.teamId, 'teamId');
        const apiKey = newRepKey();
        const repId = input.id ?? `rep-${randomUUID().slice(0, 8)}`;
        const rep = await insertRep(sql, {
          ...input,
          id: repId,
          teamId: input.teamId ?? null,
          outOfOfficeUntil: input.outOfOfficeUntil ?? null,
          slackUserId: input.slackUserId ?? null,
          crmUserId: input.crmUserId ?? null,
          managerId: input.managerId ?? null,
          apiKeyHash: hashKey(apiKey),
        });
        repKeysChanged();
        if (!rep) throw conflict(`rep ${repId}`);
        wakeUps.changed({ reps: [rep.id], teams: rep.teamId ? [rep.teamId] : [] });
        return c.json({ ...rep, apiKey }, 201);
      },
    )
    .openapi(
      createRoute({
        method: 'patch',
        path: '/reps/{id}',
        tags: ['routing data'],
        summary: 'Change a rep (team, weight, capacity, active, out of office, manager)',
        security: [{ apiKey: [] }],
        middleware: opsOnly,
        request: { params: z.object({ id }), body: { required: true, ...json(repPatchSchema) } },
        responses: { 200: { description: 'the rep', ...json(repSchema) }, ...errorResponses(400, 401, 403, 404, 413, 415) },
      }),
      async (c) => {
        const { id: repId } = c.req.valid('param');
        const patch = c.req.valid('json');
        await assertExists(sql, 'team', patch.teamId, 'teamId');
        const rep = await updateRep(sql, repId, patch);
        repKeysChanged();
        if (!rep) throw new ApiError(404, 'not_found', `no rep with id ${repId}`);
        // Its team now and the accounts it owns (their leads follow it to a new team). Not a team it
        // left: a rep leaving gives nobody there an owner.
        wakeUps.changed({ reps: [rep.id], teams: rep.teamId ? [rep.teamId] : [] });
        return c.json(rep, 200);
      },
    )
    .openapi(
      createRoute({
        method: 'post',
        path: '/reps/{id}/api-key',
        tags: ['routing data'],
        summary: "Rotate a rep's API key: the new key is returned once, the old one stops working at once",
        security: [{ apiKey: [] }],
        middleware: opsOnly,
        request: {
          params: z.object({ id }),
          body: { required: false, ...json(z.strictObject({}).meta({ description: 'empty: send {}' })) },
        },
        responses: {
          201: {
            description:
              'the rep and its new API key (null, with apiKeyOmitted, when an Idempotency-Key replays the answer: keys are never stored)',
            ...json(repSchema.extend({ apiKey: z.string().nullable(), apiKeyOmitted: z.boolean().optional() })),
          },
          ...errorResponses(400, 401, 403, 404, 413, 415, 422),
        },
      }),
      async (c) => {
        const { id: repId } = c.req.valid('param');
        const apiKey = newRepKey();
        const rep = await rotateRepKey(sql, repId, hashKey(apiKey));
        repKeysChanged();
        if (!rep) throw new ApiError(404, 'not_found', `no rep with id ${repId}`);
        return c.json({ ...rep, apiKey }, 201);
      },
    )
    .openapi(
      createRoute({
        method: 'get',
        path: '/teams',
        tags: ['routing data'],
        summary: 'All teams, in routing order',
        security: [{ apiKey: [] }],
        middleware: opsOnly,
        responses: { 200: { description: 'teams', ...json(z.object({ teams: z.array(teamSchema) })) }, ...errorResponses(401, 403) },
      }),
      async (c) => c.json({ teams: await listTeams(sql) }, 200),
    )
    .openapi(
      createRoute({
        method: 'post',
        path: '/teams',
        tags: ['routing data'],
        summary: 'Add a team (matched in the order teams were added)',
        security: [{ apiKey: [] }],
        middleware: opsOnly,
        request: { body: { required: true, ...json(teamInputSchema) } },
        responses: { 201: { description: 'the team', ...json(teamSchema) }, ...errorResponses(400, 401, 403, 409, 413, 415, 422) },
      }),
      async (c) => {
        const input = c.req.valid('json');
        const teamId = input.id ?? `team-${randomUUID().slice(0, 8)}`;
        if (!(await insertTeam(sql, { ...input, id: teamId, managerId: input.managerId ?? null }))) throw conflict(`team ${teamId}`);
        wakeUps.changed({ teams: [teamId] });
        return c.json({ ...input, id: teamId, managerId: input.managerId ?? null }, 201);
      },
    )
    .openapi(
      createRoute({
        method: 'patch',
        path: '/teams/{id}',
        tags: ['routing data'],
        summary: 'Change a team (name, countries, segments, business hours, manager); its place in the routing order stays',
        security: [{ apiKey: [] }],
        middleware: opsOnly,
        request: { params: z.object({ id }), body: { required: true, ...json(teamPatchSchema) } },
        responses: { 200: { description: 'the team', ...json(teamSchema) }, ...errorResponses(400, 401, 403, 404, 413, 415) },
      }),
      async (c) => {
        const { id: teamId } = c.req.valid('param');
        const patch = c.req.valid('json');
        await assertExists(sql, 'rep', patch.managerId, 'managerId');
        const team = await updateTeam(sql, teamId, patch);
        if (!team) throw new ApiError(404, 'not_found', `no team with id ${teamId}`);
        // A wider territory or longer hours may serve leads that wait unassigned.
        wakeUps.changed({ teams: [teamId] });
        return c.json(team, 200);
      },
    )
    .openapi(
      createRoute({
        method: 'get',
        path: '/accounts',
        tags: ['routing data'],
        summary: 'All accounts',
        security: [{ apiKey: [] }],
        middleware: opsOnly,
        responses: {
          200: { description: 'accounts', ...json(z.object({ accounts: z.array(accountInputSchema) })) },
          ...errorResponses(401, 403),
        },
      }),
      async (c) => c.json({ accounts: await listAccounts(sql) }, 200),
    )
    .openapi(
      createRoute({
        method: 'post',
        path: '/accounts',
        tags: ['routing data'],
        summary: 'Add or replace an account and its owner',
        security: [{ apiKey: [] }],
        middleware: opsOnly,
        request: { body: { required: true, ...json(accountInputSchema) } },
        responses: { 201: { description: 'the account', ...json(accountInputSchema) }, ...errorResponses(400, 401, 403, 413, 415, 422) },
      }),
      async (c) => {
        const input = c.req.valid('json');
        await assertExists(sql, 'rep', input.ownerId, 'ownerId');
        await upsertAccount(sql, { ...input, ownerId: input.ownerId ?? null });
        wakeUps.changed({ domains: [input.domain] });
        return c.json({ ...input, ownerId: input.ownerId ?? null }, 201);
      },
    );
}
