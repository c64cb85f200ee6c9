import { z } from '@hono/zod-openapi';
import type { Context, ErrorHandler } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { ServiceError, WorkflowUpdateRPCTimeoutOrCancelledError } from '@temporalio/client';
import type { ZodError } from 'zod';
import { createLogger, errorFields, type Logger } from '../observability/logger';

/** The error body of every 4xx/5xx (docs/api.md, "Conventions"). */
export const errorSchema = z
  .object({
    error: z.object({
      code: z.string().meta({ example: 'validation_failed' }),
      message: z.string(),
      details: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
    }),
  })
  .meta({ id: 'Error' });

/** OpenAPI responses for the error statuses a route may answer. */
export const errorResponses = (...statuses: number[]) =>
  Object.fromEntries(
    statuses.map((status) => [status, { description: 'error', content: { 'application/json': { schema: errorSchema } } }]),
  );

export interface ErrorDetail {
  path: string;
  message: string;
}

/** Thrown by handlers and middleware; rendered as the standard error body. */
export class ApiError extends Error {
  constructor(
    readonly status: ContentfulStatusCode,
    readonly code: string,
    message: string,
    readonly details?: ErrorDetail[],
    readonly headers?: Record<string, string>,
  ) {
    super(message);
  }
}

export function errorResponse(c: Context, error: ApiError) {
  const body = { error: { code: error.code, message: error.message, ...(error.details ? { details: error.details } : {}) } };
  return c.json(body, error.status, error.headers);
}

export function validationFailed(error: ZodError, target: string): ApiError {
  const at = (path: PropertyKey[]) => (path.length ? path.join('.') : target);
  // An unknown key is named itself, not its parent object, so that a client sees which field to drop.
  const details = error.issues.flatMap((issue) =>
    issue.code === 'unrecognized_keys'
      ? issue.keys.map((key) => ({ path: at([...issue.path, key]), message: 'is not a known field' }))
      : [{ path: at(issue.path), message: issue.message }],
  );
  const fields = [...new Set(details.map((d) => d.path))].join(', ');
  return new ApiError(400, 'validation_failed', `invalid ${target}: ${fields}`, details);
}

/** Socket-level failures reaching Postgres (postgres.js passes Node's codes and adds its own). */
const connectionCodes = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'CONNECT_TIMEOUT',
  'CONNECTION_CLOSED',
  'CONNECTION_ENDED',
  'CONNECTION_DESTROYED',
]);
/** SQLSTATEs of a Postgres that is there but cannot serve: connection exceptions, shutting down or starting up, out of connections. */
const unavailableStates = /^(08...|57P0[1-3]|53300)$/;
/**
 * gRPC UNAVAILABLE and DEADLINE_EXCEEDED from Temporal, and FAILED_PRECONDITION (a query while the
 * workflow's last task failed and is being retried): retryable by the client.
 */
const grpcRetryable = [14, 4, 9];

/**
 * A dependency that is down for now (Postgres unreachable, Temporal or its workers unavailable): the
 * client should retry, so 503 with Retry-After rather than 500. Captures without an Idempotency-Key
 * never touch Postgres and go on through a Postgres outage; reads, and captures with a key (whose
 * claim is kept in Postgres), answer this.
 */
export function isUnavailable(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && (connectionCodes.has(code) || unavailableStates.test(code))) return true;
  // An update not answered in time (a rep action, say): no worker took it (all down, or overloaded).
  if (error instanceof WorkflowUpdateRPCTimeoutOrCancelledError) return true;
  return error instanceof ServiceError && grpcRetryable.includes((error.cause as { code?: number } | undefined)?.code ?? 0);
}

/** The request's logger (`requestLogging`), or a fallback for an app built without it. */
const requestLog = (c: Context): Logger => (c.var as { log?: Logger }).log ?? fallbackLog;
const fallbackLog = createLogger({ name: 'api', format: 'json' });

/** Renders every error as JSON; never a stack trace (that goes to the log). */
export const onError: ErrorHandler = (error, c) => {
  if (error instanceof ApiError) return errorResponse(c, error);
  if (isUnavailable(error)) {
    requestLog(c).warn({ method: c.req.method, route: c.req.routePath, ...errorFields(error) }, 'a dependency is unavailable');
    return errorResponse(
      c,
      new ApiError(503, 'unavailable', 'a service the API depends on is unavailable for now: retry shortly', undefined, {
        'Retry-After': '5',
      }),
    );
  }
  if (error instanceof HTTPException) {
    const malformed = /malformed json/i.test(error.message);
    return errorResponse(
      c,
      new ApiError(
        error.status as ContentfulStatusCode,
        malformed ? 'malformed_json' : 'bad_request',
        malformed ? 'the request body is not valid JSON' : error.message,
      ),
    );
  }
  requestLog(c).error(
    { method: c.req.method, route: c.req.routePath, ...errorFields(error), stack: error instanceof Error ? error.stack : undefined },
    'unhandled error',
  );
  return errorResponse(c, new ApiError(500, 'internal_error', 'the server could not complete the request'));
};
