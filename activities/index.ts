import type { Sql } from '../db/client';
import type { LeadConfig } from '../domain/config';
import { leadStore, type LeadStore } from '../db/lead-store';
import { backtestActivities } from './backtest';
import { cadenceActivities } from './cadences';
import { enrichmentActivities, localProvider } from './enrichment';
import type { EnrichmentProvider } from './enrichment';
import { failingPermanentlyOnBadData } from './failures';
import { leadActivities, type EventsWritten } from './leads';
import { routingActivities } from './routing';
import { scoringModelActivities } from './scoring-models';

export interface ActivityDeps {
  sql: Sql;
  /** The worker's validated configuration: default cadences and the configured scoring model. */
  config: LeadConfig;
  enrichment?: EnrichmentProvider;
  /** Told each timeline event once it is first stored: the worker's lead metrics. */
  eventsWritten?: EventsWritten;
}

/**
 * The activities of the lead and rollout workflows over a lead store (db/lead-store.ts): Postgres
 * in the worker, memory in the workflow tier's tests, the same code either way.
 */
export function leadStoreActivities({
  store,
  enrichment = localProvider(),
  eventsWritten,
}: { store: LeadStore } & Pick<ActivityDeps, 'enrichment' | 'eventsWritten'>) {
  return {
    ...leadActivities(store, eventsWritten),
    ...scoringModelActivities(store),
    ...enrichmentActivities(enrichment),
    ...routingActivities(store, eventsWritten),
    ...cadenceActivities(store.cadences),
    /**
     * Does nothing: a workflow schedules it to complete its current workflow task at once and go
     * on a moment later (a timer of the dev server may fire most of a second late under load).
     */
    async noop(): Promise<void> {},
  };
}

/**
 * All activities, bound to their dependencies. Workflows type their proxies with
 * `ReturnType<typeof createActivities>`. A permanent data error fails non-retryably (failures.ts).
 */
export function createActivities({ sql, config, enrichment, eventsWritten }: ActivityDeps) {
  return failingPermanentlyOnBadData({
    ...leadStoreActivities({ store: leadStore(sql, config), enrichment, eventsWritten }),
    ...backtestActivities(sql),
  });
}
