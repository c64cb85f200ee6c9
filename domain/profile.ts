import type { Capture } from './capture';
import type { LeadSource } from './lead';

/** What the lead record holds about the person and the company. */
export interface LeadProfile {
  email: string;
  firstName?: string;
  lastName?: string;
  company?: string;
  title?: string;
  phone?: string;
  country?: string;
  employees?: number;
  industry?: string;
  techStack?: string[];
  fundingStage?: string;
  /** First-touch source: kept for attribution, never overwritten. */
  source: LeadSource;
  sourceDetail?: string;
}

/** Firmographics from an enrichment provider (docs/design.md, "Enrichment"). */
export interface Firmographics {
  companyName?: string;
  employees?: number;
  industry?: string;
  country?: string;
  techStack?: string[];
  fundingStage?: string;
}

type Fillable = Omit<LeadProfile, 'email' | 'source'>;

const isEmpty = (value: unknown) => value === undefined || value === null || value === '' || (Array.isArray(value) && value.length === 0);

/** Fills the profile's empty fields from `incoming`; what is already known is never overwritten. */
export function fillProfile(profile: LeadProfile, incoming: Partial<Fillable>): LeadProfile {
  const filled: LeadProfile = { ...profile };
  for (const [key, value] of Object.entries(incoming) as [keyof Fillable, unknown][]) {
    if (!isEmpty(value) && isEmpty(filled[key])) (filled as unknown as Record<string, unknown>)[key] = value;
  }
  return filled;
}

/** The profile after a capture: the first capture makes it; later ones only fill gaps (first-touch source kept). */
export function mergeCapture(profile: LeadProfile | undefined, capture: Capture): LeadProfile {
  const { email, source, consent: _consent, occurredAt: _occurredAt, ...fields } = capture;
  return fillProfile(profile ?? { email, source }, fields);
}

/** Enrichment fills gaps only: captured values always win. */
export function enrichProfile(profile: LeadProfile, firmographics: Firmographics): LeadProfile {
  const { companyName, ...rest } = firmographics;
  return fillProfile(profile, { company: companyName, ...rest });
}
