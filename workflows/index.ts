export { leadWorkflow } from './lead';
