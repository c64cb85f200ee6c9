import type { ActionsBlock, Button, ContextBlock, KnownBlock, SectionBlock, StaticSelect } from '@slack/types';
import { actionLinkToken, type ActionLink, type LinkAction } from './action-links';
import { disqualificationReasons, type LeadStatus } from './lead';
import { escapeSlackText } from './slack-text';

/**
 * Rep alerts as Slack messages from the Slack app (docs/features/email-and-notifications.md
 * "Slack"): the alert's words, the lead's summary, and buttons that act on the lead. Every button's
 * `action_id` is a signed action-link token (domain/action-links.ts) for one lead, one rep and one
 * action: a click is believed only for what its token says, and only from the rep's Slack user.
 * Every captured value goes through `escapeSlackText`, in a field of its own.
 */

/** What a Slack alert shows of its lead, read from the lead's row when it is posted or updated. */
export interface SlackLeadSummary {
  company: string | null;
  title: string | null;
  score: number | null;
  priority: string | null;
  slaDueAt: string | null;
  status: LeadStatus;
}

/** The actions a Slack alert's buttons take, in the order they are shown. */
export const slackActions = ['accept', 'call', 'disqualify'] as const satisfies readonly LinkAction[];
export type SlackAction = (typeof slackActions)[number];

/** Slack's limit on an `action_id` (https://docs.slack.dev/reference/block-kit/block-elements/button-element). */
export const maxActionIdChars = 255;

/** The tokens of one alert's buttons: one nonce for all three, so each message's buttons are its own. */
export function slackActionTokens(secret: string, link: Omit<ActionLink, 'action'>, expiresAt: Date): Record<SlackAction, string> {
  return Object.fromEntries(slackActions.map((action) => [action, actionLinkToken(secret, { ...link, action }, expiresAt)])) as Record<
    SlackAction,
    string
  >;
}

/** Disqualification reasons offered in Slack: all but `other`, which needs a note (the lead's page takes one). */
export const slackDisqualifyReasons = disqualificationReasons.filter((reason) => reason !== 'other');

/**
 * A time as Slack shows it to each reader in their own time zone (`<!date^…>`), with the UTC time
 * as the fallback: https://docs.slack.dev/messaging/formatting-message-text#date-formatting.
 */
export function slackTime(at: Date, format: '{time}' | '{date_short_pretty} {time}'): string {
  const iso = at.toISOString();
  const fallback = format === '{time}' ? `${iso.slice(11, 16)} UTC` : `${iso.slice(0, 10)} ${iso.slice(11, 16)} UTC`;
  return `<!date^${Math.floor(at.getTime() / 1000)}^${format}|${fallback}>`;
}

const field = (label: string, value: string) => ({ type: 'mrkdwn' as const, text: `*${label}*\n${value}` });

export interface SlackAlert {
  /** The alert's own words (the outbox message): they may quote captured values, so they are escaped here. */
  message: string;
  /** Absent: an alert about no stored lead, its words alone. */
  lead?: SlackLeadSummary;
  /** The buttons' tokens; absent: no buttons (an alert that asks for no action, or one already acted on). */
  tokens?: Record<SlackAction, string>;
  /** Show the disqualification reasons in place of the Disqualify button (after a click on it). */
  choosingReason?: boolean;
  /** What was done, e.g. "Accepted by Ana at 10:02": shown instead of the buttons. */
  done?: { what: string; by: string; at: Date };
  /** The action link that opens the lead's page (domain/action-links.ts `alertLinks`). */
  openUrl?: string;
}

/** A message's `text` (the notification's words, and what screen readers read) and its Block Kit `blocks`. */
export interface SlackMessage {
  text: string;
  blocks: KnownBlock[];
}

/** A Slack alert as a message. */
export function slackAlertMessage(alert: SlackAlert): SlackMessage {
  const { lead } = alert;
  const message = escapeSlackText(alert.message);
  const blocks: KnownBlock[] = [{ type: 'section', text: { type: 'mrkdwn', text: message } } satisfies SectionBlock];
  if (!lead) return { text: message, blocks };
  const fields = [
    field('Company', lead.company ? escapeSlackText(lead.company) : '—'),
    field('Title', lead.title ? escapeSlackText(lead.title) : '—'),
    field('Score', lead.score === null ? '—' : String(lead.score)),
    field('Priority', lead.priority ? escapeSlackText(lead.priority) : '—'),
    field('SLA due', lead.slaDueAt ? slackTime(new Date(lead.slaDueAt), '{date_short_pretty} {time}') : '—'),
    field('Status', lead.status),
  ];
  blocks.push({ type: 'section', fields } satisfies SectionBlock);
  if (alert.done) {
    const { what, by, at } = alert.done;
    blocks.push({
      type: 'context',
      elements: [{ type: 'mrkdwn', text: `*${what}* by ${escapeSlackText(by)} at ${slackTime(at, '{time}')}` }],
    } satisfies ContextBlock);
  } else if (alert.tokens) {
    const { accept, call, disqualify } = alert.tokens;
    const button = (text: string, actionId: string, style?: Button['style']): Button => ({
      type: 'button',
      text: { type: 'plain_text', text },
      action_id: actionId,
      ...(style && { style }),
    });
    const reasons: StaticSelect = {
      type: 'static_select',
      action_id: disqualify,
      placeholder: { type: 'plain_text', text: 'Why disqualify?' },
      options: slackDisqualifyReasons.map((reason) => ({ text: { type: 'plain_text', text: reason.replaceAll('_', ' ') }, value: reason })),
    };
    const elements = [
      ...(lead.status === 'sql' ? [button('Accept', accept, 'primary')] : []),
      button('Log call', call),
      alert.choosingReason ? reasons : button('Disqualify', disqualify, 'danger'),
    ];
    blocks.push({ type: 'actions', block_id: 'lead_actions', elements } satisfies ActionsBlock);
  }
  if (alert.openUrl)
    blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: `<${alert.openUrl}|Open lead>` }] } satisfies ContextBlock);
  return { text: message, blocks };
}

/** The words of what a click did, in the updated message. */
export const slackDone: Record<SlackAction, string> = { accept: 'Accepted', call: 'Call logged', disqualify: 'Disqualified' };
