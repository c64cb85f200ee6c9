import type { LeadSource } from '../../domain/lead';
import { calendly } from './calendly';
import { generic } from './generic';
import { hubspot } from './hubspot';
import { jotform } from './jotform';
import { toCapture, validCapture, type Mapped } from './mapping';
import { tally } from './tally';
import type { FieldMapping, FormVendor, Submission, Vendor } from '../../contracts/vendors';
import { typeform } from './typeform';
import { webflow } from './webflow';

/** The adapters of the vendors whose webhook carries the submission (Meta's carries ids: `metaLeadAds`). */
export const formVendors: Record<Exclude<Vendor, 'meta_lead_ads'>, FormVendor> = {
  typeform,
  hubspot,
  webflow,
  calendly,
  tally,
  jotform,
  generic,
};

/** A submission as our capture, or why it was rejected: mapped (form tools) or taken as it is (`generic`). */
export function mapSubmission(submission: Submission, mapping: FieldMapping, leadSource: LeadSource): Mapped {
  return submission.capture ? validCapture({ source: leadSource, ...submission.capture }) : toCapture(submission, mapping, leadSource);
}
