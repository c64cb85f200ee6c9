import { z } from '@hono/zod-openapi';
import type { Context, ErrorHandler } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { ZodError } from 'zod';

/** The error body of every 4xx/5xx (API.md, "Conventions"). */
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

/** Renders every error as JSON; never a stack trace. */
export const onError: ErrorHandler = (error, c) => {
  if (error instanceof ApiError) return errorResponse(c, error);
  if (error instanceof HTTPException) {
    const malformed = /malformed json/i.test(error.message);
    return errorResponse(
      c,
      new ApiError(error.status as ContentfulStatusCode, malformed ? 'malformed_json' : 'bad_request', malformed ? 'the request body is not valid JSON' : error.message),
    );
  }
  console.error(`api: unhandled error on ${c.req.method} ${c.req.path}:`, error);
  return errorResponse(c, new ApiError(500, 'internal_error', 'the server could not complete the request'));
};
