import { randomUUID } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it, inject } from 'vitest';
import { createSql, type Sql } from '../db/client';
import { migrate, migrationsDir } from '../db/migrate';

// Each test gets a database of its own on the run's Postgres, so it starts from nothing.
let admin: Sql;
const created: string[] = [];
beforeAll(() => {
  admin = createSql(inject('databaseUrl'), { max: 1 });
});
afterAll(async () => {
  for (const name of created) await admin.unsafe(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  await admin.end({ timeout: 5 });
});

async function freshDatabase(): Promise<string> {
  const name = `migrations_${randomUUID().replaceAll('-', '').slice(0, 12)}`;
  await admin.unsafe(`CREATE DATABASE ${name}`);
  created.push(name);
  const url = new URL(inject('databaseUrl'));
  url.pathname = `/${name}`;
  return url.toString();
}

const quiet = () => {};
const migrationFiles = readdirSync(migrationsDir).filter((f) => f.endsWith('.sql')).sort();

describe('migration runner', () => {
  it('applies every migration in order, once, and records it', async () => {
    const url = await freshDatabase();
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
    const url = await freshDatabase();
    const [a, b] = await Promise.all([migrate(url, quiet), migrate(url, quiet)]);
    expect([...a, ...b].sort()).toEqual(migrationFiles.map((f) => f.replace(/\.sql$/, '')));

    const sql = createSql(url, { max: 1 });
    const [row] = await sql<{ count: number }[]>`SELECT count(*)::int AS count FROM schema_migrations`;
    await sql.end();
    expect(row?.count).toBe(migrationFiles.length);
  });
});
