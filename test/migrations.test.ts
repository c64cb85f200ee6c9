import { readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createSql } from '../db/client';
import { migrate, migrationsDir } from '../db/migrate';
import { emptyDatabase } from './support/helpers';

// Each test gets an empty database of its own on the run's Postgres, so it starts from nothing.
const quiet = () => {};
const migrationFiles = readdirSync(migrationsDir).filter((f) => f.endsWith('.sql')).sort();

describe('migration runner', () => {
  it('applies every migration in order, once, and records it', async () => {
    const url = await emptyDatabase('migrations');
    expect(await migrate(url, quiet)).toEqual(migrationFiles.map((f) => f.replace(/\.sql$/, '')));
    expect(await migrate(url, quiet)).toEqual([]);

    const sql = createSql(url, { max: 1 });
    const recorded = await sql`SELECT name FROM schema_migrations ORDER BY run_on, id`;
    const tables = await sql`SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 1`;
    await sql.end();
    expect(recorded.map((r) => r.name)).toEqual(migrationFiles.map((f) => f.replace(/\.sql$/, '')));
    expect(tables.map((t) => t.table_name)).toEqual(expect.arrayContaining(['leads', 'lead_events', 'schema_migrations']));
  });

  it('is safe when two processes start at once: each migration is applied exactly once', async () => {
    const url = await emptyDatabase('migrations');
    const [a, b] = await Promise.all([migrate(url, quiet), migrate(url, quiet)]);
    expect([...a, ...b].sort()).toEqual(migrationFiles.map((f) => f.replace(/\.sql$/, '')));

    const sql = createSql(url, { max: 1 });
    const [row] = await sql<{ count: number }[]>`SELECT count(*)::int AS count FROM schema_migrations`;
    await sql.end();
    expect(row?.count).toBe(migrationFiles.length);
  });
});
