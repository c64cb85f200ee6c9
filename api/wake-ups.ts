import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import type { Sql } from '../db/client';
import { waitingLeadsFor } from '../db/wake-ups';
import { couldServe, hasChanges, mergeChanges, noChanges, routingTarget, type RoutingChanges } from '../domain/wake-ups';
import { errorFields, type Logger } from '../observability/logger';
import { retryRoutingSignal } from '../contracts/lead';

/**
 * At most this many `retryRouting` signals a second leave one API process. Each one is a workflow
 * task and a routing transaction that locks a team's rows (activities/routing.ts), on the same
 * engine, worker and Postgres as new captures. The engine here runs 25–75 no-op workflows/s and the
 * lead pipeline about half of that (docs/benchmarks.md), so wake-ups keep to a share of it
 * that captures can live beside; a team's 200 waiting leads still all try again within 10 s.
 */
export const wakeUpsPerSecond = 20;

/**
 * A lead signalled less than this long ago waits until this long has passed before its next
 * signal (it stays queued once, however many changes concern it meanwhile). A run of edits (an
 * import script patching 50 reps) spans seconds: the lead is woken at its start and once after,
 * not once per edit. Far below the queue's own first retry (`routing.unassignedRetryFirst`, 1 min).
 */
export const sameLeadAfterMs = 5_000;

/** Leads queued at most: what one read of the waiting leads takes. Beyond it a lead keeps its own backoff. */
const mostQueued = 10_000;
/** Signals go out in small batches, one batch a tick: `wakeUpsPerSecond` on average, never a burst of a second's worth. */
const tickMs = 250;
/** How long `stop()` waits for the batch under way (its signals fail once the Temporal connection closes). */
const stopGraceMs = 2_000;

export interface WakeUps {
  /**
   * Notes a change to reps (ids, with their teams before and after), teams (ids) or accounts
   * (domains): the waiting leads it could serve are found and signalled in the background, at the
   * rate above. Never waits and never throws: the caller's answer does not depend on it.
   */
  changed(change: Partial<Record<keyof RoutingChanges, Iterable<string>>>): void;
  /** Resolves once nothing is left to find or send (for tests). */
  settled(): Promise<void>;
  /** Drops what is left (those leads keep their own backoff) and resolves within `stopGraceMs`. */
  stop(): Promise<void>;
}

/**
 * The wake-ups of the unassigned queue: one per API process, in memory. Best effort by design, as
 * each waiting lead also retries on its own backoff (1 min doubling to 1 h); with N API processes
 * the rate is N × `wakeUpsPerSecond`.
 */
export function createWakeUps(
  { sql, temporal, log }: { sql: Sql; temporal: Client; log?: Logger },
  options: { perSecond?: number; sameLeadAfterMs?: number } = {},
): WakeUps {
  const perTick = Math.max(1, Math.round(((options.perSecond ?? wakeUpsPerSecond) * tickMs) / 1000));
  const sameLeadAfter = options.sameLeadAfterMs ?? sameLeadAfterMs;
  /** Changes noted and not looked into yet: merged, so a run of edits costs one read. */
  let pending = noChanges();
  /** Leads to signal and not sent yet, in the order found, each with the earliest time it may go. */
  const queued = new Map<string, number>();
  /** When each lead was last signalled, oldest first; forgotten after `sameLeadAfter`. */
  const sent = new Map<string, number>();
  let nextBatchAt = 0;
  let loop: Promise<void> | undefined;
  let stopped = false;
  /** Ends the loop's pause early: a change came in. */
  let interrupt: (() => void) | undefined;

  const pause = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(done, ms);
      interrupt = done;
      function done() {
        clearTimeout(timer);
        interrupt = undefined;
        resolve();
      }
    });

  async function find() {
    const changes = pending;
    pending = noChanges();
    const { leads, teams } = await waitingLeadsFor(sql, changes, mostQueued);
    const now = Date.now();
    for (const [leadId, at] of sent) {
      if (at + sameLeadAfter > now) break;
      sent.delete(leadId);
    }
    for (const lead of leads) {
      if (queued.size >= mostQueued) break;
      if (queued.has(lead.leadId) || !couldServe(changes, lead, routingTarget(lead, teams, lead.account))) continue;
      queued.set(lead.leadId, Math.max(now, (sent.get(lead.leadId) ?? -Infinity) + sameLeadAfter));
    }
  }

  /** The leads due now, at most a tick's worth, taken off the queue. */
  function due(now: number): string[] {
    const batch: string[] = [];
    for (const [leadId, at] of queued) {
      if (at > now) continue;
      batch.push(leadId);
      if (batch.length === perTick) break;
    }
    for (const leadId of batch) queued.delete(leadId);
    return batch;
  }

  async function send(batch: string[], at: number) {
    const failures = (
      await Promise.all(
        batch.map((leadId) =>
          temporal.workflow
            .getHandle(leadId)
            .signal(retryRoutingSignal)
            .then(
              () => undefined,
              // A lead whose workflow is gone (closed by hand, erased) has nothing to wake.
              (error: unknown) => (error instanceof WorkflowNotFoundError ? undefined : error),
            ),
        ),
      )
    ).filter((error) => error !== undefined);
    for (const leadId of batch) {
      sent.delete(leadId);
      sent.set(leadId, at);
    }
    if (failures.length && !stopped)
      log?.warn(
        { failed: failures.length, of: batch.length, ...errorFields(failures[0]) },
        'wake-up signals failed (those leads keep their own backoff)',
      );
  }

  async function run() {
    while (!stopped) {
      if (hasChanges(pending)) {
        await find().catch((error) => {
          if (!stopped) log?.warn(errorFields(error), 'the leads to wake could not be read (they keep their own backoff)');
        });
        continue;
      }
      if (queued.size === 0) return;
      const now = Date.now();
      if (now < nextBatchAt) {
        await pause(nextBatchAt - now);
        continue;
      }
      const batch = due(now);
      if (batch.length === 0) {
        // Every queued lead was signalled moments ago: look again in a tick.
        await pause(tickMs);
        continue;
      }
      nextBatchAt = now + tickMs;
      await send(batch, now);
    }
  }

  function start() {
    loop ??= run()
      .catch((error) => log?.error(errorFields(error), 'the wake-up loop failed'))
      .finally(() => {
        loop = undefined;
        if (!stopped && (hasChanges(pending) || queued.size > 0)) start();
      });
  }

  return {
    changed(change) {
      if (stopped) return;
      mergeChanges(pending, change);
      if (!hasChanges(pending)) return;
      start();
      interrupt?.();
    },
    async settled() {
      while (loop) await loop;
    },
    async stop() {
      stopped = true;
      pending = noChanges();
      queued.clear();
      interrupt?.();
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([loop, new Promise((resolve) => (timer = setTimeout(resolve, stopGraceMs)))]);
      clearTimeout(timer);
    },
  };
}
