import { developmentLeadIdSecret } from '../../config/env';
import { leadIdFor as keyedLeadIdFor } from '../../domain/identity';

/** The key of lead ids on the test stacks: the embedded stack's development one. */
export const leadIdSecret = developmentLeadIdSecret;

/** A person's lead id on the test stacks. */
export const leadIdFor = (email: string) => keyedLeadIdFor(email, leadIdSecret);
