import type { LeadSource } from './lead';

/** Engagement events a capture endpoint or ops may report (API.md, "Engagement"). */
export const activityTypes = [
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
export type ActivityType = (typeof activityTypes)[number];

/** A capture counts as the activity its source implies (DESIGN.md, "Scoring model"). */
export const activityOfSource: Partial<Record<LeadSource, ActivityType>> = {
  demo_request: 'requested_demo',
  contact_form: 'submitted_contact_form',
  webinar: 'attended_webinar',
  content_download: 'downloaded_content',
};

/** Activities that do not show interest, so they neither clear decay nor keep an idle lead open. */
const notEngagement: ReadonlySet<ActivityType> = new Set(['visited_careers_page', 'unsubscribed']);

/** What a lead has done, as far as scoring needs to know. */
export interface Engagement {
  /** Activity types seen at least once (scoring rules fire once per lead). */
  seen: ActivityType[];
  openedEmails: number;
  /** Last capture or engaging activity: decay and aging count from here. */
  lastEngagementAt: string;
}

export function newEngagement(at: string): Engagement {
  return { seen: [], openedEmails: 0, lastEngagementAt: at };
}

/** The engagement after one more activity (or, with `undefined`, after a capture whose source implies none). */
export function recordActivity(engagement: Engagement, type: ActivityType | undefined, at: string): Engagement {
  if (type === undefined) return { ...engagement, lastEngagementAt: at };
  return {
    seen: engagement.seen.includes(type) ? engagement.seen : [...engagement.seen, type],
    openedEmails: engagement.openedEmails + (type === 'opened_email' ? 1 : 0),
    lastEngagementAt: notEngagement.has(type) ? engagement.lastEngagementAt : at,
  };
}
