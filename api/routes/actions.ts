import { createRoute, OpenAPIHono } from '@hono/zod-openapi';
import { actionBodies } from '../../domain/action-bodies';
import { actionNames, actionRoles, type Actor } from '../../domain/actions';
import { requireRole } from '../auth';
import type { ApiDeps, AppEnv } from '../context';
import { errorResponses } from '../errors';
import { takeAction } from '../lead-actions';
import { leadIdParam, leadViewSchema, readLead } from '../lead-view';

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
      await takeAction({ sql, temporal }, id, name, body, actor);
      // The actor may no longer own the lead (recycled, reassigned): the answer is read as ops would.
      return c.json(await readLead({ sql, temporal }, id, { role: 'ops' }, { temporalUiUrl, namespace }), 200);
    });
  }
  return app;
}
