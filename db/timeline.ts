import type { TimelineEvent } from '../domain/lead-record';
import type { Sql, Tx } from './client';

/**
 * Appends events to a lead's timeline; an event already written (same key: a retried activity) is
 * skipped. Answers the events written now, so that metrics count each event once.
 */
export async function appendEvents(tx: Tx, leadId: string, events: TimelineEvent[]): Promise<TimelineEvent[]> {
  const written: TimelineEvent[] = [];
  for (const event of events) {
    const inserted = await tx`
      INSERT INTO lead_events (lead_id, event_key, at, type, actor, data)
      VALUES (${leadId}, ${event.key}, ${event.at}, ${event.type}, ${event.actor}, ${tx.json(event.data as never)})
      ON CONFLICT DO NOTHING`;
    if (inserted.count > 0) written.push(event);
  }
  return written;
}

/** A lead's timeline, oldest first, as the API shows it (no event keys). */
export async function readTimeline(sql: Sql, leadId: string): Promise<Omit<TimelineEvent, 'key'>[]> {
  const rows = await sql<{ at: Date; type: string; actor: string; data: Record<string, unknown> }[]>`
    SELECT at, type, actor, data FROM lead_events WHERE lead_id = ${leadId} ORDER BY at, id`;
  return rows.map((r) => ({ ...r, at: r.at.toISOString() }));
}
