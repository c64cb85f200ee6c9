export { leadWorkflow } from './lead/workflow';
export { metaLeadWorkflow } from './hooks/meta-lead';
export { scoringRolloutWorkflow } from './rollout/workflow';
export { scoringBacktestWorkflow } from './backtest/workflow';
