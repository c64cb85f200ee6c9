import type { Sql } from '../db/client';
import type { LeadConfig } from '../domain/config';
import { cadenceStore } from '../db/cadences';
import { scoringModelStore } from '../db/scoring-models';
import { configuredModel } from '../domain/scoring-model';
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
 * All activities, bound to their dependencies. Workflows type their proxies with
 * `ReturnType<typeof createActivities>`. A permanent data error fails non-retryably (failures.ts).
 */
export function createActivities({ sql, config, enrichment = localProvider(), eventsWritten }: ActivityDeps) {
  const leads = leadActivities(sql, eventsWritten);
  return failingPermanentlyOnBadData({
    ...leads,
    ...scoringModelActivities(sql, scoringModelStore(sql, configuredModel(config))),
    ...enrichmentActivities(enrichment),
    ...routingActivities(sql, eventsWritten),
    ...cadenceActivities(cadenceStore(sql, config.cadences)),
    /**
     * Does nothing: a workflow schedules it to complete its current workflow task at once and go
     * on a moment later (a timer of the dev server may fire most of a second late under load).
     */
    async noop(): Promise<void> {},
  });
}
