import type { LeadConfig } from './config';
import { durationMs } from './duration';
import type { LeadSource } from './lead';
import type { Segment } from './routing';

export const priorities = ['P1', 'P2', 'P3'] as const;
export type Priority = (typeof priorities)[number];

export interface BusinessHours {
  timeZone: string;
  /** ISO weekdays: Monday = 1 … Sunday = 7. */
  days: number[];
  /** "HH:MM", local time. */
  start: string;
  end: string;
}

const weekday: Record<string, number> = { Mon: 1, Tue: 2, Wed: 3, Thu: 4, Fri: 5, Sat: 6, Sun: 7 };

/**
 * A weekday-and-time formatter per time zone, made once: making an `Intl.DateTimeFormat` costs far
 * more than using one (it was most of a routing decision's CPU), and routing asks for every lead.
 * Only a valid IANA zone makes one, so the map holds a few hundred at most.
 */
const clocks = new Map<string, Intl.DateTimeFormat>();
function localClock(timeZone: string): Intl.DateTimeFormat {
  let clock = clocks.get(timeZone);
  if (!clock) {
    clock = new Intl.DateTimeFormat('en-US', { timeZone, weekday: 'short', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
    clocks.set(timeZone, clock);
  }
  return clock;
}

/** Is `at` inside the team's business hours, in the team's time zone? */
export function withinBusinessHours(hours: BusinessHours, at: Date): boolean {
  const parts = Object.fromEntries(
    localClock(hours.timeZone)
      .formatToParts(at)
      .map((p) => [p.type, p.value]),
  );
  const day = weekday[parts.weekday!];
  const minutes = Number(parts.hour) * 60 + Number(parts.minute);
  const [startH, startM] = hours.start.split(':').map(Number) as [number, number];
  const [endH, endM] = hours.end.split(':').map(Number) as [number, number];
  return day !== undefined && hours.days.includes(day) && minutes >= startH * 60 + startM && minutes < endH * 60 + endM;
}

export interface SlaTerms {
  priority: Priority;
  /** ISO-8601 duration of the response SLA. */
  sla: string;
  /** Why these terms, for the timeline. */
  reason: string;
}

const bumped: Record<Priority, Priority> = { P1: 'P1', P2: 'P1', P3: 'P2' };

/**
 * The response SLA (docs/design.md table): priority by intent, enterprise leads one tier up, and the
 * off-hours duration where the intent has one and the team is outside business hours.
 */
export function slaTerms(source: LeadSource, segment: Segment, inBusinessHours: boolean, config: LeadConfig['sla']): SlaTerms {
  const intent = config.intents[source];
  let terms: { sla: string; offHours?: string } = intent;
  let priority = intent.priority;
  const notes = [`${source} is ${intent.priority}`];
  if (segment === 'enterprise' && config.enterpriseBump && bumped[priority] !== priority) {
    priority = bumped[priority];
    terms = config.tiers[priority];
    notes.push(`enterprise moves it up to ${priority}`);
  }
  const offHours = !inBusinessHours && terms.offHours !== undefined;
  if (offHours) notes.push('outside business hours');
  return { priority, sla: offHours ? terms.offHours! : terms.sla, reason: notes.join(', ') };
}

export interface SlaClock {
  assignedAt: string;
  reminderAt: string;
  dueAt: string;
}

/** When to remind the owner and when the SLA is breached, for an assignment at `assignedAt`. */
export function slaClock(assignedAt: Date, sla: string, reminderAt: number): SlaClock {
  const total = durationMs(sla);
  return {
    assignedAt: assignedAt.toISOString(),
    reminderAt: new Date(assignedAt.getTime() + Math.round(total * reminderAt)).toISOString(),
    dueAt: new Date(assignedAt.getTime() + total).toISOString(),
  };
}
