import type { Sql } from '../db/client';
import { enrichmentActivities, localProvider } from './enrichment';
import type { EnrichmentProvider } from './enrichment';
import { leadActivities } from './leads';
import { routingActivities } from './routing';

export interface ActivityDeps {
  sql: Sql;
  enrichment?: EnrichmentProvider;
}

/** All activities, bound to their dependencies. Workflows type their proxies with `ReturnType<typeof createActivities>`. */
export function createActivities({ sql, enrichment = localProvider() }: ActivityDeps) {
  return {
    ...leadActivities(sql),
    ...enrichmentActivities(enrichment),
    ...routingActivities(sql),
  };
}
