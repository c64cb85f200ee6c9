import { createHash, randomBytes } from 'node:crypto';
import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { html } from 'hono/html';
import { actionLinkToken, checkActionLinkToken, type ActionLink, type LinkAction } from '../../domain/action-links';
import { durationMs } from '../../domain/duration';
import type { ApiDeps, AppEnv } from '../context';
import { ApiError, errorResponses } from '../errors';
import { actOnLead, leadPageBody, page, PageRefusal, privatePage } from '../lead-page';
import { readLead, type LeadView } from '../lead-view';

const tokenParam = z.object({
  token: z
    .string()
    .max(1200)
    .meta({ param: { name: 'token', in: 'path' }, description: 'the signed token of the link in the alert' }),
});
const htmlAnswer = { content: { 'text/html': { schema: z.string() } } };

const refusals = {
  malformed: new PageRefusal(400, 'Not a link we sent', 'This is not an action link from a lead alert.'),
  bad_signature: new PageRefusal(403, 'Link not valid', 'This link was changed or signed with another key.'),
  expired: new PageRefusal(410, 'Link expired', 'This link has expired: open the lead from a newer alert or the dashboard.'),
};
/** Names nobody: the link's rep must not learn who has the lead now. */
const reassigned = new PageRefusal(410, 'This lead was reassigned', 'You no longer own this lead, so this link does nothing.');

/**
 * One-click action links in rep alerts (domain/action-links.ts): `/act/{token}`, no API key (the
 * signed, expiring token binds one lead, one rep and one action). GET never acts: mail scanners and
 * chat previews follow links, so it only shows the lead with buttons, each posting to a freshly
 * minted link of its own. POST takes the token's action as `POST /leads/{id}/<action>` would, with
 * the rep as the actor; a repeated POST of one token is one action (the update id is the token's hash).
 */
export function actionLinkRoutes(deps: ApiDeps) {
  const validForMs = durationMs(deps.config.notify.actionLinksValidFor);
  const linkOf = (token: string): ActionLink => {
    if (!deps.actionLinkSecret) throw new ApiError(404, 'not_found', 'action links are not in use here');
    const check = checkActionLinkToken(deps.actionLinkSecret, token);
    if ('problem' in check) throw refusals[check.problem];
    return check;
  };
  const refused = (c: Context<AppEnv>, error: unknown) => {
    if (!(error instanceof PageRefusal)) throw error;
    return c.html(page(error.title, html`<p>${error.message}</p>`), error.status, privatePage);
  };
  /** The lead as its owner sees it; a rep who no longer owns it learns nothing more about it. */
  const leadFor = async (link: ActionLink): Promise<LeadView> => {
    try {
      return await readLead(
        deps,
        link.leadId,
        { role: 'rep', repId: link.repId },
        { temporalUiUrl: deps.temporalUiUrl, namespace: deps.namespace },
      );
    } catch (error) {
      if (error instanceof ApiError && error.status === 404) throw reassigned;
      throw error;
    }
  };
  const mint = (link: ActionLink, action: LinkAction, nonce: string) =>
    `/act/${actionLinkToken(deps.actionLinkSecret!, { ...link, action, nonce }, new Date(Date.now() + validForMs))}`;

  const leadPage = async (link: ActionLink, lead: LeadView) => {
    // One nonce per page view: each view's buttons are links of their own.
    const nonce = randomBytes(9).toString('base64url');
    return page(lead.company ?? 'Lead', leadPageBody(deps, lead, { action: (name) => mint(link, name, nonce) }));
  };

  return new OpenAPIHono<AppEnv>()
    .openapi(
      createRoute({
        method: 'get',
        path: '/act/{token}',
        tags: ['action links'],
        summary: 'The page behind an action link in a rep alert: the lead, and buttons that act (no API key; never acts itself)',
        request: { params: tokenParam },
        responses: {
          200: { description: 'the lead, with forms that POST to fresh action links', ...htmlAnswer },
          ...errorResponses(400, 403, 404, 410),
        },
      }),
      async (c) => {
        try {
          const link = linkOf(c.req.valid('param').token);
          return c.html(await leadPage(link, await leadFor(link)), 200, privatePage);
        } catch (error) {
          return refused(c, error);
        }
      },
    )
    .openapi(
      createRoute({
        method: 'post',
        path: '/act/{token}',
        tags: ['action links'],
        summary: "Take the link's action as its rep (no API key; form fields note, reason, name, amount)",
        request: { params: tokenParam },
        responses: { 200: { description: 'a page saying what was done', ...htmlAnswer }, ...errorResponses(400, 403, 404, 409, 410) },
      }),
      async (c) => {
        const { token } = c.req.valid('param');
        try {
          const link = linkOf(token);
          if (link.action === 'open') throw new PageRefusal(400, 'Nothing to do', 'This link only opens the lead.');
          const form = await c.req.parseBody().catch(() => ({}));
          // One action per link: a double click or a replayed POST is the same update, which Temporal applies once.
          const updateId = `action-link-${createHash('sha256').update(token).digest('base64url').slice(0, 22)}`;
          const title = await actOnLead(deps, { ...link, action: link.action }, form, { updateId, notOwned: reassigned });
          return c.html(
            page(title, html`<p><a href="${mint(link, 'open', randomBytes(9).toString('base64url'))}">Back to the lead</a></p>`),
            200,
            privatePage,
          );
        } catch (error) {
          return refused(c, error);
        }
      },
    );
}
