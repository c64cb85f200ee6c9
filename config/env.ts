import { readFileSync } from 'node:fs';
import { z } from 'zod';
import type { PayloadKey } from '../codec/payload-codec';
import { embeddedStackUnproven } from './embedded-stack';
import { logLevels } from '../observability/logger';

/** Unset and empty are the same (`FOO= npm start`). */
const unsetIfEmpty = <T extends z.ZodType>(schema: T) => z.preprocess((value) => (value === '' ? undefined : value), schema);
/** A whole number written in decimal for which `ok` holds; the error shows what was given. */
const integer = (what: string, ok: (n: number) => boolean) =>
  z
    .string()
    .refine((value) => /^\d+$/.test(value.trim()) && ok(Number(value)), {
      error: (issue) => `must be ${what}, got ${JSON.stringify(issue.input)}`,
    })
    .transform(Number);
export const positiveInt = integer('a positive integer', (n) => n > 0);
const port = integer('a port number (0-65535)', (n) => n <= 65535);

/** Key ids of the keys the embedded stack generates (`stack/payload-keys.ts`): refused where real keys are required. */
export const developmentPayloadKeyPrefix = 'dev-';

/** `LEAD_PAYLOAD_KEYS`: `id:<base64 of 32 bytes>` pairs, comma-separated, newest first. The error never shows a key. */
const payloadKeys = z.string().transform((value, ctx): PayloadKey[] => {
  const keys: PayloadKey[] = [];
  for (const [i, item] of value
    .split(',')
    .map((part) => part.trim())
    .filter(Boolean)
    .entries()) {
    const separator = item.indexOf(':');
    const id = item.slice(0, separator);
    const key = Buffer.from(item.slice(separator + 1), 'base64');
    const problem =
      separator <= 0 || !/^[A-Za-z0-9_.-]{1,64}$/.test(id)
        ? 'is not id:<base64 key> (ids: letters, digits, "_", "." and "-")'
        : key.length !== 32
          ? `key ${id} must be 32 bytes in base64 (AES-256), got ${key.length} bytes`
          : keys.some((other) => other.id === id)
            ? `key id ${id} appears twice`
            : undefined;
    if (problem) {
      ctx.addIssue({ code: 'custom', message: `item ${i + 1} ${problem}` });
      return z.NEVER;
    }
    keys.push({ id, key });
  }
  if (keys.length === 0) ctx.addIssue({ code: 'custom', message: 'names no key' });
  return keys;
});

/** `whsec_` and the secret in base64 (Standard Webhooks); the error never shows the secret. */
const webhookSecret = z
  .string()
  .refine((value) => /^whsec_[A-Za-z0-9+/]+={0,2}$/.test(value) && Buffer.from(value.slice(6), 'base64').length >= 24, {
    error: 'must be whsec_ followed by at least 24 random bytes in base64 (e.g. `whsec_$(openssl rand -base64 32)`)',
  });
const smtpUrl = z
  .string()
  .refine((value) => value === 'off' || /^smtps?:\/\/[^\s]+$/.test(value), { error: 'must be smtp://… or smtps://… (or off)' });

/** What engine provisioning reads (`npm run engine`, also under the tests and the bench, which need none of the rest). */
const engineEnvSchema = z.object({
  LEAD_ENGINE_CACHE: unsetIfEmpty(z.string().optional()),
  XDG_CACHE_HOME: unsetIfEmpty(z.string().optional()),
  TEMPORAL_CLI: unsetIfEmpty(z.string().optional()),
});
export type EngineEnv = z.infer<typeof engineEnvSchema>;

/** Environment of every process (docs/operations/configuration.md). Unset values fall back to the embedded development stack. */
const envSchema = z.object({
  DATABASE_URL: z.string().url().optional(),
  /** Postgres `statement_timeout` of every pool, in milliseconds (docs/operations/security.md "Bounded calls"). */
  DATABASE_STATEMENT_TIMEOUT_MS: z.coerce.number().int().min(100).max(600_000).default(15_000),
  TEMPORAL_ADDRESS: z.string().min(1).optional(),
  TEMPORAL_NAMESPACE: z.string().min(1).default('default'),
  TEMPORAL_API_KEY: z.string().min(1).optional(),
  TEMPORAL_TLS: z.enum(['true', 'false']).optional(),
  TEMPORAL_TLS_CERT: z.string().min(1).optional(),
  TEMPORAL_TLS_KEY: z.string().min(1).optional(),
  TEMPORAL_TLS_CA: z.string().min(1).optional(),
  TEMPORAL_TASK_QUEUE: z.string().min(1).default('leads'),
  TEMPORAL_UI_URL: z.string().url().optional(),
  API_KEYS: z.string().optional(),
  /** Anything but unset, `development` or `test` makes real keys required (see `realKeysRequiredBecause`). */
  NODE_ENV: z.string().optional(),
  /**
   * Set by `npm start`, `start:cluster`, the bench and the tests for the processes they spawn when they
   * started Postgres and Temporal themselves: a per-start token, checked against the proof file in
   * LEAD_DATA_DIR (config/embedded-stack.ts). Alone it relaxes nothing.
   */
  LEAD_EMBEDDED_STACK: unsetIfEmpty(z.string().optional()),
  PORT: port.default(3000),
  /** The API's listening address; unset: 127.0.0.1 on a proven embedded stack, every interface otherwise. */
  HOST: unsetIfEmpty(z.string().optional()),
  NOTIFY_WEBHOOK_URL: z.string().url().optional(),
  /**
   * Development and tests only: origins (`http://127.0.0.1:4010`, comma-separated) a vendor URL
   * registered over the API may have besides the vendor's own https hosts, e.g. a local Graph API
   * stub. Refused where real keys are required (`extraVendorOriginsFrom`).
   */
  EXTRA_VENDOR_ORIGINS: unsetIfEmpty(z.string().optional()),
  /** Standard Webhooks signing secret of NOTIFY_WEBHOOK_URL deliveries (`whsec_<base64>`); development default on the embedded stack only. */
  NOTIFY_WEBHOOK_SECRET: unsetIfEmpty(webhookSecret.optional()),
  /** Where email goes out (`smtp://user:pass@host:587`, `smtps://…`), or `off` to send none on purpose (docs/features/email-and-notifications.md). */
  SMTP_URL: unsetIfEmpty(smtpUrl.optional()),
  /** The sender of every email: `leads@example.com` or `Acme <leads@example.com>`. */
  EMAIL_FROM: unsetIfEmpty(
    z
      .string()
      .regex(/^([^<>\r\n]*<[^@\s<>]+@[^@\s<>]+>|[^@\s<>]+@[^@\s<>]+)$/, 'must be an address or "Name <address>"')
      .optional(),
  ),
  /** The API's address as recipients reach it, for links in email (the unsubscribe link). */
  PUBLIC_BASE_URL: unsetIfEmpty(z.string().url().optional()),
  /** HMAC key of unsubscribe links (at least 32 characters); development default on the embedded stack only. */
  /** HMAC key of lead ids (domain/identity.ts); required where real keys are required, never changed afterwards. */
  LEAD_ID_SECRET: unsetIfEmpty(z.string().min(32, 'must be at least 32 characters (e.g. `openssl rand -base64 32`)').optional()),
  UNSUBSCRIBE_SECRET: unsetIfEmpty(z.string().min(32, 'must be at least 32 characters (e.g. `openssl rand -base64 32`)').optional()),
  /** HMAC key of the action links in rep alerts (domain/action-links.ts); development default on the embedded stack only. */
  ACTION_LINK_SECRET: unsetIfEmpty(z.string().min(32, 'must be at least 32 characters (e.g. `openssl rand -base64 32`)').optional()),
  /** The Slack app's bot token (`xoxb-…`, scope chat:write): rep alerts go to reps with a Slack member id as direct messages (docs/features/email-and-notifications.md "Slack"). */
  SLACK_BOT_TOKEN: unsetIfEmpty(
    z
      .string()
      .regex(/^xoxb-[A-Za-z0-9-]+$/, 'must be a bot token (xoxb-…)')
      .optional(),
  ),
  /** The Slack app's signing secret: `POST /slack/interactions` believes only requests signed with it; required with SLACK_BOT_TOKEN where real keys are required. */
  SLACK_SIGNING_SECRET: unsetIfEmpty(
    z.string().min(16, "must be the Slack app's signing secret (Basic Information, App Credentials)").optional(),
  ),
  /** The Slack Web API's base URL; unset: https://slack.com/api/. Development and tests point it at a local stub (plain http only on the embedded stack). */
  SLACK_API_URL: unsetIfEmpty(z.string().url().optional()),
  LEAD_CONFIG: z.string().optional(),
  ENRICHMENT_API_KEY: z.string().optional(),
  /** Keys of the payload codec (codec/payload-codec.ts), newest first; `npm start` generates a development one. */
  LEAD_PAYLOAD_KEYS: unsetIfEmpty(payloadKeys.optional()),
  /** Unset: the worker's default (500). */
  WORKER_MAX_CACHED_WORKFLOWS: unsetIfEmpty(positiveInt.optional()),
  /** `npm start`'s SQLite file and embedded Postgres; unset: `.data` in the repo. */
  LEAD_DATA_DIR: unsetIfEmpty(z.string().optional()),
  EMBEDDED_PG_PORT: unsetIfEmpty(port.default(54320)),
  /** Operations (docs/operations/observability.md): the least level logged, and JSON lines or human-readable (unset: human-readable in a terminal). */
  LOG_LEVEL: unsetIfEmpty(z.enum(logLevels).default('info')),
  LOG_FORMAT: unsetIfEmpty(z.enum(['json', 'pretty']).optional()),
  /** The collector's OTLP/HTTP base URL (spans go to `<url>/v1/traces`); unset: no tracing at all (docs/operations/observability.md "Traces"). */
  OTEL_EXPORTER_OTLP_ENDPOINT: unsetIfEmpty(z.string().url().optional()),
  /** `service.name` of the spans; unset: `lead-orchestration-api` or `lead-orchestration-worker`. */
  OTEL_SERVICE_NAME: unsetIfEmpty(z.string().min(1).optional()),
  /** The worker's own HTTP port: `/metrics` and `/healthz` (0: any free port). */
  WORKER_HTTP_PORT: unsetIfEmpty(port.default(3001)),
  /** Where that port listens: loopback unless told otherwise (a scraper on another host: `0.0.0.0`, behind your network's rules). */
  WORKER_HTTP_HOST: unsetIfEmpty(z.string().min(1).default('127.0.0.1')),
  /** On SIGTERM, how long the worker lets running activities finish and the API its open requests, before they exit anyway. */
  SHUTDOWN_GRACE_SECONDS: unsetIfEmpty(positiveInt.default(30)),
  /** Set by npm to the script being run (`start`, `worker`, `api`, …): the Postgres application name. */
  npm_lifecycle_event: z.string().optional(),
  ...engineEnvSchema.shape,
});
export type Env = z.infer<typeof envSchema>;

/** `source` validated against `schema`; the error names every bad variable. */
export function parseEnv<T extends z.ZodType>(schema: T, source: NodeJS.ProcessEnv = process.env): z.infer<T> {
  const result = schema.safeParse(source);
  if (!result.success) {
    const problems = result.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
    throw new Error(`invalid environment:\n  ${problems.join('\n  ')}`);
  }
  return result.data;
}

export function loadEnv(source: NodeJS.ProcessEnv = process.env): Env {
  return parseEnv(envSchema, source);
}

export function loadEngineEnv(source: NodeJS.ProcessEnv = process.env): EngineEnv {
  return parseEnv(engineEnvSchema, source);
}

/** The name the service's Postgres connections carry (`pg_stat_activity.application_name`). */
export function applicationName(env: Env): string {
  return env.npm_lifecycle_event ?? 'lead-orchestration';
}

/**
 * Why real keys and secrets are required (`API_KEYS`, payload keys, email and webhook secrets, never
 * the development ones), or undefined on the embedded development stack: the one place that decides
 * (docs/operations/security.md). Development is a fact, not a flag: NODE_ENV is unset, `development`
 * or `test`, and either the process was started by the one that started Postgres and Temporal on
 * loopback (the proof in config/embedded-stack.ts), or it is that process about to start them
 * (`startingEmbedded`, for `npm start`'s checks before it starts anything).
 */
export function realKeysRequiredBecause(env: Env, { startingEmbedded = false }: { startingEmbedded?: boolean } = {}): string | undefined {
  const nodeEnv = env.NODE_ENV?.trim();
  if (nodeEnv === 'production') return 'NODE_ENV is production';
  if (nodeEnv && nodeEnv !== 'development' && nodeEnv !== 'test')
    return `NODE_ENV is ${JSON.stringify(env.NODE_ENV)}, not development or test`;
  if (startingEmbedded) return undefined;
  const unproven = embeddedStackUnproven(env);
  if (!unproven) return undefined;
  const external = (['DATABASE_URL', 'TEMPORAL_ADDRESS'] as const).filter((name) => env[name]);
  if (env.LEAD_EMBEDDED_STACK) return `the embedded stack is not proven (${unproven})`;
  return external.length ? `${external.join(' and ')} ${external.length > 1 ? 'point' : 'points'} at external services` : undefined;
}

/**
 * The origins of EXTRA_VENDOR_ORIGINS, normalised (`new URL().origin`), for the API (registration)
 * and the worker (the fetch). Never honoured where real keys are required: set there, it is a
 * start-up error rather than a silent widening of what the worker may call with a vendor's token.
 */
export function extraVendorOriginsFrom(env: Env, options: { startingEmbedded?: boolean } = {}): string[] {
  if (!env.EXTRA_VENDOR_ORIGINS) return [];
  const because = realKeysRequiredBecause(env, options);
  if (because) {
    throw new Error(
      `EXTRA_VENDOR_ORIGINS is for development and tests only and is not accepted because ${because}: unset it (docs/operations/security.md)`,
    );
  }
  return env.EXTRA_VENDOR_ORIGINS.split(',')
    .map((item) => item.trim())
    .filter(Boolean)
    .map((item) => {
      let url: URL | undefined;
      try {
        url = new URL(item);
      } catch {
        url = undefined;
      }
      if (!url || !['http:', 'https:'].includes(url.protocol) || url.origin !== item.replace(/\/$/, '')) {
        throw new Error(`EXTRA_VENDOR_ORIGINS: "${item}" is not an origin (scheme://host[:port], no path)`);
      }
      return url.origin;
    });
}

/** Where the API listens: HOST if given, else loopback only on the development stack (docs/operations/security.md). */
export function apiListenHost(env: Env): string | undefined {
  return env.HOST ?? (realKeysRequiredBecause(env) ? undefined : '127.0.0.1');
}

/**
 * The payload codec's keys, newest first. Required by every process that talks to Temporal: the
 * embedded stack passes the development key it generated; where real keys are required (the same
 * rule as for API keys) a development key is refused, since it sits unprotected in a data directory.
 */
export function payloadKeysFrom(env: Env, options: { startingEmbedded?: boolean } = {}): PayloadKey[] {
  const because = realKeysRequiredBecause(env, options);
  const howTo = 'set LEAD_PAYLOAD_KEYS to id:<base64 of 32 random bytes> pairs, newest first (e.g. `k1:$(openssl rand -base64 32)`)';
  if (!env.LEAD_PAYLOAD_KEYS) {
    throw new Error(
      because
        ? `LEAD_PAYLOAD_KEYS must be set because ${because}: ${howTo}`
        : `LEAD_PAYLOAD_KEYS is not set (\`npm start\` generates a development key for its embedded stack): ${howTo}`,
    );
  }
  const development = env.LEAD_PAYLOAD_KEYS.filter(({ id }) => id.startsWith(developmentPayloadKeyPrefix)).map(({ id }) => id);
  if (because && development.length) {
    throw new Error(`LEAD_PAYLOAD_KEYS: the development keys (${development.join(', ')}) are not accepted because ${because}: ${howTo}`);
  }
  return env.LEAD_PAYLOAD_KEYS;
}

export const defaultTemporalAddress = 'localhost:7233';

/** How to reach Temporal: the dev server by default, or a cluster / Temporal Cloud (API key or mTLS). */
export interface TemporalConnectionOptions {
  address: string;
  tls?: boolean | { clientCertPair?: { crt: Buffer; key: Buffer }; serverRootCACertificate?: Buffer };
  apiKey?: string;
  metadata?: Record<string, string>;
}

export function temporalConnectionOptions(env: Env): TemporalConnectionOptions {
  const mtls = env.TEMPORAL_TLS_CERT && env.TEMPORAL_TLS_KEY;
  const tls =
    mtls || env.TEMPORAL_TLS_CA
      ? {
          clientCertPair: mtls ? { crt: readFileSync(env.TEMPORAL_TLS_CERT!), key: readFileSync(env.TEMPORAL_TLS_KEY!) } : undefined,
          serverRootCACertificate: env.TEMPORAL_TLS_CA ? readFileSync(env.TEMPORAL_TLS_CA) : undefined,
        }
      : env.TEMPORAL_TLS === 'true' || env.TEMPORAL_API_KEY
        ? true
        : undefined;
  return {
    address: env.TEMPORAL_ADDRESS ?? defaultTemporalAddress,
    tls: env.TEMPORAL_TLS === 'false' ? false : tls,
    apiKey: env.TEMPORAL_API_KEY,
    metadata: env.TEMPORAL_API_KEY ? { 'temporal-namespace': env.TEMPORAL_NAMESPACE } : undefined,
  };
}

/** Base URL of the Temporal Web UI, for the `temporalUiUrl` of each lead. */
export function temporalUiUrl(env: Env): string {
  if (env.TEMPORAL_UI_URL) return env.TEMPORAL_UI_URL;
  return env.TEMPORAL_ADDRESS?.includes('.tmprl.cloud') ? 'https://cloud.temporal.io' : 'http://localhost:8233';
}

/**
 * Development secrets for the embedded stack only (like its API keys): well known, so refused
 * wherever real keys are required (`realKeysRequiredBecause`).
 */
export const developmentWebhookSecret = `whsec_${Buffer.from('lead-orchestration development webhook secret').toString('base64')}`;
export const developmentUnsubscribeSecret = 'lead-orchestration development unsubscribe secret';
export const developmentLeadIdSecret = 'lead-orchestration development lead id secret';
export const developmentActionLinkSecret = 'lead-orchestration development action link secret';
export const developmentSlackSigningSecret = 'lead-orchestration development slack signing secret';

/**
 * The key of the one-click action links in rep alerts (domain/action-links.ts), the same rule as
 * UNSUBSCRIBE_SECRET's: where real keys are required the development key is never used, and if
 * alerts go out (SMTP_URL set and not `off`, NOTIFY_WEBHOOK_URL or SLACK_BOT_TOKEN set) a real one must be given,
 * since a link is a rep's credential for a lead. It also signs the rep inbox's
 * sign-in links and sessions (domain/inbox.ts, other token kinds). Undefined: alerts carry no
 * links, `/act` and `/inbox` answer 404.
 */
export function actionLinkSecretFrom(env: Env, options: { startingEmbedded?: boolean } = {}): string | undefined {
  const because = realKeysRequiredBecause(env, options);
  if (!because) return env.ACTION_LINK_SECRET ?? developmentActionLinkSecret;
  const real = env.ACTION_LINK_SECRET && env.ACTION_LINK_SECRET !== developmentActionLinkSecret ? env.ACTION_LINK_SECRET : undefined;
  const alertsGoOut =
    (env.SMTP_URL !== undefined && env.SMTP_URL !== 'off') || env.NOTIFY_WEBHOOK_URL !== undefined || env.SLACK_BOT_TOKEN !== undefined;
  if (alertsGoOut && !real) {
    throw new Error(
      `ACTION_LINK_SECRET must be set (not the development secret) because ${because} and alerts go out: set it to \`openssl rand -base64 32\` (rep alerts carry links signed with it)`,
    );
  }
  return real;
}

/**
 * The key of lead ids (domain/identity.ts `leadIdFor`), for every process that takes captures (the
 * API, and the worker for Meta's lead fetch). Where real keys are required it must be set and not
 * the development one: with a well-known key anyone could compute a person's lead id.
 */
export function leadIdSecretFrom(env: Env, options: { startingEmbedded?: boolean } = {}): string {
  const because = realKeysRequiredBecause(env, options);
  if (because && (!env.LEAD_ID_SECRET || env.LEAD_ID_SECRET === developmentLeadIdSecret)) {
    throw new Error(
      `LEAD_ID_SECRET must be set (not the development secret) because ${because}: set it once to \`openssl rand -base64 32\` and never change it (every lead id is derived from it)`,
    );
  }
  return env.LEAD_ID_SECRET ?? developmentLeadIdSecret;
}

/**
 * The signing secret of deliveries to NOTIFY_WEBHOOK_URL (Standard Webhooks). Where real keys are
 * required, a webhook URL without its own secret (or with the development one) is refused.
 */
export function notifyWebhookSecretFrom(env: Env, options: { startingEmbedded?: boolean } = {}): string {
  const because = realKeysRequiredBecause(env, options);
  const howTo =
    'set NOTIFY_WEBHOOK_SECRET to whsec_ and random bytes in base64 (`whsec_$(openssl rand -base64 32)`) and give it to the receiver';
  if (because && env.NOTIFY_WEBHOOK_URL && (!env.NOTIFY_WEBHOOK_SECRET || env.NOTIFY_WEBHOOK_SECRET === developmentWebhookSecret)) {
    throw new Error(`NOTIFY_WEBHOOK_SECRET must be set (not the development secret) because ${because}: ${howTo}`);
  }
  return env.NOTIFY_WEBHOOK_SECRET ?? developmentWebhookSecret;
}

/** How email goes out (docs/features/email-and-notifications.md); `smtpUrl` undefined: email is not sent (entries are kept as skipped). */
export interface EmailSettings {
  smtpUrl?: string;
  /** Why no email is sent, for the start-up warning. */
  disabledBecause?: string;
  from: string;
  publicBaseUrl: string;
  /** Undefined where real keys are required and none was given (email off): unsubscribe links are then refused. */
  unsubscribeSecret?: string;
}

/**
 * Email settings. On the embedded stack everything has a development default and an unset
 * SMTP_URL only disables email (with a warning). Where real keys are required, the default
 * cadences send email, so SMTP_URL must be set (or `off`, a deliberate choice), and with it
 * EMAIL_FROM, PUBLIC_BASE_URL and a real UNSUBSCRIBE_SECRET.
 */
export function emailSettingsFrom(env: Env, options: { startingEmbedded?: boolean } = {}): EmailSettings {
  const because = realKeysRequiredBecause(env, options);
  const off = env.SMTP_URL === 'off';
  if (because && !off) {
    const missing = [
      !env.SMTP_URL && 'SMTP_URL (smtp://user:pass@host:587, or off to send no email)',
      !env.EMAIL_FROM && 'EMAIL_FROM (the sender address)',
      !env.PUBLIC_BASE_URL?.startsWith('https://') &&
        "PUBLIC_BASE_URL (the API's public https:// address, for unsubscribe links: RFC 8058 requires HTTPS)",
      (!env.UNSUBSCRIBE_SECRET || env.UNSUBSCRIBE_SECRET === developmentUnsubscribeSecret) &&
        'UNSUBSCRIBE_SECRET (`openssl rand -base64 32`; not the development one)',
    ].filter(Boolean);
    if (missing.length) throw new Error(`email settings must be set because ${because}: set ${missing.join(', ')}`);
  }
  return {
    smtpUrl: off ? undefined : env.SMTP_URL,
    disabledBecause: off ? 'SMTP_URL is off' : env.SMTP_URL ? undefined : 'SMTP_URL is not set',
    from: env.EMAIL_FROM ?? 'Lead orchestration <leads@localhost>',
    publicBaseUrl: (env.PUBLIC_BASE_URL ?? `http://localhost:${env.PORT}`).replace(/\/+$/, ''),
    unsubscribeSecret:
      because && env.UNSUBSCRIBE_SECRET === developmentUnsubscribeSecret
        ? undefined
        : (env.UNSUBSCRIBE_SECRET ?? (because ? undefined : developmentUnsubscribeSecret)),
  };
}

/** The Slack app (docs/features/email-and-notifications.md "Slack"): its bot token, signing secret and the Web API's base URL. */
export interface SlackSettings {
  botToken: string;
  signingSecret: string;
  /** With its trailing slash, as WebClient's `slackApiUrl` takes it. */
  apiUrl: string;
}

export const defaultSlackApiUrl = 'https://slack.com/api/';

/**
 * The Slack app's settings, or undefined when SLACK_BOT_TOKEN is unset (no Slack alerts; the
 * interactivity endpoint answers 404). Where real keys are required, a bot token needs its app's
 * signing secret (not the development one), and SLACK_API_URL, which receives the bot token, must
 * be https; the embedded stack has a development signing secret, for a local Slack stub.
 */
export function slackSettingsFrom(env: Env, options: { startingEmbedded?: boolean } = {}): SlackSettings | undefined {
  if (!env.SLACK_BOT_TOKEN) return undefined;
  const because = realKeysRequiredBecause(env, options);
  if (because && (!env.SLACK_SIGNING_SECRET || env.SLACK_SIGNING_SECRET === developmentSlackSigningSecret)) {
    throw new Error(
      `SLACK_SIGNING_SECRET must be set (not the development secret) with SLACK_BOT_TOKEN because ${because}: copy the Slack app's signing secret (Basic Information, App Credentials)`,
    );
  }
  const apiUrl = env.SLACK_API_URL ?? defaultSlackApiUrl;
  if (because && !apiUrl.startsWith('https://'))
    throw new Error(`SLACK_API_URL must be https:// because ${because} (it receives the bot token)`);
  return {
    botToken: env.SLACK_BOT_TOKEN,
    signingSecret: env.SLACK_SIGNING_SECRET ?? developmentSlackSigningSecret,
    apiUrl: apiUrl.endsWith('/') ? apiUrl : `${apiUrl}/`,
  };
}

/** Tracing's settings for the process (`api` or `worker`), or undefined when OTEL_EXPORTER_OTLP_ENDPOINT is unset: tracing off. */
export function tracingOptionsFrom(env: Env, process: 'api' | 'worker'): { endpoint: string; serviceName: string } | undefined {
  if (!env.OTEL_EXPORTER_OTLP_ENDPOINT) return undefined;
  return { endpoint: env.OTEL_EXPORTER_OTLP_ENDPOINT, serviceName: env.OTEL_SERVICE_NAME ?? `lead-orchestration-${process}` };
}
