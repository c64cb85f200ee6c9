import { z } from 'zod';
import { recycleReasons, type ActionName } from './actions';
import { finiteNumber, identifier, text } from './input';
import { disqualificationReasons } from './lead';

const note = text(2000);
const otherNeedsNote = (value: { reason: string; note?: string }, ctx: z.RefinementCtx) => {
  if (value.reason === 'other' && !value.note)
    ctx.addIssue({ code: 'custom', path: ['note'], message: 'is required when reason is "other"' });
};

/** Bodies of the rep and ops actions (docs/api.md, "Rep and ops actions"). */
export const actionBodies = {
  accept: z.strictObject({}),
  touches: z.strictObject({ channel: z.enum(['call', 'email', 'meeting']), note: note.optional() }),
  disqualify: z.strictObject({ reason: z.enum(disqualificationReasons), note: note.optional() }).superRefine(otherNeedsNote),
  convert: z.strictObject({
    opportunity: z.strictObject({ name: text(300).optional(), amount: finiteNumber(0, 1e12).optional() }).optional(),
  }),
  recycle: z.strictObject({ reason: z.enum(recycleReasons), note: note.optional() }).superRefine(otherNeedsNote),
  reassign: z.strictObject({ ownerId: identifier() }),
} as const satisfies Record<ActionName, z.ZodType>;
export type ActionBody<A extends ActionName> = z.infer<(typeof actionBodies)[A]>;
