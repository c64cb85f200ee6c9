import ky from 'ky';
import type { Sql } from '../db/client';
import { claimDue, markFailed, markSent, markSkipped, type OutboxEntry } from '../db/outbox';

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

  async function deliver(n: OutboxEntry) {
    if (!webhookUrl) {
      await markSkipped(sql, n.id, 'NOTIFY_WEBHOOK_URL is not set');
      return;
    }
    try {
      await ky.post(webhookUrl, {
        json: { text: `[${n.recipient}] ${n.message}`, kind: n.kind, recipient: n.recipient, leadId: n.lead_id, data: n.data },
        headers: { 'idempotency-key': n.dedupe_key },
        timeout: 5000,
        retry: 0,
      });
      await markSent(sql, n.id);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      await markFailed(sql, n.id, message, backoffSeconds(n.attempts));
      log(`notifier: delivery of ${n.dedupe_key} failed (attempt ${n.attempts}): ${message}`);
    }
  }

  /** One pass over what is due; returns how many were attempted. */
  async function dispatch(): Promise<number> {
    const due = await claimDue(sql, batchSize);
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
