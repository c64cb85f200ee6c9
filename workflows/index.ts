export { leadWorkflow } from './lead/workflow';
export { metaLeadWorkflow } from './hooks/meta-lead';
