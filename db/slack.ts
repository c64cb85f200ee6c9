import type { SlackLeadSummary } from '../domain/slack-blocks';
import type { LeadRow, RepRow } from './rows';
import type { Sql } from './client';

/** What a Slack alert shows of its lead (domain/slack-blocks.ts), read when it is posted or updated; undefined: not stored (erased). */
export async function slackLeadSummary(sql: Sql, leadId: string): Promise<SlackLeadSummary | undefined> {
  const [row] = await sql<Pick<LeadRow, 'company' | 'title' | 'score' | 'priority' | 'sla_due_at' | 'status'>[]>`
    SELECT company, title, score, priority, sla_due_at, status FROM leads WHERE lead_id = ${leadId}`;
  if (!row) return undefined;
  return {
    company: row.company,
    title: row.title,
    score: row.score,
    priority: row.priority,
    slaDueAt: row.sla_due_at?.toISOString() ?? null,
    status: row.status,
  };
}

/** A rep's name and Slack member id (a manager is a rep), or undefined for a rep that no longer exists. */
export async function slackRep(sql: Sql, repId: string): Promise<{ name: string; slackUserId: string | null } | undefined> {
  const [row] = await sql<Pick<RepRow, 'name' | 'slack_user_id'>[]>`SELECT name, slack_user_id FROM reps WHERE id = ${repId}`;
  return row ? { name: row.name, slackUserId: row.slack_user_id } : undefined;
}
