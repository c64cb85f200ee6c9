/** The form tools a capture source can be (docs/features/capture.md). */
export const vendors = ['typeform', 'hubspot', 'meta_lead_ads', 'webflow', 'calendly', 'tally', 'jotform', 'generic'] as const;
export type Vendor = (typeof vendors)[number];

/** The capture fields a form's own fields can be mapped to. `fullName` is split into first and last; `emailConsent` is a checkbox. */
export const mappableFields = [
  'email',
  'firstName',
  'lastName',
  'fullName',
  'company',
  'title',
  'phone',
  'country',
  'emailConsent',
] as const;
export type MappableField = (typeof mappableFields)[number];

/** Our field → the vendor's name for it (a Typeform `ref`, a Tally key or label, a Webflow label, a Jotform `q3_email`, a Meta question name...). */
export type FieldMapping = Partial<Record<MappableField, string>>;

/** A webhook request as it arrived: the raw body is what vendors sign. Header names lower-case. */
export interface HookRequest {
  method: string;
  /** The URL the vendor called (HubSpot signs it). */
  url: string;
  headers: Record<string, string | undefined>;
  body: Buffer;
}

/** What a source holds to check its deliveries: the signing secret in the clear (unsealed for the check), or a token's hash. */
export interface SourceSecrets {
  secret: string | null;
  tokenHash: string | null;
}

/**
 * One form submission read from a delivery, before mapping: the vendor's event id (the capture's
 * idempotency key), the answers by the vendor's field names, what the vendor itself tells apart
 * (an answer of type email, a phone field, the invitee's name), and UTM parameters it carries.
 */
export interface Submission {
  eventId: string;
  values: Record<string, unknown>;
  known: Partial<Record<MappableField, unknown>>;
  utm: Record<string, string>;
  occurredAt?: string;
  /** A submission already in our capture's shape (`generic`): validated as it is, no mapping. */
  capture?: Record<string, unknown>;
}

/** Why a delivery is not the vendor's (missing or bad signature, stale timestamp), or undefined when it is. */
export type Verdict = string | undefined;

/** A vendor whose webhook carries the submission itself (all but Meta, which carries only ids). */
export interface FormVendor {
  verify(request: HookRequest, secrets: SourceSecrets, now: number): Verdict;
  /** The submissions in a verified delivery. Throws when the body is not in the vendor's format. */
  read(request: HookRequest): Submission[] | Promise<Submission[]>;
}

/** A payload that is not in the vendor's format. */
export class UnreadablePayload extends Error {}
