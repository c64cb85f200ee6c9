import { applyConsent, type Consent, type ConsentRecord, type ConsentStatus } from '../domain/consent';
import type { LeadRow } from './rows';
import type { Sql } from './client';

/** What an email to a lead is addressed and rendered with, read when it is sent. */
export interface EmailLead {
  leadId: string;
  email: string;
  firstName: string | null;
  lastName: string | null;
  company: string | null;
  title: string | null;
  country: string | null;
  industry: string | null;
  source: string;
  /** The lead's email consent as stored now: checked again right before each send. */
  emailConsent: ConsentStatus;
}

/** The lead as an email to it needs it, or undefined when it is not stored (erased). */
export async function emailLead(sql: Sql, leadId: string): Promise<EmailLead | undefined> {
  const [row] = await sql<
    Pick<LeadRow, 'lead_id' | 'email' | 'first_name' | 'last_name' | 'company' | 'title' | 'country' | 'industry' | 'source' | 'consent'>[]
  >`
    SELECT lead_id, email, first_name, last_name, company, title, country, industry, source, consent FROM leads WHERE lead_id = ${leadId}`;
  if (!row) return undefined;
  return {
    leadId: row.lead_id,
    email: row.email,
    firstName: row.first_name,
    lastName: row.last_name,
    company: row.company,
    title: row.title,
    country: row.country,
    industry: row.industry,
    source: row.source,
    emailConsent: row.consent.email?.status ?? 'unknown',
  };
}

/** A rep's address (a manager is a rep), or undefined for a rep that no longer exists. */
export async function repEmail(sql: Sql, repId: string): Promise<string | undefined> {
  const [row] = await sql<{ email: string }[]>`SELECT email FROM reps WHERE id = ${repId}`;
  return row?.email || undefined;
}

/**
 * Withdraws email consent of a closed lead (no workflow runs to do it) straight in its row, with
 * a `consent_changed` event, so that a later reactivation (which loads the lead from here) starts
 * opted out. Answers false when the lead is not closed (its workflow decides) or already opted out.
 */
export async function withdrawEmailConsentOfClosedLead(
  sql: Sql,
  leadId: string,
  closedStatuses: readonly string[],
  eventKey: string,
): Promise<boolean> {
  return sql.begin(async (tx) => {
    const at = new Date().toISOString();
    const record = { status: 'opted_out', at, source: 'activity:unsubscribed' };
    const [row] = await tx<{ from: string | null }[]>`
      UPDATE leads l SET consent = jsonb_set(l.consent, '{email}', ${tx.json(record)}), updated_at = now()
      FROM (SELECT lead_id, consent->'email'->>'status' AS status FROM leads WHERE lead_id = ${leadId} FOR UPDATE) old
      WHERE l.lead_id = old.lead_id AND l.status IN ${tx(closedStatuses as string[])} AND old.status IS DISTINCT FROM 'opted_out'
      RETURNING old.status AS from`;
    if (!row) return false;
    await tx`
      INSERT INTO lead_events (lead_id, event_key, at, type, actor, data)
      VALUES (${leadId}, ${eventKey}, ${at}, 'consent_changed', 'unsubscribe_link',
              ${tx.json({ channel: 'email', from: row.from ?? 'unknown', to: 'opted_out', source: 'activity:unsubscribed', text: null })})
      ON CONFLICT DO NOTHING`;
    return true;
  });
}

/**
 * Confirms email consent of a closed lead (no workflow runs to do it) by the rule a running lead
 * follows (`applyConsent`: a confirmed opt-in newer than the opt-out), straight in its row, with a
 * `consent_changed` event. Answers false when nothing changed (not closed, not opted out, stale).
 */
export async function confirmEmailConsentOfClosedLead(
  sql: Sql,
  leadId: string,
  closedStatuses: readonly string[],
  eventKey: string,
  at: string,
): Promise<boolean> {
  return sql.begin(async (tx) => {
    const [row] = await tx<{ consent: Consent }[]>`
      SELECT consent FROM leads WHERE lead_id = ${leadId} AND status IN ${tx(closedStatuses as string[])} FOR UPDATE`;
    if (!row) return false;
    const record: ConsentRecord = { status: 'opted_in', at, source: 'confirmation_link', confirmed: true };
    const { change } = applyConsent(row.consent, 'email', record);
    if (!change) return false;
    await tx`UPDATE leads SET consent = jsonb_set(consent, '{email}', ${tx.json(record as never)}), updated_at = now() WHERE lead_id = ${leadId}`;
    await tx`
      INSERT INTO lead_events (lead_id, event_key, at, type, actor, data)
      VALUES (${leadId}, ${eventKey}, ${at}, 'consent_changed', 'confirmation_link',
              ${tx.json({ channel: 'email', from: change.from, to: 'opted_in', source: 'confirmation_link', text: null })})
      ON CONFLICT DO NOTHING`;
    return true;
  });
}
