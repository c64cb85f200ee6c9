import { z } from 'zod';
import type { Firmographics } from '../../domain/profile';

/** What a provider is asked: who, at which domain, and which fields are still missing. */
export interface EnrichmentQuery {
  email: string;
  domain: string;
  fields: (keyof Firmographics)[];
}

/** A source of firmographics (docs/design.md, "Enrichment"). `null`: the provider knows nothing of the domain. */
export interface EnrichmentProvider {
  name: string;
  /** `signal`: the activity's cancellation (e.g. a worker shutting down past its grace time); the call is abandoned. */
  enrich(query: EnrichmentQuery, signal?: AbortSignal): Promise<Firmographics | null>;
}

/**
 * Providers answer with whatever they have; anything that does not fit is dropped, field by
 * field, so one bad value never costs the good ones.
 */
const firmographicsFields = {
  companyName: z.string().trim().min(1).max(300),
  employees: z.number().int().min(1).max(10_000_000),
  industry: z.string().trim().toLowerCase().min(1).max(200),
  country: z
    .string()
    .regex(/^[A-Za-z]{2}$/)
    .transform((c) => c.toUpperCase()),
  techStack: z.array(z.string().trim().toLowerCase().min(1).max(100)).max(200),
  fundingStage: z.string().trim().min(1).max(100),
} satisfies Record<keyof Firmographics, z.ZodType>;

export class InvalidEnrichmentResponse extends Error {}

/** Keeps the valid fields of a provider's answer; an answer that is not an object at all is an error. */
export function parseFirmographics(raw: unknown): Firmographics {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new InvalidEnrichmentResponse(`expected an object of firmographics, got ${Array.isArray(raw) ? 'an array' : typeof raw}`);
  }
  const result: Record<string, unknown> = {};
  for (const [field, schema] of Object.entries(firmographicsFields)) {
    const parsed = (schema as z.ZodType).safeParse((raw as Record<string, unknown>)[field]);
    if (parsed.success) result[field] = parsed.data;
  }
  return result as Firmographics;
}
