import { ApplicationFailure, WorkflowNotFoundError, WorkflowUpdateFailedError } from '@temporalio/client';
import { findLeadState } from '../db/leads';
import { repExists } from '../db/people';
import { rejectAction, type ActionName, type Actor } from '../domain/actions';
import { actionFailureTypes } from '../contracts/failures';
import { actionUpdates } from '../contracts/lead';
import type { ApiDeps } from './context';
import { ApiError } from './errors';
import { leadNotFound } from './lead-view';

/**
 * One rep or ops action on a lead, as `POST /leads/{id}/<action>` and the action links
 * (`/act/{token}`) both take it: the plain cases answered from the read model, then the
 * workflow's update, whose validator has the last word. `body` is already validated
 * (domain/action-bodies.ts). `updateId` makes a repeated request one action: Temporal answers a
 * second update with the same id with the first one's outcome instead of applying it again.
 * Failures are ApiErrors; another rep's lead is a 404, as a lead that does not exist.
 */
export async function takeAction(
  { sql, temporal }: Pick<ApiDeps, 'sql' | 'temporal'>,
  leadId: string,
  name: ActionName,
  body: object,
  actor: Actor,
  { updateId }: { updateId?: string } = {},
): Promise<void> {
  // Answer the plain cases here; the workflow's validator has the last word (and the only one
  // for a lead whose row is not written yet: readable from its workflow right after its 202).
  const lead = await findLeadState(sql, leadId);
  const rejection = lead && rejectAction(name, lead.status, lead.ownerId, actor);
  // Another rep's lead answers as no lead at all: a rep key must not learn who is a lead.
  if (rejection) throw rejection.kind === 'not_owner' ? leadNotFound(leadId) : new ApiError(409, 'invalid_state', rejection.message);
  if (name === 'reassign') {
    const ownerId = (body as { ownerId: string }).ownerId;
    if (!(await repExists(sql, ownerId)))
      throw new ApiError(400, 'validation_failed', 'invalid body: ownerId', [{ path: 'ownerId', message: `no rep with id ${ownerId}` }]);
  }
  try {
    await temporal.workflow.getHandle(leadId).executeUpdate(actionUpdates[name] as typeof actionUpdates.accept, {
      args: [{ ...body, actor, at: new Date().toISOString() }],
      updateId,
    });
  } catch (error) {
    if (error instanceof WorkflowNotFoundError) {
      if (!lead) throw leadNotFound(leadId);
      throw new ApiError(409, 'invalid_state', `lead ${leadId} is ${lead.status} and no longer takes actions`);
    }
    const failure = error instanceof WorkflowUpdateFailedError ? error.cause : undefined;
    if (failure instanceof ApplicationFailure) {
      if (failure.type === actionFailureTypes.notOwner) throw leadNotFound(leadId);
      if (failure.type === actionFailureTypes.invalidState) throw new ApiError(409, 'invalid_state', failure.message);
      if (failure.type === actionFailureTypes.rejectedInput) throw new ApiError(422, 'rejected_input', failure.message);
      if (failure.type === actionFailureTypes.unknownRep)
        throw new ApiError(400, 'validation_failed', 'invalid body: ownerId', [{ path: 'ownerId', message: failure.message }]);
    }
    throw error;
  }
}
