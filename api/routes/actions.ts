import { createRoute, OpenAPIHono } from '@hono/zod-openapi';
import { ApplicationFailure, WorkflowNotFoundError, WorkflowUpdateFailedError } from '@temporalio/client';
import { findLeadState } from '../../db/leads';
import { repExists } from '../../db/people';
import { actionBodies } from '../../domain/action-bodies';
import { actionNames, actionRoles, rejectAction, type Actor } from '../../domain/actions';
import { actionFailureTypes } from '../../contracts/failures';
import { actionUpdates } from '../../contracts/lead';
import { requireRole } from '../auth';
import type { ApiDeps, AppEnv } from '../context';
import { ApiError, errorResponses } from '../errors';
import { leadIdParam, leadNotFound, leadViewSchema, readLead } from '../lead-view';

const summaries: Record<(typeof actionNames)[number], string> = {
  accept: 'Accept the lead (sql → accepted); stops the SLA clock',
  touches: 'Log a touch; the first one stops the SLA clock',
  disqualify: 'Disqualify with a standard reason (other needs a note); the workflow completes',
  convert: 'Convert to an opportunity; the workflow completes',
  recycle: 'Return the lead to nurture with a reason',
  reassign: 'Give the lead to another rep, with a fresh SLA clock (ops)',
};

/**
 * `POST /leads/{id}/<action>` for each rep and ops action. The workflow applies it as an update,
 * so the answer is the lead as it is once applied, or the reason it was rejected.
 */
export function actionRoutes({ sql, temporal, temporalUiUrl, namespace }: ApiDeps) {
  const app = new OpenAPIHono<AppEnv>();
  for (const name of actionNames) {
    const route = createRoute({
      method: 'post',
      path: `/leads/{id}/${name}`,
      tags: ['rep and ops actions'],
      summary: summaries[name],
      security: [{ apiKey: [] }],
      middleware: requireRole(...actionRoles[name]),
      request: { params: leadIdParam, body: { required: true, content: { 'application/json': { schema: actionBodies[name] } } } },
      responses: {
        200: { description: 'the lead once the action is applied', content: { 'application/json': { schema: leadViewSchema } } },
        ...errorResponses(400, 401, 403, 404, 409, 413, 415, 422),
      },
    });
    app.openapi(route, async (c) => {
      const { id } = c.req.valid('param');
      const body = c.req.valid('json') as object;
      const principal = c.get('principal');
      const actor: Actor = principal.role === 'rep' ? { role: 'rep', repId: principal.repId } : { role: 'ops' };
      // Answer the plain cases here; the workflow's validator has the last word (and the only one
      // for a lead whose row is not written yet: readable from its workflow right after its 202).
      const lead = await findLeadState(sql, id);
      const rejection = lead && rejectAction(name, lead.status, lead.ownerId, actor);
      // Another rep's lead answers as no lead at all: a rep key must not learn who is a lead.
      if (rejection) throw rejection.kind === 'not_owner' ? leadNotFound(id) : new ApiError(409, 'invalid_state', rejection.message);
      if (name === 'reassign') {
        const ownerId = (body as { ownerId: string }).ownerId;
        if (!(await repExists(sql, ownerId)))
          throw new ApiError(400, 'validation_failed', 'invalid body: ownerId', [{ path: 'ownerId', message: `no rep with id ${ownerId}` }]);
      }
      try {
        await temporal.workflow
          .getHandle(id)
          .executeUpdate(actionUpdates[name] as typeof actionUpdates.accept, { args: [{ ...body, actor, at: new Date().toISOString() }] });
      } catch (error) {
        if (error instanceof WorkflowNotFoundError) {
          if (!lead) throw leadNotFound(id);
          throw new ApiError(409, 'invalid_state', `lead ${id} is ${lead.status} and no longer takes actions`);
        }
        const failure = error instanceof WorkflowUpdateFailedError ? error.cause : undefined;
        if (failure instanceof ApplicationFailure) {
          if (failure.type === actionFailureTypes.notOwner) throw leadNotFound(id);
          if (failure.type === actionFailureTypes.invalidState) throw new ApiError(409, 'invalid_state', failure.message);
          if (failure.type === actionFailureTypes.rejectedInput) throw new ApiError(422, 'rejected_input', failure.message);
          if (failure.type === actionFailureTypes.unknownRep)
            throw new ApiError(400, 'validation_failed', 'invalid body: ownerId', [{ path: 'ownerId', message: failure.message }]);
        }
        throw error;
      }
      // The actor may no longer own the lead (recycled, reassigned): the answer is read as ops would.
      return c.json(await readLead({ sql, temporal }, id, { role: 'ops' }, { temporalUiUrl, namespace }), 200);
    });
  }
  return app;
}
