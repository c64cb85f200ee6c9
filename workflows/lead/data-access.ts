import { log, proxyActivities, proxyLocalActivities, workflowInfo } from '@temporalio/workflow';
import type { createActivities } from '../../activities';
import type { LeadPolicy } from '../../domain/config';
import { durationMs } from '../../domain/duration';
import { outlasted } from './failures';

export type Activities = ReturnType<typeof createActivities>;

const dataAccess = {
  startToCloseTimeout: '10 seconds',
  retry: { initialInterval: '200 milliseconds', maximumInterval: '10 seconds' },
} as const;

/**
 * Attempts that fit `retryFor` on that backoff. Local activities are bounded by attempts: the
 * worker does not stop retrying one at its schedule-to-close timeout (seen with SDK 1.24).
 */
export function attemptsWithin(retryFor: number): number {
  let attempts = 1;
  for (let waited = 0, pause = 200; waited < retryFor; attempts += 1, pause = Math.min(pause * 2, 10_000)) waited += pause;
  return attempts;
}

/**
 * Local activities one workflow task may run before it completes (`DataAccess.taskFull`). A task
 * holds its local activities, the answers it owes and the signals arriving meanwhile until it
 * completes; a few dozen milliseconds each on a loaded worker, this keeps a task near a second at
 * most, whatever the queue (a longer one is reported as "Workflow task duration exceeded").
 */
const localCallsPerTask = 12;

/**
 * How a lead's workflow reaches its data. What someone waits for (a capture being routed, a rep's
 * action) runs as local activities: short Postgres transactions run by the worker inside the
 * workflow task, without the round trips of scheduling activity tasks through the server — that is
 * most of speed-to-lead. What timers start (the SLA ladder, routing retries, decay, re-enrichment)
 * runs as ordinary activities, which the server retries and the UI shows as pending through a long
 * outage. Either retries a transient failure for `dataAccess.retryFor`, then more slowly.
 */
export class DataAccess {
  /** Local activities run in the current workflow task. */
  private localCalls = 0;
  /** Data accesses that outlasted their retry window in this run (keys their alerts). */
  private stalls = 0;
  private readonly fast: Activities;
  private readonly slow: Activities;
  private readonly enrichFast: Activities['enrichLead'];
  private readonly enrichDurable: Activities['enrichLead'];
  /** Ordinary activities without the fallback: the no-op that ends a task, and alerts about stalls. */
  private readonly durable = proxyActivities<Activities>(dataAccess);

  constructor(
    private readonly leadId: string,
    policy: LeadPolicy,
  ) {
    const { retryFor, slowRetryFirst, slowRetryMax } = policy.dataAccess;
    const bounded = { ...dataAccess, scheduleToCloseTimeout: durationMs(retryFor) };
    const patient = proxyActivities<Activities>({
      ...dataAccess,
      retry: { initialInterval: durationMs(slowRetryFirst), maximumInterval: durationMs(slowRetryMax) },
    });
    const local = proxyLocalActivities<Activities>({
      ...bounded,
      retry: { ...dataAccess.retry, maximumAttempts: attemptsWithin(durationMs(retryFor)) },
      // A local activity holds its workflow task open while it retries (by default for backoffs up
      // to a minute), and nothing the workflow answers meanwhile leaves: neither a capture's answer
      // nor a read's query. Past a second's backoff a timer waits instead, so through a Postgres
      // outage captures are still answered at once.
      localRetryThreshold: '1 second',
    });
    this.fast = this.counted(this.patiently(local, patient, retryFor));
    this.slow = this.patiently(proxyActivities<Activities>(bounded), patient, retryFor);
    // Enrichment never holds speed-to-lead up longer than its budget; the provider retries within it.
    const enrichment = { startToCloseTimeout: durationMs(policy.enrichment.budget), retry: { maximumAttempts: 1 } };
    this.enrichFast = this.counted(proxyLocalActivities<Activities>(enrichment)).enrichLead;
    this.enrichDurable = proxyActivities<Activities>(enrichment).enrichLead;
  }

  /** Data access: local while someone waits, ordinary otherwise. */
  io(someoneWaits: boolean): Activities {
    return someoneWaits ? this.fast : this.slow;
  }

  enrichLead(someoneWaits: boolean): Activities['enrichLead'] {
    return someoneWaits ? this.enrichFast : this.enrichDurable;
  }

  /** The current workflow task has run as many local activities as it should hold. */
  get taskFull(): boolean {
    return this.localCalls >= localCallsPerTask;
  }

  /** Completes the current workflow task (by scheduling a no-op activity): what it answered leaves, and its local activities are recorded. */
  async endTask() {
    this.localCalls = 0;
    await this.durable.noop();
  }

  private counted(activities: Activities): Activities {
    return new Proxy({} as Activities, {
      get:
        (_, name: keyof Activities) =>
        (...args: unknown[]) => {
          this.localCalls += 1;
          return (activities[name] as (...a: unknown[]) => Promise<unknown>)(...args);
        },
    });
  }

  /**
   * Data access that outlasts an outage: once a call has failed for its whole retry window, the
   * worker logs a warning and the call goes on as an ordinary activity that the server retries ever
   * more slowly (`slowRetryFirst` doubling up to `slowRetryMax`), shown as pending in the UI. Once
   * it succeeds, ops gets an alert in the outbox saying how long the lead waited. Nothing is lost.
   */
  private patiently(activities: Activities, patient: Activities, retryFor: string): Activities {
    return new Proxy({} as Activities, {
      get:
        (_, name: keyof Activities) =>
        async (...args: unknown[]) => {
          const call = (via: Activities) => (via[name] as (...a: unknown[]) => Promise<unknown>)(...args);
          try {
            return await call(activities);
          } catch (error) {
            if (!outlasted(error)) throw error;
            const since = new Date().toISOString();
            log.warn('lead data access stalled', { leadId: this.leadId, activity: name, retryFor });
            const result = await call(patient);
            const message = `Lead ${this.leadId}: ${name} failed from ${since} until ${new Date().toISOString()} (retried for ${retryFor}, then more slowly)`;
            await patient.queueAlert({
              leadId: this.leadId,
              notification: {
                key: `${workflowInfo().runId}:stalled:${++this.stalls}`,
                kind: 'data_access_stalled',
                recipient: 'ops',
                message,
                data: { leadId: this.leadId, activity: name, since },
              },
            });
            return result;
          }
        },
    });
  }
}
