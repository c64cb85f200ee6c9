import { z } from 'zod';
import { anyText, countryCode, email, integer, optionalLine, timestamp } from './input';
import { consentStates, leadSources } from './lead';

/** The validation schemas of captures (docs/api.md, "Capture"). Kept apart from `lead.ts` so workflow code never bundles zod. */

export const consentSchema = z
  .object({
    email: z.enum(consentStates).optional(),
    phone: z.enum(consentStates).optional(),
    capturedAt: timestamp().optional(),
    text: anyText(2000).optional(),
  })
  .meta({ description: 'Consent per channel, with when and how it was given.' });

/** The body of `POST /leads` (docs/api.md, "Capture"). */
export const captureSchema = z
  .object({
    email: email().meta({ example: 'jane@acme.io' }),
    source: z.enum(leadSources).meta({ example: 'demo_request' }),
    firstName: optionalLine(200),
    lastName: optionalLine(200),
    company: optionalLine(300),
    title: optionalLine(300),
    phone: optionalLine(50),
    country: countryCode().optional(),
    employees: integer(1, 10_000_000).optional(),
    industry: optionalLine(200),
    sourceDetail: optionalLine(500),
    consent: consentSchema.optional(),
    occurredAt: timestamp().optional(),
  })
  .meta({ id: 'Capture' });
export type Capture = z.infer<typeof captureSchema>;

/** What the API hands the workflow for one capture: the validated body plus a key that makes recording it idempotent. */
export interface CaptureSignal {
  captureId: string;
  receivedAt: string;
  capture: Capture;
}
