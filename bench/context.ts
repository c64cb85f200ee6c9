import { randomUUID } from 'node:crypto';
import type { Client } from '@temporalio/client';
import type { Sql } from '../db/client';
import type { WorkerLog } from './worker-log';

/** What the bench's scenarios (bench/burst.ts, bench/storm.ts, bench/new-lead.ts) get from bench/run.ts: its running stack. */
export interface Bench {
  /** The API process, e.g. http://127.0.0.1:4000. */
  api: string;
  sql: Sql;
  /** A Temporal client with the stack's payload codec. */
  client: Client;
  workerLog: WorkerLog;
  /** The bench's reps, of its one team (it covers US only). */
  repIds: string[];
  log: (line: string) => void;
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A call with an API key (`ops-dev` by default) and a JSON body. */
export function call(bench: Pick<Bench, 'api'>, method: 'POST' | 'PATCH', path: string, body: unknown, key = 'ops-dev') {
  return fetch(bench.api + path, {
    method,
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
}

/** A sales-ready capture (demo request, CEO: past `qualification.sqlAt`), its email unique to this run. */
export const salesReady = (prefix: string, i: number, country?: string) => ({
  email: `${prefix}-${i}-${randomUUID().slice(0, 8)}@acme.io`,
  source: 'demo_request',
  title: 'CEO',
  ...(country ? { country } : {}),
});

/** When each lead was given its owner (`leads.assigned_at`; null: not yet). */
export async function assignedAt(sql: Sql, ids: string[]): Promise<Map<string, Date | null>> {
  if (ids.length === 0) return new Map();
  const rows = await sql<
    { lead_id: string; assigned_at: Date | null }[]
  >`SELECT lead_id, assigned_at FROM leads WHERE lead_id IN ${sql(ids)}`;
  return new Map(rows.map((r) => [r.lead_id, r.assigned_at]));
}

/** Waits until every lead has an owner, or `timeoutMs`; the number of leads with one. */
export async function waitAssigned(sql: Sql, ids: string[], timeoutMs: number): Promise<number> {
  if (ids.length === 0) return 0;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const [{ n }] =
      (await sql`SELECT count(*)::int AS n FROM leads WHERE lead_id IN ${sql(ids)} AND assigned_at IS NOT NULL`) as unknown as [
        { n: number },
      ];
    if (n === ids.length || Date.now() > deadline) return n;
    await sleep(200);
  }
}

/** Seconds from `fromMs` (epoch) to the last of the leads' assignments; null unless all are assigned. */
export async function allAssignedAfter(sql: Sql, ids: string[], fromMs: number): Promise<number | null> {
  const times = [...(await assignedAt(sql, ids)).values()];
  if (times.length < ids.length || times.some((t) => t === null)) return null;
  return (Math.max(...times.map((t) => t!.getTime())) - fromMs) / 1000;
}
