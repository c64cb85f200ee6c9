import { ApplicationFailure } from '@temporalio/workflow';
import { rejectAction, type ActionName, type ActionRejection } from '../../domain/actions';
import type { LeadRecord } from '../../domain/lead-record';
import { actionFailureTypes } from '../../contracts/failures';
import type { ActionRequest, ActionResult } from '../../contracts/lead';
import { respond, startAssignment } from './assignment';
import { followStatus, recycle } from './nurture';
import { now, save, type LeadRun } from './run';

/** Rep and ops actions (docs/api.md, "Rep and ops actions"), applied one at a time in the lead's queue. */

export function actionFailure({ kind, message }: ActionRejection): ApplicationFailure {
  const type = kind === 'not_owner' ? actionFailureTypes.notOwner : actionFailureTypes.invalidState;
  return ApplicationFailure.create({ type, message, nonRetryable: true });
}

/** The owner's accept or logged touch: activity that keeps the lead from aging. */
function repContact(run: LeadRun, current: LeadRecord) {
  current.lastTouchAt = now();
}

export async function applyAction(run: LeadRun, name: ActionName, request: ActionRequest<ActionName>): Promise<ActionResult> {
  const current = run.lead!;
  const { journal, leadId } = run;
  const rejection = rejectAction(name, current.status, current.routing?.ownerId, request.actor);
  if (rejection) throw actionFailure(rejection);
  const actor = request.actor.role === 'rep' ? `rep:${request.actor.repId}` : 'ops';
  const body = request as Record<string, any>;
  switch (name) {
    case 'accept':
      respond(run, current, 'accept', actor);
      repContact(run, current);
      run.setStatus(current, 'accepted', `accepted by ${actor}`);
      break;
    case 'touches':
      journal.record('touch', { channel: body.channel, note: body.note ?? null }, request.at, actor);
      respond(run, current, `${body.channel} touch`, actor);
      repContact(run, current);
      if (current.status === 'sql') run.setStatus(current, 'accepted', `first touch by ${actor}`);
      break;
    case 'disqualify':
      run.setStatus(current, 'disqualified', body.reason);
      journal.record('disqualified', { reason: body.reason, note: body.note ?? null, by: actor }, request.at, actor);
      break;
    case 'convert':
      run.setStatus(current, 'converted', 'became an opportunity');
      journal.record('converted', { opportunity: body.opportunity ?? null, by: actor }, request.at, actor);
      break;
    case 'recycle':
      recycle(run, current, body.reason, body.note ?? null, actor, request.at);
      break;
    case 'reassign': {
      const previous = current.routing!;
      const reason = `reassigned by ${actor} from ${previous.ownerId ?? 'the unassigned queue'}`;
      const assigned = await run.io().assignTo({ leadId, repId: body.ownerId, reason });
      if (!assigned)
        throw ApplicationFailure.create({
          type: actionFailureTypes.unknownRep,
          message: `no rep with id ${body.ownerId}`,
          nonRetryable: true,
        });
      journal.record('reassigned', { from: previous.ownerId, to: body.ownerId, by: actor }, request.at, actor);
      startAssignment(run, current, {
        ...previous,
        ownerId: body.ownerId,
        teamId: assigned.teamId,
        reason,
        ownerManagerId: assigned.ownerManagerId,
      });
      break;
    }
  }
  await followStatus(run, current);
  await save(run, current);
  return { status: current.status };
}
