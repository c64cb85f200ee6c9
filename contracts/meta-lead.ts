/** The input of Meta's lead fetch: its workflow (workflows/hooks/meta-lead.ts) and its activity (activities/sources.ts) take the same. */
export interface MetaLeadInput {
  sourceId: string;
  leadgenId: string;
}
