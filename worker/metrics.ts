import type { ActivityInterceptorsFactory } from '@temporalio/worker';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Sql } from '../db/client';
import { leadsByStatus, outboxState, reportChangesPending } from '../db/metrics';
import { notificationStatuses } from '../db/outbox';
import { leadStatuses } from '../domain/lead';
import type { TimelineEvent } from '../domain/lead-record';
import type { RetentionTable } from '../domain/retention';
import { within } from '../observability/check';
import type { DeliveryOutcome } from './notifier';

/** A gauge read from Postgres gives up after this long, so that a scrape never hangs on an outage. */
const readTimeoutMs = 2000;

/**
 * The worker's own metrics (docs/operations/observability.md), in a prom-client registry of their own. Counters
 * count timeline events as they are first stored (a retried save counts nothing twice), outbox
 * deliveries as they are attempted, and activity retries; the gauges (leads by status, the outbox)
 * are read from Postgres on each scrape, so every worker reports the same totals.
 */
export function createWorkerMetrics(sql: Sql, options: { webhookConfigured: boolean; onReadError?: (error: unknown) => void }) {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const registers = [registry];
  const captures = new Counter({
    name: 'lead_captures_total',
    help: 'Captures stored (first captures and repeat captures of a lead).',
    registers,
  });
  const speedToLead = new Histogram({
    name: 'lead_speed_to_lead_seconds',
    help: "Time from a lead's assignment to its owner's first response (accept or touch).",
    // One minute to three days: the SLAs run from minutes (hot leads) to a business day or two.
    buckets: [60, 300, 900, 1800, 3600, 7200, 14400, 28800, 86400, 172800, 259200],
    registers,
  });
  const reminders = new Counter({ name: 'lead_sla_reminders_total', help: 'SLA reminders sent to owners before the due time.', registers });
  const breaches = new Counter({
    name: 'lead_sla_breaches_total',
    help: 'SLA breaches (an owner did not respond by the due time).',
    registers,
  });
  const escalations = new Counter({
    name: 'lead_sla_escalations_total',
    help: 'Escalations to a manager or the unassigned queue (repeated breaches, idle accepted leads).',
    registers,
  });
  const rejectedInputs = new Counter({
    name: 'lead_rejected_inputs_total',
    help: 'Inputs the data store refused, quarantined in the timeline as rejected_input.',
    registers,
  });
  const deliveries = new Counter({
    name: 'lead_outbox_deliveries_total',
    help: 'Outbox delivery attempts by outcome: sent, retrying (failed, tried again later), dead (dead-lettered), skipped (no webhook).',
    labelNames: ['outcome'],
    registers,
  });
  const retries = new Counter({
    name: 'lead_activity_retries_total',
    help: 'Activity attempts after the first, by activity type (local activities included).',
    labelNames: ['activity'],
    registers,
  });
  const pruned = new Counter({
    name: 'lead_retention_pruned_rows_total',
    help: 'Rows deleted by retention (docs/operations/retention.md), by table.',
    labelNames: ['table'],
    registers,
  });
  new Gauge({
    name: 'lead_notify_webhook_configured',
    help: '1 when NOTIFY_WEBHOOK_URL is set; 0: no alert is delivered, notifications are skipped.',
    registers,
  }).set(options.webhookConfigured ? 1 : 0);

  const readError = options.onReadError ?? (() => {});
  new Gauge({
    name: 'lead_leads',
    help: 'Leads in the read model by status (read from Postgres at each scrape).',
    labelNames: ['status'],
    registers,
    async collect() {
      try {
        const rows = await within(readTimeoutMs, leadsByStatus(sql));
        for (const status of leadStatuses) this.set({ status }, rows.find((row) => row.status === status)?.leads ?? 0);
      } catch (error) {
        this.reset(); // no figure rather than a stale one
        readError(error);
      }
    },
  });
  const outboxOldest = new Gauge({
    name: 'lead_outbox_oldest_pending_age_seconds',
    help: 'Age of the oldest notification still pending delivery (0 when none is).',
    registers,
  });
  new Gauge({
    name: 'lead_outbox_notifications',
    help: 'Outbox entries by status (pending is the backlog; dead needs ops), read from Postgres at each scrape.',
    labelNames: ['status'],
    registers,
    async collect() {
      try {
        const state = await within(readTimeoutMs, outboxState(sql));
        for (const status of notificationStatuses) this.set({ status }, state.byStatus.find((row) => row.status === status)?.entries ?? 0);
        outboxOldest.set(state.oldestPendingSeconds);
      } catch (error) {
        this.reset();
        outboxOldest.reset();
        readError(error);
      }
    },
  });
  new Gauge({
    name: 'lead_report_changes_pending',
    help: "Lead writes (saves, routings, erasures) the worker has not folded into the funnel report's tables yet; growing means folding stopped (reports stay exact, only slower).",
    registers,
    async collect() {
      try {
        this.set(await within(readTimeoutMs, reportChangesPending(sql)));
      } catch (error) {
        this.set(Number.NaN); // unknown: without labels, reset() would read as 0 (nothing pending)
        readError(error);
      }
    },
  });

  return {
    registry,
    /** For `createActivities`: counts the timeline events a save stored for the first time. */
    eventsWritten(events: TimelineEvent[]) {
      for (const event of events) {
        if (event.type === 'captured') captures.inc();
        else if (event.type === 'sla_reminder') reminders.inc();
        else if (event.type === 'sla_breached') breaches.inc();
        else if (event.type === 'escalated') escalations.inc();
        else if (event.type === 'rejected_input') rejectedInputs.inc();
        else if (event.type === 'responded' && typeof event.data.responseMs === 'number') speedToLead.observe(event.data.responseMs / 1000);
      }
    },
    /** For the notifier's `onOutcome`. */
    deliveryOutcome(outcome: DeliveryOutcome) {
      deliveries.inc({ outcome });
    },
    /** For retention's `onPruned`. */
    rowsPruned(table: RetentionTable, rows: number) {
      pruned.inc({ table }, rows);
    },
    /** For the worker's `interceptors.activity`: counts attempts after the first. */
    activityRetries: ((ctx) => ({
      inbound: {
        execute(input, next) {
          if (ctx.info.attempt > 1) retries.inc({ activity: ctx.info.activityType });
          return next(input);
        },
      },
    })) satisfies ActivityInterceptorsFactory,
  };
}

export type WorkerMetrics = ReturnType<typeof createWorkerMetrics>;
