import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import { createMiddleware } from 'hono/factory';
import ky from 'ky';
import { z as zod } from 'zod';
import { findLeadState } from '../../db/leads';
import { slackMessagesOf } from '../../db/outbox';
import { slackLeadSummary, slackRep } from '../../db/slack';
import { actionBodies } from '../../domain/action-bodies';
import { checkActionLinkToken, linkActionEffects, type ActionLink } from '../../domain/action-links';
import { closedStatuses, type LeadStatus } from '../../domain/lead';
import { durationMs } from '../../domain/duration';
import {
  slackActions,
  slackActionTokens,
  slackAlertMessage,
  slackDone,
  type SlackAction,
  type SlackAlert,
  type SlackMessage,
} from '../../domain/slack-blocks';
import { errorFields, type Logger } from '../../observability/logger';
import type { ApiDeps, AppEnv } from '../context';
import { ApiError, errorResponses } from '../errors';
import { takeAction } from '../lead-actions';
import { slackRequestRefusal } from '../slack-signature';

type SlackApp = NonNullable<ApiDeps['slack']>;

/** Slack answers an interaction request as failed after 3 seconds (https://docs.slack.dev/interactivity/handling-user-interaction#acknowledgment_response). */
const answerWithinMs = 2_500;

/** The part of a `block_actions` payload we read (https://docs.slack.dev/reference/interaction-payloads/block_actions-payload). */
const blockActions = zod.object({
  type: zod.string(),
  user: zod.object({ id: zod.string() }),
  response_url: zod.string().url().optional(),
  container: zod.object({ channel_id: zod.string().optional(), message_ts: zod.string().optional() }).optional(),
  actions: zod
    .array(
      zod.object({ action_id: zod.string().max(255), type: zod.string(), selected_option: zod.object({ value: zod.string() }).nullish() }),
    )
    .default([]),
});
type BlockActions = zod.infer<typeof blockActions>;

/** Verifies Slack's signature over the raw body before anything reads it (api/slack-signature.ts); no Slack app here: 404. */
function slackSignature(slack: SlackApp | undefined) {
  return createMiddleware<AppEnv>(async (c, next) => {
    if (!slack) throw new ApiError(404, 'not_found', 'the Slack app is not configured here (SLACK_BOT_TOKEN)');
    const refusal = slackRequestRefusal(
      slack.signingSecret,
      { signature: c.req.header('x-slack-signature'), timestamp: c.req.header('x-slack-request-timestamp') },
      await c.req.text(),
    );
    if (refusal) throw new ApiError(401, 'bad_signature', refusal);
    await next();
  });
}

/** Why a click was not taken, in words that name nobody, for the rep's eyes only. */
const refusals = {
  token: 'This button no longer works: open the lead from a newer alert.',
  notYou: 'Only the rep this lead was sent to can act on it from here.',
  reassigned: 'This lead was reassigned: you no longer own it, so the button does nothing.',
};

/**
 * Slack interactivity (docs/features/email-and-notifications.md "Slack"): the buttons of a Slack
 * alert post here, signed by Slack. The clicking Slack user must be the Slack user of the rep the
 * button's token names (anyone else gets an ephemeral refusal and nothing changes); the action
 * goes through the lead's workflow as the action links take it (api/lead-actions.ts), once per
 * button however often it is clicked, and the messages about the lead to that rep are updated in place.
 */
export function slackRoutes(deps: ApiDeps) {
  const { slack } = deps;
  const validForMs = durationMs(deps.config.notify.actionLinksValidFor);

  /** Tells only the clicking user (an ephemeral message through the interaction's response_url). */
  async function tell(interaction: BlockActions, text: string) {
    const url = interaction.response_url;
    if (!url || !slack!.responseOrigins.includes(new URL(url).origin)) return;
    await ky.post(url, { json: { response_type: 'ephemeral', replace_original: false, text }, timeout: 5_000, retry: 0 });
  }

  /**
   * Updates the Slack messages about the lead to the rep (all of them, or only the clicked one),
   * rendered afresh from the lead's row: a failed update is logged, the others still go.
   */
  async function updateMessages(
    log: Logger,
    link: ActionLink,
    render: (alert: Pick<SlackAlert, 'message' | 'lead'>) => SlackMessage,
    only?: string,
  ) {
    const [messages, lead] = await Promise.all([
      slackMessagesOf(deps.sql, link.leadId, link.repId),
      slackLeadSummary(deps.sql, link.leadId),
    ]);
    const results = await Promise.allSettled(
      messages
        .filter((m) => only === undefined || m.ts === only)
        .map((m) => slack!.client.chat.update({ channel: m.channel, ts: m.ts, ...render({ message: m.message, lead }) })),
    );
    for (const result of results)
      if (result.status === 'rejected')
        log.warn({ ...errorFields(result.reason), leadId: link.leadId }, 'a Slack message could not be updated');
  }

  /** Why the workflow refused, in the rep's words. */
  async function refusal(error: ApiError, link: ActionLink): Promise<string> {
    if (error.status === 404) return refusals.reassigned;
    if (error.status === 409) {
      const status = (await findLeadState(deps.sql, link.leadId))?.status as LeadStatus | undefined;
      if (status && closedStatuses.includes(status)) return `This lead is ${status} and takes no more actions.`;
      if (link.action === 'accept' && status === 'accepted') return 'This lead is already accepted.';
    }
    return `Not done: ${error.message}.`;
  }

  async function handle(interaction: BlockActions, log: Logger) {
    const clicked = interaction.actions[0];
    if (!clicked) return;
    const check = deps.actionLinkSecret ? checkActionLinkToken(deps.actionLinkSecret, clicked.action_id) : undefined;
    if (!check || 'problem' in check || !(slackActions as readonly string[]).includes(check.action))
      return tell(interaction, refusals.token);
    const link = check;
    const rep = await slackRep(deps.sql, link.repId);
    if (!rep?.slackUserId || rep.slackUserId !== interaction.user.id) return tell(interaction, refusals.notYou);
    const action = link.action as SlackAction;
    const updateId = `slack-${createHash('sha256').update(clicked.action_id).digest('base64url').slice(0, 22)}`;
    // Disqualify asks why first: in the clicked message the button turns into a choice of reasons,
    // whose token is the button's; the other buttons get fresh tokens of the same alert (its nonce).
    if (action === 'disqualify' && clicked.type === 'button') {
      const tokens = {
        ...slackActionTokens(deps.actionLinkSecret!, link, new Date(Date.now() + validForMs)),
        disqualify: clicked.action_id,
      };
      return updateMessages(
        log,
        link,
        (alert) => slackAlertMessage({ ...alert, tokens, choosingReason: true }),
        interaction.container?.message_ts ?? '',
      );
    }
    const body = action === 'disqualify' ? { reason: clicked.selected_option?.value } : linkActionEffects[action].body;
    const parsed = actionBodies[linkActionEffects[action].name].safeParse(body);
    if (!parsed.success) return tell(interaction, 'Not done: choose one of the reasons.');
    try {
      await takeAction(
        deps,
        link.leadId,
        linkActionEffects[action].name,
        parsed.data as object,
        { role: 'rep', repId: link.repId },
        { updateId },
      );
    } catch (error) {
      if (error instanceof ApiError) return tell(interaction, await refusal(error, link));
      throw error;
    }
    const done = { what: slackDone[action], by: rep.name, at: new Date() };
    await updateMessages(log, link, (alert) => slackAlertMessage({ ...alert, done }));
  }

  const routes = new OpenAPIHono<AppEnv>();
  routes.use('/slack/interactions', slackSignature(slack));
  return routes.openapi(
    createRoute({
      method: 'post',
      path: '/slack/interactions',
      tags: ['slack'],
      summary: "The Slack app's interactivity request URL: a rep's click on a Slack alert's button (signed by Slack, no API key)",
      description:
        "Slack posts `payload` (the interaction, JSON) form-encoded, signed with the app's signing secret (`X-Slack-Signature`, `X-Slack-Request-Timestamp`, five minutes). " +
        "Answered 200 with no body within Slack's 3 seconds; what the click did shows as the message updated in place, or an ephemeral message to the clicking user.",
      request: {
        body: { content: { 'application/x-www-form-urlencoded': { schema: z.object({ payload: z.string() }) } }, required: true },
      },
      responses: { 200: { description: 'received (Slack shows nothing for it)' }, ...errorResponses(400, 401, 404) },
    }),
    async (c) => {
      let raw: unknown;
      try {
        raw = JSON.parse(c.req.valid('form').payload);
      } catch {
        throw new ApiError(400, 'validation_failed', 'payload is not JSON');
      }
      const parsed = blockActions.safeParse(raw);
      if (!parsed.success) throw new ApiError(400, 'validation_failed', 'payload is not a Slack interaction');
      const interaction = parsed.data;
      if (interaction.type !== 'block_actions') return c.body(null, 200);
      const log = c.var.log;
      const work = handle(interaction, log).catch((error) => log.warn(errorFields(error), 'a Slack interaction could not be handled'));
      // Answer within Slack's limit whatever happens; the work goes on if it takes longer.
      await Promise.race([work, sleep(answerWithinMs, undefined, { ref: false })]);
      return c.body(null, 200);
    },
  );
}
