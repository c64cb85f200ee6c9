import type { Sql } from './client';

// Export and erasure of the data held about a person. Everything keyed by the lead id:
// the lead, its timeline, its notifications and outreach, and the idempotency answers that hold it.

export interface StoredNotification {
  kind: string;
  recipient: string;
  message: string;
  data: Record<string, unknown>;
  status: string;
  createdAt: string;
  sentAt: string | null;
}

/** Every notification about the lead (alerts to reps and ops) and to it (outreach), oldest first. */
export async function notificationsOfLead(sql: Sql, leadId: string): Promise<StoredNotification[]> {
  const rows = await sql<
    {
      kind: string;
      recipient: string;
      message: string;
      data: Record<string, unknown>;
      status: string;
      created_at: Date;
      sent_at: Date | null;
    }[]
  >`
    SELECT kind, recipient, message, data, status, created_at, sent_at FROM notifications WHERE lead_id = ${leadId} ORDER BY id`;
  return rows.map((r) => ({
    kind: r.kind,
    recipient: r.recipient,
    message: r.message,
    data: r.data,
    status: r.status,
    createdAt: r.created_at.toISOString(),
    sentAt: r.sent_at?.toISOString() ?? null,
  }));
}

export interface Erasure {
  leadId: string;
  erasedAt: string;
  erasedBy: string;
  reason: string;
  /** Temporal workflows deleted with the lead's own (its Meta lead fetches). */
  workflowIds: string[];
}

type ErasureRow = { lead_id: string; erased_at: Date; erased_by: string; reason: string; workflow_ids: string[] };

const erasureFromRow = (r: ErasureRow): Erasure => ({
  leadId: r.lead_id,
  erasedAt: r.erased_at.toISOString(),
  erasedBy: r.erased_by,
  reason: r.reason,
  workflowIds: r.workflow_ids,
});

/** The latest erasure of the lead id, if it was ever erased. */
export async function lastErasure(sql: Sql, leadId: string): Promise<Erasure | undefined> {
  const [row] = await sql<ErasureRow[]>`
    SELECT lead_id, erased_at, erased_by, reason, workflow_ids FROM erasures WHERE lead_id = ${leadId} ORDER BY erased_at DESC, id DESC LIMIT 1`;
  return row && erasureFromRow(row);
}

/**
 * Deletes every row about the lead and records the tombstone, in one transaction. Idempotency
 * answers are found by the lead id in the stored answer (captures answer it, actions answer the
 * whole lead); their request hashes alone cannot be read back. `runIds` are the erased workflow
 * runs of the lead: a save one of them still sends is refused (migration 0028).
 */
export async function eraseLeadRows(
  sql: Sql,
  erasure: Omit<Erasure, 'erasedAt' | 'workflowIds'> & { workflowIds?: string[]; runIds?: string[] },
): Promise<Erasure> {
  const { leadId } = erasure;
  return sql.begin(async (tx) => {
    // Alone, against the saves that share the lock: one already under way commits first and is
    // deleted below; one that begins now waits, then finds its run in the tombstone.
    await tx`SELECT pg_advisory_xact_lock(lead_lock_key(${leadId}))`;
    // Its marks for the report's next fold (migration 0019) first: a fold under way takes the marks,
    // then a key share lock on the lead. Deleting them after the lead would wait for that fold while
    // holding the lead's row, for which the fold waits.
    await tx`DELETE FROM lead_changes WHERE lead_id = ${leadId}`;
    await tx`DELETE FROM lead_events WHERE lead_id = ${leadId}`;
    await tx`DELETE FROM notifications WHERE lead_id = ${leadId} OR data->>'leadId' = ${leadId}`;
    await tx`DELETE FROM idempotency_keys WHERE strpos(response::text, ${leadId}) > 0`;
    // A form tool's redelivery of the person's submission is then a new capture (a fresh lead), not
    // a duplicate answered with the erased lead's id.
    await tx`DELETE FROM source_deliveries WHERE lead_id = ${leadId}`;
    // Its lead_milestones row goes with it (ON DELETE CASCADE), and 0017's delete trigger takes its
    // counts out of the report's sums at once.
    await tx`DELETE FROM leads WHERE lead_id = ${leadId}`;
    const [row] = await tx<ErasureRow[]>`
      INSERT INTO erasures (lead_id, erased_by, reason, workflow_ids, run_ids)
      VALUES (${leadId}, ${erasure.erasedBy}, ${erasure.reason}, ${erasure.workflowIds ?? []}, ${erasure.runIds ?? []})
      RETURNING lead_id, erased_at, erased_by, reason, workflow_ids`;
    return erasureFromRow(row!);
  });
}

/** The Meta lead fetches of the lead's form submissions (source id and Meta's leadgen id), from the delivery records. */
export async function metaFetchesOfLead(sql: Sql, leadId: string): Promise<{ sourceId: string; leadgenId: string }[]> {
  return sql<{ sourceId: string; leadgenId: string }[]>`
    SELECT d.source_id AS "sourceId", d.event_id AS "leadgenId" FROM source_deliveries d JOIN sources s ON s.id = d.source_id
    WHERE d.lead_id = ${leadId} AND s.vendor = 'meta_lead_ads' ORDER BY d.received_at`;
}
