export { leadWorkflow } from './lead/workflow';
export { scoringRolloutWorkflow } from './rollout/workflow';
