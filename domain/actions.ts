import { z } from 'zod';
import { disqualificationReasons, type LeadStatus } from './lead';

/** Reasons a lead goes back to nurture (DESIGN.md, "Lifecycle"). */
export const recycleReasons = ['timing', 'budget', 'no_response', 'not_ready', 'other'] as const;

const note = z.string().trim().min(1).max(2000);
const otherNeedsNote = (value: { reason: string; note?: string }, ctx: z.RefinementCtx) => {
  if (value.reason === 'other' && !value.note) ctx.addIssue({ code: 'custom', path: ['note'], message: 'is required when reason is "other"' });
};

/** Bodies of the rep and ops actions (API.md, "Rep and ops actions"). */
export const actionBodies = {
  accept: z.strictObject({}),
  touches: z.strictObject({ channel: z.enum(['call', 'email', 'meeting']), note: note.optional() }),
  disqualify: z.strictObject({ reason: z.enum(disqualificationReasons), note: note.optional() }).superRefine(otherNeedsNote),
  convert: z.strictObject({
    opportunity: z.strictObject({ name: z.string().trim().min(1).max(300).optional(), amount: z.number().nonnegative().optional() }).optional(),
  }),
  recycle: z.strictObject({ reason: z.enum(recycleReasons), note: note.optional() }).superRefine(otherNeedsNote),
  reassign: z.strictObject({ ownerId: z.string().trim().min(1).max(100) }),
} as const;
export type ActionName = keyof typeof actionBodies;
export type ActionBody<A extends ActionName> = z.infer<(typeof actionBodies)[A]>;

/** The statuses each action fits. */
export const actionStatuses: Record<ActionName, readonly LeadStatus[]> = {
  accept: ['sql'],
  touches: ['sql', 'accepted'],
  disqualify: ['new', 'not_ready', 'mql', 'sql', 'accepted', 'recycled'],
  convert: ['sql', 'accepted'],
  recycle: ['sql', 'accepted'],
  reassign: ['sql', 'accepted'],
};

/** Who may act: ops on any lead, a rep only on its own; reassigning is for ops alone. */
export const actionRoles: Record<ActionName, readonly ('rep' | 'ops')[]> = {
  accept: ['rep', 'ops'],
  touches: ['rep', 'ops'],
  disqualify: ['rep', 'ops'],
  convert: ['rep', 'ops'],
  recycle: ['rep', 'ops'],
  reassign: ['ops'],
};

export interface Actor {
  role: 'rep' | 'ops';
  repId?: string;
}

export type ActionRejection = { kind: 'not_owner' | 'invalid_state'; message: string };

/** Why `actor` may not take `action` on a lead in `status` owned by `ownerId`, or undefined when it may. */
export function rejectAction(action: ActionName, status: LeadStatus, ownerId: string | null | undefined, actor: Actor): ActionRejection | undefined {
  if (actor.role === 'rep' && actor.repId !== ownerId) {
    return { kind: 'not_owner', message: `only the lead's owner${ownerId ? ` (${ownerId})` : ''} or ops may ${action === 'touches' ? 'log touches on' : action} this lead` };
  }
  if (!actionStatuses[action].includes(status)) {
    return { kind: 'invalid_state', message: `cannot ${action === 'touches' ? 'log a touch on' : action} a lead that is ${status}` };
  }
  return undefined;
}
