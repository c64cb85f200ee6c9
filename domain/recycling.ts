import type { LeadPolicy } from './config';
import { durationMs } from './duration';
import type { LeadRecord } from './lead-record';

/** docs/design.md, "Recycling and aging": when an open lead's next re-engagement, escalation or close is due. */

const ms = (iso: string | null | undefined) => (iso ? new Date(iso).getTime() : 0);
const after = (from: number, iso: string) => from + durationMs(iso);

/** The lead's last activity: its own engagement, its owner's response or logged touch, outreach (a cadence step) sent to it. */
export const idleSince = (lead: LeadRecord): number =>
  Math.max(ms(lead.engagement.lastEngagementAt), ms(lead.lastTouchAt), ms(lead.routing?.respondedAt));

/** An `accepted` lead with no activity until then escalates to the manager and is recycled. */
export const acceptedIdleUntil = (lead: LeadRecord, policy: Pick<LeadPolicy, 'acceptedIdleAfter'>): number | undefined =>
  lead.status === 'accepted' ? after(idleSince(lead), policy.acceptedIdleAfter) : undefined;

/** The next re-engagement of a `recycled` lead (30, 60 and 90 days after recycling by default) and its outreach. */
export function nextReengagementAt(lead: LeadRecord, policy: Pick<LeadPolicy, 'recycling'>) {
  if (lead.status !== 'recycled' || !lead.recycle) return undefined;
  const outreach = policy.recycling.reengagement[lead.recycle.reengagements];
  return outreach && { at: after(ms(lead.recycle.at), outreach.at), outreach, number: lead.recycle.reengagements + 1 };
}

/** A `recycled` lead with no engagement since recycling (or since its last engagement) is archived at this time. */
export const archiveAt = (lead: LeadRecord, policy: Pick<LeadPolicy, 'recycling'>): number | undefined =>
  lead.status === 'recycled' && lead.recycle
    ? after(Math.max(ms(lead.recycle.at), ms(lead.engagement.lastEngagementAt)), policy.recycling.archiveAfter)
    : undefined;
