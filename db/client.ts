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
