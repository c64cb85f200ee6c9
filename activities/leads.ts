import type { LeadStore } from '../db/lead-store';
import type { LeadSave } from '../db/leads';
import type { LeadRecord, OutboxNotification, TimelineEvent } from '../domain/lead-record';

/** Told the timeline events a save wrote for the first time, once committed (the worker's metrics). */
export type EventsWritten = (events: TimelineEvent[]) => void;

/**
 * The lead as saved before run `runId` (db/leads.ts `startLead`), or null for a person never
 * captured: a new run starts from it (reactivation), read with the scoring model by `loadRunStart`.
 * It carries the lead's data, not its process: the new run routes and enrols the lead afresh, so
 * the saved routing and cadence are left behind.
 */
export async function loadLeadBefore(store: LeadStore, { leadId, runId }: { leadId: string; runId: string }): Promise<LeadRecord | null> {
  const stored = await store.leadBefore(leadId, runId);
  return stored ? { ...stored.lead, cadence: undefined } : null;
}

/** Data access for leads and their timelines. Every write is idempotent on (lead id, event key). */
export function leadActivities(store: LeadStore, eventsWritten: EventsWritten = () => {}) {
  return {
    /**
     * Writes the lead as the workflow now knows it, its new timeline events and the alerts they
     * cause (the outbox), in one statement: atomic, with no BEGIN and COMMIT round trips.
     */
    async saveLead(save: LeadSave): Promise<void> {
      eventsWritten(await store.saveLead(save));
    },

    /** An alert about a lead that may have no row to save it with (its first capture was refused). */
    async queueAlert({ leadId, notification }: { leadId: string; notification: OutboxNotification }): Promise<void> {
      await store.enqueueNotifications(leadId, [notification]);
    },
  };
}
