import postgres from 'postgres';

export type Sql = postgres.Sql;
export type Tx = postgres.TransactionSql;
/** Either: a statement that writes all it must at once needs no explicit transaction. */
export type Db = Sql | Tx;

/** One pool per process. Timestamps come back as ISO strings via `toJSON` in the read models. */
export function createSql(url: string, options: { max?: number; applicationName?: string } = {}): Sql {
  return postgres(url, {
    max: options.max ?? 10,
    onnotice: () => {},
    connection: { application_name: options.applicationName ?? 'lead-orchestration' },
  });
}

/** Answers when Postgres does: the readiness probe. */
export async function ping(sql: Sql): Promise<void> {
  await sql`SELECT 1`;
}
