import type { LeadSource } from './lead';

/**
 * Engagement events a capture endpoint or ops may report (docs/api.md, "Engagement"). On the wire they
 * keep their first name: `POST /leads/{id}/activities`, the `activity` signal and timeline event.
 */
export const engagementTypes = [
  'visited_pricing_page',
  'submitted_contact_form',
  'clicked_email_link',
  'opened_email',
  'attended_webinar',
  'downloaded_content',
  'requested_demo',
  'visited_careers_page',
  'unsubscribed',
] as const;
export type EngagementType = (typeof engagementTypes)[number];

/** A capture counts as the engagement its source implies (docs/design.md, "Scoring model"). */
export const engagementOfSource: Partial<Record<LeadSource, EngagementType>> = {
  demo_request: 'requested_demo',
  contact_form: 'submitted_contact_form',
  webinar: 'attended_webinar',
  content_download: 'downloaded_content',
};

/** Engagement events that do not show interest, so they neither clear decay nor keep an idle lead open. */
const notEngagement: ReadonlySet<EngagementType> = new Set(['visited_careers_page', 'unsubscribed']);

/** What a lead has done, as far as scoring needs to know. */
export interface Engagement {
  /** Engagement types seen at least once (scoring rules fire once per lead). */
  seen: EngagementType[];
  openedEmails: number;
  /** Last capture or engaging event: decay and aging count from here. */
  lastEngagementAt: string;
}

export function newEngagement(at: string): Engagement {
  return { seen: [], openedEmails: 0, lastEngagementAt: at };
}

/** The engagement after one more engagement event (or, with `undefined`, after a capture whose source implies none). */
export function recordEngagement(engagement: Engagement, type: EngagementType | undefined, at: string): Engagement {
  if (type === undefined) return { ...engagement, lastEngagementAt: at };
  return {
    seen: engagement.seen.includes(type) ? engagement.seen : [...engagement.seen, type],
    openedEmails: engagement.openedEmails + (type === 'opened_email' ? 1 : 0),
    lastEngagementAt: notEngagement.has(type) ? engagement.lastEngagementAt : at,
  };
}
