import type { Sql } from '../db/client';
import { leadActivities } from './leads';

/** All activities, bound to their dependencies. Workflows type their proxies with `ReturnType<typeof createActivities>`. */
export function createActivities(sql: Sql) {
  return {
    ...leadActivities(sql),
  };
}
