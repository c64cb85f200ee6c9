import { z } from 'zod';
import { isoDuration } from './duration';

/**
 * Every policy of the service, validated at start-up. Defaults live in `config/defaults.json`;
 * `LEAD_CONFIG` names a file merged over them.
 */
export const leadConfigSchema = z.strictObject({
  aging: z.strictObject({
    /** DESIGN.md: "90 days with no activity: disqualify with a reason" holds for every open status. */
    inactiveDisqualifyAfter: isoDuration,
  }),
});
export type LeadConfig = z.infer<typeof leadConfigSchema>;

/** The part of the configuration a lead workflow runs by; handed to it as input so a running lead never reads files. */
export interface LeadPolicy {
  inactiveDisqualifyAfter: string;
}

export function leadPolicy(config: LeadConfig): LeadPolicy {
  return { inactiveDisqualifyAfter: config.aging.inactiveDisqualifyAfter };
}
