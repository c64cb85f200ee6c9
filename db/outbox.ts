import { context, propagation } from '@opentelemetry/api';
import { crmPushesFor } from '../domain/crm';
import { testEmailKind, type RenderedEmail } from '../domain/email-template';
import type { OutboxNotification, TimelineEvent } from '../domain/lead-record';
import type { Db, Sql } from './client';

/** How an outbox entry is delivered (migrations 0014, 0025, 0026): a push to a CRM is an entry on the `crm` channel. */
export type DeliveryChannel = 'webhook' | 'email' | 'slack' | 'crm';

/**
 * Email to the lead itself: outreach (a cadence step, a re-engagement), sent on the step's channel,
 * and the consent confirmation a capture's opt-in after an opt-out asks for, always by email.
 */
const outreachKinds: ReadonlySet<string> = new Set(['cadence_step', 'reengagement', 'consent_confirmation']);

/**
 * The W3C `traceparent` of the span the statement is built in (the routing activity's, the
 * request's), stored with the entries it queues so that their delivery continues its trace
 * (worker/notifier.ts); null when tracing is off (no propagator is installed, nothing is injected).
 */
export function activeTraceParent(): string | null {
  const carrier: { traceparent?: string } = {};
  propagation.inject(context.active(), carrier);
  return carrier.traceparent ?? null;
}

/**
 * The INSERT that queues alerts for delivery, as a fragment for the statement that saves the lead
 * (db/leads.ts); one already queued (same key) is not queued again. Outreach on the `email` channel
 * goes out by email to the lead. An alert to a rep (or a
 * manager, who is a rep) also goes to the rep by email, as a second entry (`<key>:email`) right
 * after it; the rep's address is looked up when it is sent, so it is never copied into the outbox.
 * A rep with a Slack member id also gets it in Slack, a third entry (`<key>:slack`), whose member
 * id is likewise read when it is sent (docs/features/email-and-notifications.md "Slack").
 */
export function insertNotifications(db: Db, leadId: string | null, notifications: OutboxNotification[]) {
  const rows = notifications.map((n) => {
    const outreach = outreachKinds.has(n.kind);
    const channel: DeliveryChannel = outreach && n.data.channel === 'email' ? 'email' : 'webhook';
    return { key: n.key, kind: n.kind, recipient: n.recipient, message: n.message, data: n.data, channel, outreach };
  });
  return db`
    INSERT INTO notifications (dedupe_key, lead_id, kind, recipient, message, data, channel, trace_parent)
    SELECT entry.dedupe_key, ${leadId}, n.kind, entry.recipient, n.message, n.data, entry.channel, ${activeTraceParent()}::text
    FROM ROWS FROM (jsonb_to_recordset(${db.json(rows as never)}::jsonb)
                    AS (key text, kind text, recipient text, message text, data jsonb, channel text, outreach boolean))
      WITH ORDINALITY AS n (key, kind, recipient, message, data, channel, outreach, i)
    CROSS JOIN LATERAL (
      SELECT n.key AS dedupe_key, n.recipient, n.channel, 0 AS copy
      UNION ALL
      SELECT n.key || ':email', r.id, 'email', 1 FROM reps r WHERE NOT n.outreach AND r.id = n.recipient AND r.email <> ''
      UNION ALL
      SELECT n.key || ':slack', r.id, 'slack', 2 FROM reps r WHERE NOT n.outreach AND r.id = n.recipient AND r.slack_user_id IS NOT NULL
    ) entry
    ORDER BY n.i, entry.copy
    ON CONFLICT (dedupe_key) DO NOTHING`;
}

/**
 * The INSERT that queues the CRM pushes a save's events call for (`crmPushesFor`), one per
 * connection, as a fragment for the statement that saves the lead (db/leads.ts,
 * docs/features/crm.md): with no connection it inserts nothing. An entry holds which push and why
 * (and a conversion's opportunity), never the lead's personal data, which is read when it is
 * delivered. Its key is the connection's and the event's: a retried save queues nothing twice.
 * Undefined when the events call for no push.
 */
export function insertCrmPushes(db: Db, leadId: string, events: TimelineEvent[]) {
  const pushes = crmPushesFor(events);
  if (pushes.length === 0) return undefined;
  return db`
    INSERT INTO notifications (dedupe_key, lead_id, kind, recipient, message, data, channel, trace_parent)
    SELECT 'crm:' || c.id || ':' || p.key, ${leadId}, 'crm_sync', c.id, 'CRM ' || p.push || ' push',
           jsonb_build_object('push', p.push, 'event', p.event, 'opportunity', p.opportunity), 'crm', ${activeTraceParent()}::text
    FROM jsonb_to_recordset(${db.json(pushes as never)}::jsonb) AS p (key text, push text, event text, opportunity jsonb)
    CROSS JOIN crm_connections c
    ON CONFLICT (dedupe_key) DO NOTHING`;
}

/**
 * Queues a test email of a draft template (domain/email-template.ts `renderTestEmail`), rendered
 * already, to the address given: the one entry whose address is in the outbox, in its `data`
 * (never in `recipient`, which ops list, nor in its key, which logs name). `recipient` says who sent it.
 */
export async function enqueueTestEmail(
  sql: Sql,
  entry: { key: string; sender: string; label: string; to: string; email: RenderedEmail },
): Promise<void> {
  const { key, sender, label, to, email } = entry;
  await sql`
    INSERT INTO notifications (dedupe_key, lead_id, kind, recipient, message, data, channel, trace_parent)
    VALUES (${key}, NULL, ${testEmailKind}, ${sender}, ${label}, ${sql.json({ to, ...email } as never)}, 'email', ${activeTraceParent()}::text)
    ON CONFLICT (dedupe_key) DO NOTHING`;
}

/** Queues alerts for delivery (`insertNotifications`), in one statement: atomic without a transaction of its own. */
export async function enqueueNotifications(db: Db, leadId: string | null, notifications: OutboxNotification[]): Promise<void> {
  if (notifications.length > 0) await insertNotifications(db, leadId, notifications);
}

/** An outbox entry claimed for delivery. */
export interface OutboxEntry {
  id: string;
  dedupe_key: string;
  lead_id: string | null;
  kind: string;
  recipient: string;
  message: string;
  data: Record<string, unknown>;
  channel: DeliveryChannel;
  /** Including this one. */
  attempts: number;
  /** When it was queued: the time of the save that queued it (a CRM Opportunity's close date counts from it). */
  created_at: Date;
  /** The trace it was queued in (`activeTraceParent`), which its delivery continues; null when tracing was off. */
  trace_parent: string | null;
}

/**
 * Claims up to `limit` due entries with SKIP LOCKED, so several notifiers never claim the same
 * one. A claim is a 60-second lease: an entry whose delivery is never answered (crash) becomes
 * due again when it ends. CRM pushes (`crm: true`) are claimed apart from alerts and outreach
 * (`crm: false`), so a slow or paced CRM never holds up a rep's alert.
 */
export function claimDue(sql: Sql, limit: number, { crm }: { crm: boolean }): Promise<OutboxEntry[]> {
  return sql<OutboxEntry[]>`
    UPDATE notifications SET attempts = attempts + 1, last_attempt_at = now(), next_attempt_at = now() + interval '60 seconds'
    WHERE id IN (SELECT id FROM notifications WHERE status = 'pending' AND next_attempt_at <= now() AND (channel = 'crm') = ${crm}
                 ORDER BY id LIMIT ${limit} FOR UPDATE SKIP LOCKED)
    RETURNING id, dedupe_key, lead_id, kind, recipient, message, data, channel, attempts, created_at, trace_parent`;
}

export async function markSent(sql: Sql, id: string): Promise<void> {
  await sql`UPDATE notifications SET status = 'sent', sent_at = now(), last_error = NULL WHERE id = ${id}`;
}

/** A Slack message posted for an entry (its conversation and timestamp, what `chat.update` takes), in the same statement that marks it sent. */
export async function markSentToSlack(sql: Sql, id: string, message: { channel: string; ts: string }): Promise<void> {
  await sql`
    UPDATE notifications SET status = 'sent', sent_at = now(), last_error = NULL, slack_channel = ${message.channel}, slack_ts = ${message.ts}
    WHERE id = ${id}`;
}

/** The Slack messages posted about a lead to a rep, oldest first: what a click on one of them updates. */
export function slackMessagesOf(
  sql: Sql,
  leadId: string,
  repId: string,
): Promise<{ kind: string; message: string; channel: string; ts: string }[]> {
  return sql<{ kind: string; message: string; channel: string; ts: string }[]>`
    SELECT kind, message, slack_channel AS channel, slack_ts AS ts FROM notifications
    WHERE lead_id = ${leadId} AND recipient = ${repId} AND slack_ts IS NOT NULL
    ORDER BY id`;
}

/** Never delivered, on purpose (e.g. nowhere to deliver to). */
export async function markSkipped(sql: Sql, id: string, why: string): Promise<void> {
  await sql`UPDATE notifications SET status = 'skipped', last_error = ${why} WHERE id = ${id}`;
}

/** Why an attempt failed, and what that means for the entry. */
export interface DeliveryFailure {
  /** Kept in `last_error`: must hold no secret (the webhook URL). */
  error: string;
  /** Retrying cannot help (e.g. the webhook answered 404): dead-letter now. */
  permanent: boolean;
  /** When the entry may still be retried: due again this much later. */
  retryInSeconds: number;
  /** An entry this old that fails is dead-lettered rather than retried (`notify.deadAfter`). */
  deadAfterSeconds: number;
}

/**
 * Records a failed attempt. The entry becomes `dead` (out of the retry loop, listed for ops) when
 * the failure is permanent or the entry has been failing longer than `deadAfterSeconds`, judged on
 * the database clock like every other outbox time; otherwise it is due again later. Answers the
 * entry's status after the failure.
 */
export async function markFailed(sql: Sql, id: string, failure: DeliveryFailure): Promise<'pending' | 'dead'> {
  const [row] = await sql<{ status: 'pending' | 'dead' }[]>`
    UPDATE notifications SET last_error = ${failure.error},
      status = CASE WHEN ${failure.permanent}::boolean OR created_at <= now() - make_interval(secs => ${failure.deadAfterSeconds})
                    THEN 'dead' ELSE status END,
      next_attempt_at = now() + make_interval(secs => ${failure.retryInSeconds})
    WHERE id = ${id}
    RETURNING status`;
  return row?.status ?? 'pending';
}

export const notificationStatuses = ['pending', 'sent', 'skipped', 'dead'] as const;
export type NotificationStatus = (typeof notificationStatuses)[number];

/** An outbox entry as ops see it (GET /notifications); the message and data stay in the table. */
export interface StoredNotification {
  id: string;
  kind: string;
  recipient: string;
  leadId: string | null;
  channel: DeliveryChannel;
  status: NotificationStatus;
  attempts: number;
  lastError: string | null;
  createdAt: string;
  lastAttemptAt: string | null;
  sentAt: string | null;
}

/** Where a page ended: the creation time (as Postgres prints it, full precision) and id of its last entry. */
export type NotificationPosition = [createdAt: string, id: string];

/** Outbox entries newest first, optionally of one status, a page at a time after `after`. */
export async function listNotifications(
  sql: Sql,
  filter: { status?: NotificationStatus; after?: NotificationPosition; limit: number },
): Promise<{ notifications: StoredNotification[]; next: NotificationPosition | null }> {
  const { status, after, limit } = filter;
  // The cursor's time goes in as text: typed timestamptz, postgres.js would pass it through a JS
  // Date and lose the microseconds, skipping the rest of the entries created in that millisecond.
  const rows = await sql<
    {
      id: string;
      kind: string;
      recipient: string;
      lead_id: string | null;
      channel: DeliveryChannel;
      status: NotificationStatus;
      attempts: number;
      last_error: string | null;
      created_at: Date;
      last_attempt_at: Date | null;
      sent_at: Date | null;
      cursor_at: string;
    }[]
  >`
    SELECT id, kind, recipient, lead_id, channel, status, attempts, last_error, created_at, last_attempt_at, sent_at, created_at::text AS cursor_at
    FROM notifications
    WHERE true
      ${status ? sql`AND status = ${status}` : sql``}
      ${after ? sql`AND (created_at, id) < (${after[0]}::text::timestamptz, ${after[1]}::bigint)` : sql``}
    ORDER BY created_at DESC, id DESC
    LIMIT ${limit + 1}`;
  const page = rows.slice(0, limit);
  const last = page.at(-1);
  return {
    notifications: page.map((row) => ({
      id: row.id,
      kind: row.kind,
      recipient: row.recipient,
      leadId: row.lead_id,
      channel: row.channel,
      status: row.status,
      attempts: row.attempts,
      lastError: row.last_error,
      createdAt: row.created_at.toISOString(),
      lastAttemptAt: row.last_attempt_at?.toISOString() ?? null,
      sentAt: row.sent_at?.toISOString() ?? null,
    })),
    next: rows.length > limit && last ? [last.cursor_at, last.id] : null,
  };
}
