import type { Logger as TemporalLogger, LogLevel as TemporalLogLevel, LogMetadata } from '@temporalio/common';
import { errorFields, type Logger } from './logger';

const levels: Record<TemporalLogLevel, 'trace' | 'debug' | 'info' | 'warn' | 'error'> = {
  TRACE: 'trace',
  DEBUG: 'debug',
  INFO: 'info',
  WARN: 'warn',
  ERROR: 'error',
};

/**
 * Metadata never logged: `options` (the SDK's "Creating worker" line) holds the data converter
 * and with it the payload codec's keys; the task token is an opaque blob; the rest is the same on
 * every line of the process.
 */
const dropped = new Set(['options', 'taskToken', 'namespace', 'taskQueue', 'trace_flags']);
/** Named as on the process's own lines (observability/logger.ts `traceIds`): @temporalio/interceptors-opentelemetry adds them to workflow and activity lines. */
const renamed: Record<string, string> = { workflowId: 'leadId', sdkComponent: 'component', trace_id: 'traceId', span_id: 'spanId' };

/**
 * The SDK's logger (Runtime.install `logger`): the SDK's own lines, Core's forwarded ones, and the
 * workflow and activity context loggers all go through pino. A lead's workflow id is its lead id, so
 * a line about a workflow or an activity carries `leadId`.
 */
export function temporalLogger(log: Logger): TemporalLogger {
  const write = (level: TemporalLogLevel, message: string, meta: LogMetadata = {}) => {
    const pinoLevel = levels[level];
    // The SDK logs every activity and workflow at DEBUG: below the level, nothing is built.
    if (!log.isLevelEnabled(pinoLevel)) return;
    const fields: Record<string, unknown> = {};
    // Object.entries skips the SDK's symbol keys (its own timestamp).
    for (const [key, value] of Object.entries(meta)) {
      if (dropped.has(key) || value === undefined) continue;
      if (Object.hasOwn(renamed, key)) fields[renamed[key]!] = value;
      else if (value instanceof Error) Object.assign(fields, errorFields(value));
      else fields[key] = value;
    }
    log[pinoLevel](fields, message);
  };
  return {
    log: write,
    trace: (message, meta) => write('TRACE', message, meta),
    debug: (message, meta) => write('DEBUG', message, meta),
    info: (message, meta) => write('INFO', message, meta),
    warn: (message, meta) => write('WARN', message, meta),
    error: (message, meta) => write('ERROR', message, meta),
  };
}
