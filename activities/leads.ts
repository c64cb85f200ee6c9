import type { Sql } from '../db/client';
import { identityKey } from '../domain/identity';
import { closedStatuses, type CaptureSignal, type LeadStatus } from '../domain/lead';

export interface RecordCaptureInput extends CaptureSignal {
  leadId: string;
}
export interface RecordCaptureResult {
  /** The lead already existed and was open: this capture was merged into it. */
  merged: boolean;
  /** The lead existed but was closed: this capture reopened it. */
  reactivated: boolean;
}

export interface StatusChange {
  leadId: string;
  status: LeadStatus;
  reason?: string;
  at: string;
  /** Idempotency key of the change within the lead. */
  eventKey: string;
}

/** Data access for leads and their timelines. Every write is idempotent on (lead id, event key). */
export function leadActivities(sql: Sql) {
  return {
    /** Upserts the lead (new values only fill empty fields; first-touch source kept) and records the capture in its timeline. */
    async recordCapture({ leadId, captureId, receivedAt, capture }: RecordCaptureInput): Promise<RecordCaptureResult> {
      const eventKey = `capture:${captureId}`;
      return sql.begin(async (tx) => {
        const [before] = await tx<{ status: LeadStatus }[]>`
          SELECT status FROM leads WHERE lead_id = ${leadId} FOR UPDATE`;
        const [seen] = await tx`SELECT 1 FROM lead_events WHERE lead_id = ${leadId} AND event_key = ${eventKey}`;
        const merged = before !== undefined && !closedStatuses.includes(before.status);
        const reactivated = before !== undefined && closedStatuses.includes(before.status);
        if (seen) return { merged, reactivated: false };

        await tx`
          INSERT INTO leads (lead_id, identity_key, email, first_name, last_name, company, title, phone,
                             country, employees, industry, source, source_detail, consent)
          VALUES (${leadId}, ${identityKey(capture.email)}, ${capture.email}, ${capture.firstName ?? null},
                  ${capture.lastName ?? null}, ${capture.company ?? null}, ${capture.title ?? null},
                  ${capture.phone ?? null}, ${capture.country ?? null}, ${capture.employees ?? null},
                  ${capture.industry ?? null}, ${capture.source}, ${capture.sourceDetail ?? null},
                  ${tx.json(capture.consent ?? {})})
          ON CONFLICT (lead_id) DO UPDATE SET
            first_name    = COALESCE(leads.first_name, EXCLUDED.first_name),
            last_name     = COALESCE(leads.last_name, EXCLUDED.last_name),
            company       = COALESCE(leads.company, EXCLUDED.company),
            title         = COALESCE(leads.title, EXCLUDED.title),
            phone         = COALESCE(leads.phone, EXCLUDED.phone),
            country       = COALESCE(leads.country, EXCLUDED.country),
            employees     = COALESCE(leads.employees, EXCLUDED.employees),
            industry      = COALESCE(leads.industry, EXCLUDED.industry),
            source_detail = COALESCE(leads.source_detail, EXCLUDED.source_detail),
            consent       = leads.consent || EXCLUDED.consent,
            status        = CASE WHEN ${reactivated} THEN 'new' ELSE leads.status END,
            status_reason = CASE WHEN ${reactivated} THEN NULL ELSE leads.status_reason END,
            updated_at    = now()`;
        const at = capture.occurredAt ?? receivedAt;
        if (reactivated) {
          await tx`
            INSERT INTO lead_events (lead_id, event_key, at, type, actor, data)
            VALUES (${leadId}, ${`reactivated:${captureId}`}, ${at}, 'reactivated', 'system',
                    ${tx.json({ previousStatus: before!.status })})
            ON CONFLICT DO NOTHING`;
        }
        await tx`
          INSERT INTO lead_events (lead_id, event_key, at, type, actor, data)
          VALUES (${leadId}, ${eventKey}, ${at}, 'captured', ${`capture:${capture.source}`},
                  ${tx.json({ source: capture.source, sourceDetail: capture.sourceDetail ?? null, merged })})
          ON CONFLICT DO NOTHING`;
        return { merged, reactivated };
      });
    },

    /** Sets the lead's status and records why in its timeline. */
    async recordStatusChange({ leadId, status, reason, at, eventKey }: StatusChange): Promise<void> {
      await sql.begin(async (tx) => {
        const [inserted] = await tx`
          INSERT INTO lead_events (lead_id, event_key, at, type, actor, data)
          VALUES (${leadId}, ${eventKey}, ${at}, 'status_changed', 'system', ${tx.json({ status, reason: reason ?? null })})
          ON CONFLICT DO NOTHING
          RETURNING id`;
        if (inserted) {
          await tx`UPDATE leads SET status = ${status}, status_reason = ${reason ?? null}, updated_at = now()
                   WHERE lead_id = ${leadId}`;
        }
      });
    },
  };
}
