import ky from 'ky';
import type { Sql } from '../db/client';

interface NotificationRow {
  id: string;
  dedupe_key: string;
  lead_id: string | null;
  kind: string;
  recipient: string;
  message: string;
  data: Record<string, unknown>;
  attempts: number;
}

export interface NotifierOptions {
  sql: Sql;
  /** Slack-compatible incoming webhook; without one, notifications are marked skipped. */
  webhookUrl?: string;
  pollMs?: number;
  batchSize?: number;
  log?: (line: string) => void;
}

/** Seconds to wait before attempt n+1: 2, 4, 8 … up to 10 minutes. */
const backoffSeconds = (attempts: number) => Math.min(2 ** attempts, 600);

/**
 * Delivers the notifications outbox at least once: claims due rows with SKIP LOCKED (several
 * workers can run), posts each to the webhook with its de-duplication key, and backs off on
 * failure. A claimed row that is never answered (crash) becomes due again when its lease ends.
 */
export function startNotifier({ sql, webhookUrl, pollMs = 500, batchSize = 50, log = () => {} }: NotifierOptions) {
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<number> = Promise.resolve(0);

  async function deliver(n: NotificationRow) {
    if (!webhookUrl) {
      await sql`UPDATE notifications SET status = 'skipped', last_error = 'NOTIFY_WEBHOOK_URL is not set' WHERE id = ${n.id}`;
      return;
    }
    try {
      await ky.post(webhookUrl, {
        json: { text: `[${n.recipient}] ${n.message}`, kind: n.kind, recipient: n.recipient, leadId: n.lead_id, data: n.data },
        headers: { 'idempotency-key': n.dedupe_key },
        timeout: 5000,
        retry: 0,
      });
      await sql`UPDATE notifications SET status = 'sent', sent_at = now(), last_error = NULL WHERE id = ${n.id}`;
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      await sql`UPDATE notifications SET last_error = ${message},
                  next_attempt_at = now() + make_interval(secs => ${backoffSeconds(n.attempts)}) WHERE id = ${n.id}`;
      log(`notifier: delivery of ${n.dedupe_key} failed (attempt ${n.attempts}): ${message}`);
    }
  }

  /** One pass over what is due; returns how many were attempted. */
  async function dispatch(): Promise<number> {
    const due = await sql<NotificationRow[]>`
      UPDATE notifications SET attempts = attempts + 1, next_attempt_at = now() + interval '60 seconds'
      WHERE id IN (SELECT id FROM notifications WHERE status = 'pending' AND next_attempt_at <= now()
                   ORDER BY id LIMIT ${batchSize} FOR UPDATE SKIP LOCKED)
      RETURNING id, dedupe_key, lead_id, kind, recipient, message, data, attempts`;
    await Promise.all(due.map(deliver));
    return due.length;
  }

  const loop = () => {
    if (stopped) return;
    running = dispatch()
      .catch((error) => {
        log(`notifier: ${error instanceof Error ? error.message : error}`);
        return 0;
      })
      .finally(() => {
        if (!stopped) timer = setTimeout(loop, pollMs);
      });
  };
  loop();

  return {
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await running;
    },
  };
}
