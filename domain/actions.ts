import type { LeadStatus } from './lead';

/** Reasons a lead goes back to nurture (docs/design.md, "Lifecycle"). */
export const recycleReasons = ['timing', 'budget', 'no_response', 'not_ready', 'other'] as const;

/** The rep and ops actions (docs/api.md); their request bodies are in `action-bodies.ts`. */
export const actionNames = ['accept', 'touches', 'disqualify', 'convert', 'recycle', 'reassign'] as const;
export type ActionName = (typeof actionNames)[number];

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
export function rejectAction(
  action: ActionName,
  status: LeadStatus,
  ownerId: string | null | undefined,
  actor: Actor,
): ActionRejection | undefined {
  if (actor.role === 'rep' && actor.repId !== ownerId) {
    return {
      kind: 'not_owner',
      message: `only the lead's owner${ownerId ? ` (${ownerId})` : ''} or ops may ${action === 'touches' ? 'log touches on' : action} this lead`,
    };
  }
  if (!actionStatuses[action].includes(status)) {
    return { kind: 'invalid_state', message: `cannot ${action === 'touches' ? 'log a touch on' : action} a lead that is ${status}` };
  }
  return undefined;
}
