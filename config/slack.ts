import { LogLevel, WebClient } from '@slack/web-api';
import { defaultSlackApiUrl, type SlackSettings } from './env';

/**
 * The Slack Web API client both processes use (the worker posts alerts, the API updates them after a
 * click). Bounded: each request gives up after 10 s and a failed one is tried at most twice more,
 * within seconds, so an attempt ends well inside the outbox's 60-second claim (db/outbox.ts
 * `claimDue`), after which another notifier would post the same alert again. A rate limit (HTTP 429)
 * is not waited out inside the client (its default pauses every call for Retry-After and retries for
 * about 30 minutes): it comes back as a `WebAPIRateLimitedError` with Slack's Retry-After, and the
 * notifier schedules the entry's next attempt no earlier than that (worker/notifier.ts).
 */
export function slackClient(settings: Pick<SlackSettings, 'botToken' | 'apiUrl'>): WebClient {
  return new WebClient(settings.botToken, {
    slackApiUrl: settings.apiUrl,
    timeout: 10_000,
    retryConfig: { retries: 2, minTimeout: 500, maxTimeout: 2_000 },
    rejectRateLimitedCalls: true,
    // Method names only: a dynamic absolute URL must never receive the bot token.
    allowAbsoluteUrls: false,
    // The client's own console lines would break the JSON log: what fails is thrown, and logged by the caller.
    logLevel: LogLevel.ERROR,
  });
}

/**
 * Where the API may post an interaction's `response_url` (the ephemeral answer to a click): Slack's
 * own host, and the Web API's origin when SLACK_API_URL points elsewhere (a local stub; https only
 * where real keys are required). The payload is signed by Slack, but the URL still gets no other host.
 */
export function slackResponseOrigins(settings: Pick<SlackSettings, 'apiUrl'>): string[] {
  const origins = ['https://hooks.slack.com'];
  if (settings.apiUrl !== defaultSlackApiUrl) origins.push(new URL(settings.apiUrl).origin);
  return origins;
}
