import { z } from 'zod';

/** Every status a lead can be in (DESIGN.md, "Lifecycle"). The same words are used in Postgres and in `LeadStatus`. */
export const leadStatuses = [
  'new',
  'not_ready',
  'mql',
  'sql',
  'accepted',
  'converted',
  'recycled',
  'disqualified',
  'archived',
] as const;
export type LeadStatus = (typeof leadStatuses)[number];

/** Statuses in which the lead's workflow has completed. */
export const closedStatuses: readonly LeadStatus[] = ['converted', 'disqualified', 'archived'];

export const leadSources = [
  'demo_request',
  'pricing_inquiry',
  'chat',
  'trial_signup',
  'referral',
  'webinar',
  'event',
  'contact_form',
  'content_download',
  'newsletter',
  'outbound',
] as const;
export type LeadSource = (typeof leadSources)[number];

export const disqualificationReasons = [
  'wrong_fit',
  'no_budget',
  'competitor_chosen',
  'unresponsive',
  'not_decision_maker',
  'job_seeker',
  'student',
  'duplicate',
  'spam',
  'other',
] as const;
export type DisqualificationReason = (typeof disqualificationReasons)[number];

export const consentStates = ['opted_in', 'opted_out', 'unknown'] as const;

const isoTimestamp = z.iso.datetime({ offset: true });
const optionalText = (max: number) => z.string().trim().min(1).max(max).optional();

export const consentSchema = z
  .object({
    email: z.enum(consentStates).optional(),
    phone: z.enum(consentStates).optional(),
    capturedAt: isoTimestamp.optional(),
    text: z.string().max(2000).optional(),
  })
  .meta({ description: 'Consent per channel, with when and how it was given.' });

/** The body of `POST /leads` (API.md, "Capture"). */
export const captureSchema = z
  .object({
    email: z.string().trim().pipe(z.email().max(320)).meta({ example: 'jane@acme.io' }),
    source: z.enum(leadSources).meta({ example: 'demo_request' }),
    firstName: optionalText(200),
    lastName: optionalText(200),
    company: optionalText(300),
    title: optionalText(300),
    phone: optionalText(50),
    country: z
      .string()
      .trim()
      .regex(/^[A-Za-z]{2}$/, 'must be an ISO 3166-1 alpha-2 country code')
      .transform((c) => c.toUpperCase())
      .optional(),
    employees: z.number().int().min(1).max(10_000_000).optional(),
    industry: optionalText(200),
    sourceDetail: optionalText(500),
    consent: consentSchema.optional(),
    occurredAt: isoTimestamp.optional(),
  })
  .meta({ id: 'Capture' });
export type Capture = z.infer<typeof captureSchema>;

/** What the API hands the workflow for one capture: the validated body plus a key that makes recording it idempotent. */
export interface CaptureSignal {
  captureId: string;
  receivedAt: string;
  capture: Capture;
}
