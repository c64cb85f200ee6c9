import { context, isSpanContextValid, trace } from '@opentelemetry/api';
import pino, { type Logger } from 'pino';
import pretty from 'pino-pretty';

export type { Logger } from 'pino';

export const logLevels = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;
export type LogLevel = (typeof logLevels)[number];
export type LogFormat = 'json' | 'pretty';

export interface LoggerOptions {
  /** The process: `api` or `worker`, on every line. */
  name: string;
  level?: LogLevel;
  /** `LOG_FORMAT`; unset: human-readable in a terminal (`npm start`), JSON lines anywhere else. */
  format?: LogFormat;
  /** Where lines go (tests); default stdout. */
  destination?: pino.DestinationStream;
  /** Tracing is on (observability/tracing.ts): a line written inside a span carries its `traceId` and `spanId`. */
  traceIds?: boolean;
}

/** The current span's ids: none outside a span. */
function currentTraceIds(): { traceId: string; spanId: string } | Record<string, never> {
  const span = trace.getSpan(context.active())?.spanContext();
  return span && isSpanContextValid(span) ? { traceId: span.traceId, spanId: span.spanId } : {};
}

/**
 * Keys whose values are personal data or secrets: censored wherever they appear in a line's
 * fields (one level down too), as a safety net. Lines are written not to carry them at all.
 */
const redactedKeys = ['email', 'firstName', 'lastName', 'phone', 'authorization', 'webhookUrl', 'apiKey'];

/** The process's logger: JSON lines (level as a word, ISO time) or pino-pretty for a person at a terminal. */
export function createLogger({ name, level = 'info', format, destination, traceIds = false }: LoggerOptions): Logger {
  const human = (format ?? (process.stdout.isTTY ? 'pretty' : 'json')) === 'pretty';
  const options: pino.LoggerOptions = {
    name,
    level,
    base: { pid: process.pid },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
    redact: { paths: redactedKeys.flatMap((key) => [key, `*.${key}`]), censor: '[redacted]' },
    ...(traceIds ? { mixin: currentTraceIds } : {}),
  };
  if (human)
    return pino(
      options,
      pretty({ colorize: Boolean(process.stdout.isTTY), sync: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname' }),
    );
  return destination ? pino(options, destination) : pino(options);
}

/** An error as log fields: its class and message, never its stack's arguments or a request body. */
export function errorFields(error: unknown): { err: { type: string; message: string } } {
  return error instanceof Error
    ? { err: { type: error.name, message: error.message + (error.cause instanceof Error ? `: ${error.cause.message}` : '') } }
    : { err: { type: typeof error, message: String(error) } };
}
