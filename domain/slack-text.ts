/**
 * Text for Slack's mrkdwn and plain `text` fields. Slack reads `<...>` as links and mentions
 * (`<!channel>`, `<https://x|label>`) and `&` as the start of an entity, so a captured value (a
 * company name typed into a form) must reach Slack with exactly these three characters replaced:
 * https://docs.slack.dev/messaging/formatting-message-text#escaping and
 * docs/features/email-and-notifications.md "Escaping". Nothing else is touched: Slack shows
 * `*`, `_` and `~` from escaped text as typed only inside code, so a value also goes in a field of
 * its own rather than being interpolated into a sentence of our markup.
 */
export function escapeSlackText(value: string): string {
  return value.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}
