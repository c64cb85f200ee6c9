import type { TimelineEvent } from '../domain/lead-record';
import type { Db, Sql } from './client';

/**
 * The INSERT of events into a lead's timeline, as a fragment for the statement that saves the lead
 * (db/leads.ts): all of them at once, in their order (ids, and so the timeline's ties, follow it),
 * an event already written (same key: a retried activity) skipped. It returns the keys written;
 * `writtenEvents` maps them back.
 */
export function insertEvents(db: Db, leadId: string, events: TimelineEvent[]) {
  const rows = events.map(({ key, at, type, actor, data }) => ({ key, at, type, actor, data }));
  return db`
    INSERT INTO lead_events (lead_id, event_key, at, type, actor, data)
    SELECT ${leadId}, e.key, e.at, e.type, e.actor, e.data
    FROM ROWS FROM (jsonb_to_recordset(${db.json(rows as never)}::jsonb) AS (key text, at timestamptz, type text, actor text, data jsonb))
      WITH ORDINALITY AS e (key, at, type, actor, data, n)
    ORDER BY e.n
    ON CONFLICT DO NOTHING
    RETURNING event_key`;
}

/** The events whose keys the INSERT returned, so that metrics count each event once (of two with one key, the first was written). */
export function writtenEvents(events: TimelineEvent[], keys: Iterable<string>): TimelineEvent[] {
  const written = new Set(keys);
  return events.filter((event) => written.delete(event.key));
}

/** A lead's timeline, oldest first, as the API shows it (no event keys). */
export async function readTimeline(sql: Sql, leadId: string): Promise<Omit<TimelineEvent, 'key'>[]> {
  const rows = await sql<{ at: Date; type: string; actor: string; data: Record<string, unknown> }[]>`
    SELECT at, type, actor, data FROM lead_events WHERE lead_id = ${leadId} ORDER BY at, id`;
  return rows.map((r) => ({ ...r, at: r.at.toISOString() }));
}
