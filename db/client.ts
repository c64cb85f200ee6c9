import { context, SpanKind, SpanStatusCode, trace, type Tracer } from '@opentelemetry/api';
import {
  ATTR_DB_COLLECTION_NAME,
  ATTR_DB_NAMESPACE,
  ATTR_DB_OPERATION_NAME,
  ATTR_DB_SYSTEM_NAME,
  ATTR_ERROR_TYPE,
  DB_SYSTEM_NAME_VALUE_POSTGRESQL,
} from '@opentelemetry/semantic-conventions';
import postgres from 'postgres';

export type Sql = postgres.Sql;
export type Tx = postgres.TransactionSql;
/** Either: a statement that writes all it must at once needs no explicit transaction. */
export type Db = Sql | Tx;

/** A slow statement is cancelled by Postgres after this, so it cannot pin a pool connection (docs/operations/security.md "Bounded calls"). */
export const defaultStatementTimeoutMs = 15_000;

/** One pool per process. Timestamps come back as ISO strings via `toJSON` in the read models. */
export function createSql(url: string, options: { max?: number; applicationName?: string; statementTimeoutMs?: number } = {}): Sql {
  return postgres(url, {
    max: options.max ?? 10,
    onnotice: () => {},
    connection: {
      application_name: options.applicationName ?? 'lead-orchestration',
      statement_timeout: options.statementTimeoutMs ?? defaultStatementTimeoutMs,
    },
  });
}

/** Answers when Postgres does: the readiness probe. */
export async function ping(sql: Sql): Promise<void> {
  await sql`SELECT 1`;
}

/** A statement's first keyword and, where plain, its table: `SELECT leads`, `INSERT notifications`. Never its text nor its values. */
export function statementSummary(strings: readonly string[]): { operation: string; table?: string } {
  const text = strings.join('$').replace(/--[^\n]*/g, ' ');
  const operation = /^\s*\(?\s*([a-z]+)/i.exec(text)?.[1]?.toUpperCase() ?? 'SQL';
  const table = /\b(?:from|into|update)\s+("?[a-z_][a-z0-9_]*"?)/i.exec(text)?.[1]?.replaceAll('"', '');
  return table ? { operation, table } : { operation };
}

/** The postgres library's query: a lazy promise, run once on its first `then` (postgres/src/query.js `handle`). */
interface PendingQuery {
  strings: readonly string[];
  executed: boolean;
  resolve(value: unknown): void;
  reject(error: unknown): void;
  handle(): Promise<void>;
}

let statementsTraced = false;

/**
 * A span per statement (docs/operations/observability.md "Traces"), named by its operation and
 * table, child of the span that awaits it (a request's, an activity's); none outside a span. The postgres library has no OpenTelemetry
 * instrumentation: the query class that every statement of every pool of the process goes through
 * (the pools' tagged templates, `unsafe`, transactions' own) is wrapped once, when tracing is on.
 */
export function traceStatements(sql: Sql, tracer: Tracer, databaseUrl: string): void {
  const database = new URL(databaseUrl).pathname.slice(1);
  if (statementsTraced) return;
  statementsTraced = true;
  const query = Object.getPrototypeOf(sql`SELECT 1`) as PendingQuery;
  const handle = query.handle;
  query.handle = function (this: PendingQuery) {
    // Outside a span (the notifier's and the metrics' polls) a statement makes none: no trace per poll.
    if (this.executed || !trace.getSpan(context.active())) return handle.call(this);
    const { operation, table } = statementSummary(this.strings);
    const span = tracer.startSpan(table ? `${operation} ${table}` : operation, {
      kind: SpanKind.CLIENT,
      attributes: {
        [ATTR_DB_SYSTEM_NAME]: DB_SYSTEM_NAME_VALUE_POSTGRESQL,
        [ATTR_DB_NAMESPACE]: database,
        [ATTR_DB_OPERATION_NAME]: operation,
        ...(table ? { [ATTR_DB_COLLECTION_NAME]: table } : {}),
      },
    });
    const { resolve, reject } = this;
    this.resolve = (value) => {
      span.end();
      resolve(value);
    };
    this.reject = (error) => {
      // Its SQLSTATE, not its message: Postgres quotes the offending value in some ("invalid input syntax for type uuid: …").
      const type = (error as { code?: unknown }).code ?? (error instanceof Error ? error.name : 'error');
      span.setAttribute(ATTR_ERROR_TYPE, String(type));
      span.setStatus({ code: SpanStatusCode.ERROR, message: String(type) });
      span.end();
      reject(error);
    };
    return handle.call(this);
  };
}
