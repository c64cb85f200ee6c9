import type { Tracer } from '@opentelemetry/api';
import type { Client } from '@temporalio/client';
import type { PayloadCodec } from '@temporalio/common';
import type { WebClient } from '@slack/web-api';
import type { RateLimitInfo } from 'hono-rate-limiter';
import type { LeadConfig } from '../domain/config';
import type { Sql } from '../db/client';
import type { Logger } from '../observability/logger';
import type { AuthEnv } from './auth';
import type { WakeUps } from './wake-ups';

/** What the route modules need; built once by `api/main.ts` (or a test). */
export interface ApiDeps {
  sql: Sql;
  temporal: Client;
  taskQueue: string;
  namespace: string;
  temporalUiUrl: string;
  /** The validated configuration: new leads start with its policy; cadences default to it. */
  config: LeadConfig;
  /** The payload codec of `temporal` (codec/payload-codec.ts), served to the Temporal UI at `/codec`. */
  codec: PayloadCodec;
  /** HMAC key of lead ids (config/env.ts `leadIdSecretFrom`). */
  leadIdSecret: string;
  /** Origins a vendor URL registered over the API may have besides the vendor's own hosts: development and tests only (config/env.ts `extraVendorOriginsFrom`). */
  extraVendorOrigins?: readonly string[];
  /** HMAC key of unsubscribe links (`emailSettingsFrom`); without it `/unsubscribe/{token}` refuses every link. */
  unsubscribeSecret?: string;
  /** HMAC key of the action links in rep alerts and of the rep inbox's tokens (`actionLinkSecretFrom`); without it `/act/{token}` and `/inbox` answer 404. */
  actionLinkSecret?: string;
  /** The API's address as recipients reach it (`emailSettingsFrom`): the action-link page's forms post to fresh links under it. */
  publicBaseUrl?: string;
  /**
   * The Slack app (config/env.ts `slackSettingsFrom`): the signing secret `POST /slack/interactions`
   * checks, the client that updates messages after a click, and the origins a `response_url` may
   * have. Absent: that route answers 404.
   */
  slack?: { signingSecret: string; client: WebClient; responseOrigins: readonly string[] };
  /** The process's logger (observability/logger.ts); default: JSON lines at info on stdout. */
  log?: Logger;
  /** When tracing is on (observability/tracing.ts): a server span per request (api/request-log.ts `requestSpans`); absent, none. */
  tracer?: Tracer;
  /**
   * The unassigned queue's wake-ups (api/wake-ups.ts), for the process to stop at shutdown;
   * default: one of the app's own, never stopped (it holds nothing while idle).
   */
  wakeUps?: WakeUps;
}

export type AppEnv = {
  Variables: AuthEnv['Variables'] & {
    /** Set when the request carries an Idempotency-Key: a stable id for what the request causes. */
    idempotencyKey?: string;
    /** Set by the capture rate limit (hono-rate-limiter). */
    rateLimit?: RateLimitInfo;
    /** Set by `requestLogging`: the request id (`hono/request-id`) and the logger that puts it on every line. */
    requestId: string;
    log: Logger;
  };
};
