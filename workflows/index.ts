export { leadWorkflow } from './lead/workflow';
