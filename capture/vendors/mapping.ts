import { captureSchema, type Capture } from '../../domain/capture';
import type { LeadSource } from '../../domain/lead';
import { isRecord } from './signatures';
import { mappableFields, type FieldMapping, type MappableField, type Submission } from '../../contracts/vendors';

/**
 * Names a form field is found under when the source maps nothing for it: the usual labels and keys
 * of the vendors (HubSpot properties, Meta's standard questions, `first_name`, `Company`...),
 * compared without case, spaces, `-` or `_`.
 */
const usualNames: Record<MappableField, string[]> = {
  email: ['email', 'emailaddress', 'workemail'],
  firstName: ['firstname', 'givenname'],
  lastName: ['lastname', 'familyname', 'surname'],
  fullName: ['fullname', 'name', 'yourname'],
  company: ['company', 'companyname', 'organization', 'organisation'],
  title: ['title', 'jobtitle', 'role'],
  phone: ['phone', 'phonenumber', 'mobilephone', 'mobile'],
  country: ['country', 'countrycode'],
  emailConsent: ['emailconsent', 'marketingconsent', 'consent', 'optin'],
};
const squash = (name: string) => name.toLowerCase().replace(/[\s_-]+/g, '');

/** A form value as text: strings trimmed, numbers written out, `{first, last}`-like objects and lists joined. */
function asText(value: unknown): string | undefined {
  if (typeof value === 'string') return value.trim() || undefined;
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  if (Array.isArray(value)) return asText(value.map(asText).filter(Boolean).join(', '));
  if (isRecord(value)) return asText(Object.values(value).map(asText).filter(Boolean).join(' '));
  return undefined;
}

/** A checkbox: ticked when true, "yes", "on", "1", "true", or a non-empty list of ticked options. */
function ticked(value: unknown): boolean {
  if (typeof value === 'boolean') return value;
  if (typeof value === 'number') return value !== 0;
  if (typeof value === 'string') return /^(true|yes|on|1|checked|agree[ds]?|i agree.*)$/i.test(value.trim());
  if (Array.isArray(value)) return value.some((item) => item !== false && item !== null && item !== '');
  return false;
}

function valueOf(submission: Submission, field: MappableField, mapping: FieldMapping): unknown {
  const mapped = mapping[field];
  if (mapped !== undefined) {
    if (Object.hasOwn(submission.values, mapped)) return submission.values[mapped];
    const squashed = squash(mapped);
    return Object.entries(submission.values).find(([name]) => squash(name) === squashed)?.[1];
  }
  if (submission.known[field] !== undefined) return submission.known[field];
  const names = usualNames[field];
  return Object.entries(submission.values).find(([name]) => names.includes(squash(name)))?.[1];
}

const utmOrder = ['utm_source', 'utm_medium', 'utm_campaign', 'utm_term', 'utm_content'];

/** UTM parameters as `sourceDetail`: `utm_source=google utm_medium=cpc ...`, the usual five first. */
export function utmDetail(utm: Record<string, string>): string | undefined {
  const keys = Object.keys(utm).sort((a, b) => (utmOrder.indexOf(a) + 1 || 99) - (utmOrder.indexOf(b) + 1 || 99) || a.localeCompare(b));
  const detail = keys.map((key) => `${key}=${utm[key]!.trim()}`).join(' ');
  return detail ? detail.slice(0, 500) : undefined;
}

export type Mapped = { capture: Capture } | { rejected: string };

/**
 * A submission as our capture: mapped fields, `fullName` split when first and last are not given,
 * a ticked consent box as email consent, UTM parameters (the vendor's and any `utm_*` field) in
 * `sourceDetail`. Validated by the capture's own schema: an optional field it refuses is dropped
 * (the lead is still worth having); without a usable email the submission is rejected. Reasons name
 * fields, never their values (they are personal data).
 */
export function toCapture(submission: Submission, mapping: FieldMapping, leadSource: LeadSource): Mapped {
  const text = Object.fromEntries(mappableFields.map((field) => [field, asText(valueOf(submission, field, mapping))])) as Record<
    MappableField,
    string | undefined
  >;
  let { firstName, lastName } = text;
  if (!firstName && !lastName && text.fullName) {
    const parts = text.fullName.split(/\s+/);
    firstName = parts[0];
    lastName = parts.slice(1).join(' ') || undefined;
  }
  const utm = {
    ...Object.fromEntries(
      Object.entries(submission.values).flatMap(([k, v]) => (/^utm_/i.test(k) && asText(v) ? [[k.toLowerCase(), asText(v)!]] : [])),
    ),
    ...submission.utm,
  };
  const consentGiven = ticked(valueOf(submission, 'emailConsent', mapping));
  const candidate: Record<string, unknown> = {
    email: text.email,
    source: leadSource,
    firstName,
    lastName,
    company: text.company,
    title: text.title,
    phone: text.phone,
    country: text.country,
    sourceDetail: utmDetail(utm),
    ...(consentGiven
      ? {
          consent: {
            email: 'opted_in',
            ...(submission.occurredAt ? { capturedAt: submission.occurredAt } : {}),
            text: 'ticked on the form',
          },
        }
      : {}),
    occurredAt: submission.occurredAt,
  };
  return validCapture(candidate, mapping.email);
}

/** Validates a capture, dropping the optional fields it refuses; rejected when the email is not usable (`mappedEmail`: the form field it was mapped from). */
export function validCapture(candidate: Record<string, unknown>, mappedEmail?: string): Mapped {
  const emailWhere = mappedEmail ? `the mapped field "${mappedEmail}"` : 'the email field';
  if (candidate.email === undefined)
    return { rejected: `no email: ${mappedEmail ? `${emailWhere} is missing or empty` : 'the submission has no email field'}` };
  for (let attempt = 0; attempt < 20; attempt += 1) {
    const parsed = captureSchema.safeParse(candidate);
    if (parsed.success) return { capture: parsed.data };
    const fields = [
      ...new Set(
        parsed.error.issues.flatMap((issue) =>
          issue.code === 'unrecognized_keys' && issue.path.length === 0 ? issue.keys : [String(issue.path[0] ?? '')],
        ),
      ),
    ];
    if (fields.includes('email')) return { rejected: `no usable email: ${emailWhere} is not a valid address` };
    if (fields.includes('source') || fields.includes(''))
      return { rejected: `not a capture: ${parsed.error.issues.map((i) => i.path.join('.') || 'body').join(', ')}` };
    for (const field of fields) delete candidate[field];
  }
  return { rejected: 'not a capture' };
}
