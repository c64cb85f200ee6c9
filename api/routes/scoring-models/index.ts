import { OpenAPIHono } from '@hono/zod-openapi';
import { scoringModelStore } from '../../../db/scoring-models';
import { configuredModel } from '../../../domain/scoring-model';
import type { ApiDeps, AppEnv } from '../../context';
import { scoringBacktestRoutes } from './backtests';
import { scoringModelVersionRoutes } from './models';
import { scoringRolloutRoutes } from './rollouts';

/** Scoring models as versioned data: publish, read, backtest, roll out, and explain a lead under another version. */
export function scoringModelRoutes(deps: ApiDeps) {
  const store = scoringModelStore(deps.sql, configuredModel(deps.config));
  return new OpenAPIHono<AppEnv>()
    .route('/', scoringModelVersionRoutes(deps, store))
    .route('/', scoringBacktestRoutes(deps, store))
    .route('/', scoringRolloutRoutes(deps, store));
}
