import { createHash } from 'node:crypto';
import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import { WorkflowNotFoundError } from '@temporalio/client';
import { confirmEmailConsentOfClosedLead, withdrawEmailConsentOfClosedLead } from '../../db/email';
import { findLeadState } from '../../db/leads';
import { closedStatuses } from '../../domain/lead';
import { checkConsentConfirmationToken, checkUnsubscribeToken } from '../../domain/unsubscribe';
import { consentConfirmationSignal } from '../../contracts/lead';
import type { ApiDeps, AppEnv } from '../context';
import { ApiError, errorResponses } from '../errors';
import { leadNotFound } from '../lead-view';
import { signalEngagement } from './engagement';

const tokenParam = z.object({
  token: z
    .string()
    .max(400)
    .meta({ param: { name: 'token', in: 'path' }, description: 'the signed token of the link in the email' }),
});
const html = { content: { 'text/html': { schema: z.string() } } };

/** A minimal page; nothing in it comes from the request but the token, which is checked to be URL-safe first. */
const page = (title: string, body: string) =>
  `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width"><title>${title}</title></head>` +
  `<body style="font-family:system-ui,sans-serif;max-width:32rem;margin:4rem auto;padding:0 1rem"><h1>${title}</h1>${body}</body></html>`;

const refusal = {
  malformed: new ApiError(400, 'invalid_token', 'this is not an unsubscribe link we sent'),
  bad_signature: new ApiError(403, 'invalid_token', 'this unsubscribe link is not valid (it was changed or signed with another key)'),
  expired: new ApiError(410, 'link_expired', 'this unsubscribe link has expired: use the link in a newer email'),
};

/**
 * One-click unsubscribe (RFC 8058) from the link in every marketing email. No API key: the signed,
 * expiring token is the credential. GET only shows a page with a button (mail scanners follow
 * links, so a GET never unsubscribes); POST (the button, or the mail client's one-click
 * `List-Unsubscribe=One-Click`) records `unsubscribed` through the lead's workflow, exactly as
 * `POST /leads/{id}/activities` would: email consent withdrawn, −15, no further email steps.
 */
/** The token is the credential: kept out of caches, referrers of anything the page loads, and search engines. */
const privatePage = { 'Cache-Control': 'no-store', 'Referrer-Policy': 'no-referrer', 'X-Robots-Tag': 'noindex' };

export function unsubscribeRoutes(deps: ApiDeps) {
  const leadOf = (token: string) => {
    if (!deps.unsubscribeSecret) throw new ApiError(404, 'not_found', 'unsubscribe links are not in use here');
    const check = checkUnsubscribeToken(deps.unsubscribeSecret, token);
    if ('problem' in check) throw refusal[check.problem];
    return check.leadId;
  };
  return new OpenAPIHono<AppEnv>()
    .openapi(
      createRoute({
        method: 'get',
        path: '/unsubscribe/{token}',
        tags: ['email'],
        summary: 'The page behind the unsubscribe link: a button that unsubscribes (no API key)',
        request: { params: tokenParam },
        responses: { 200: { description: 'a confirmation page with a button that POSTs', ...html }, ...errorResponses(400, 403, 404, 410) },
      }),
      async (c) => {
        const { token } = c.req.valid('param');
        leadOf(token);
        return c.html(
          page(
            'Unsubscribe',
            `<p>Stop receiving marketing email from us at this address?</p>
<form method="post" action="/unsubscribe/${token}"><input type="hidden" name="List-Unsubscribe" value="One-Click"><button type="submit">Unsubscribe</button></form>`,
          ),
          200,
          privatePage,
        );
      },
    )
    .openapi(
      createRoute({
        method: 'post',
        path: '/unsubscribe/{token}',
        tags: ['email'],
        summary: 'One-click unsubscribe (RFC 8058; body `List-Unsubscribe=One-Click`, no API key)',
        request: {
          params: tokenParam,
          body: {
            required: false,
            content: {
              'application/x-www-form-urlencoded': { schema: z.object({ 'List-Unsubscribe': z.literal('One-Click').optional() }) },
            },
          },
        },
        responses: {
          200: { description: 'unsubscribed (also when already unsubscribed)', ...html },
          ...errorResponses(400, 403, 404, 410, 503),
        },
      }),
      async (c) => {
        const { token } = c.req.valid('param');
        const leadId = leadOf(token);
        // One event per link: a client that posts twice (or a person who clicks again) unsubscribes once.
        const eventId = `unsubscribe-link-${createHash('sha256').update(token).digest('base64url').slice(0, 22)}`;
        try {
          await signalEngagement(deps, leadId, {
            activityId: `event-${eventId}`,
            eventId,
            type: 'unsubscribed',
            receivedAt: new Date().toISOString(),
            actor: 'unsubscribe_link',
          });
        } catch (error) {
          // A closed lead has no workflow to tell: its stored consent is withdrawn, so a reactivation starts opted out.
          if (!(error instanceof ApiError && error.status === 409)) throw error;
          await withdrawEmailConsentOfClosedLead(deps.sql, leadId, closedStatuses, eventId);
        }
        return c.html(page('Unsubscribed', '<p>You will receive no more marketing email from us at this address.</p>'), 200, privatePage);
      },
    );
}

const confirmationRefusal = {
  malformed: new ApiError(400, 'invalid_token', 'this is not a confirmation link we sent'),
  bad_signature: new ApiError(403, 'invalid_token', 'this confirmation link is not valid (it was changed or signed with another key)'),
  expired: new ApiError(410, 'link_expired', 'this confirmation link has expired: you stay unsubscribed'),
};

/**
 * Double opt-in (docs/operations/security.md, "Consent"): the link of the email a capture's opt-in
 * after an opt-out sends. No API key: the signed, expiring token is the credential. GET only shows
 * a page with a button (mail scanners follow links); POST tells the lead's workflow the person
 * confirmed, which makes email consent `opted_in` as of the moment the API received the POST. A
 * closed lead's stored consent is updated by the same rule, so a reactivation starts opted in.
 */
export function consentConfirmationRoutes(deps: ApiDeps) {
  const leadOf = (token: string) => {
    if (!deps.unsubscribeSecret) throw new ApiError(404, 'not_found', 'confirmation links are not in use here');
    const check = checkConsentConfirmationToken(deps.unsubscribeSecret, token);
    if ('problem' in check) throw confirmationRefusal[check.problem];
    return check.leadId;
  };
  return new OpenAPIHono<AppEnv>()
    .openapi(
      createRoute({
        method: 'get',
        path: '/consent/confirm/{token}',
        tags: ['email'],
        summary: 'The page behind a consent confirmation link: a button that confirms (no API key)',
        request: { params: tokenParam },
        responses: { 200: { description: 'a page with a button that POSTs', ...html }, ...errorResponses(400, 403, 404, 410) },
      }),
      async (c) => {
        const { token } = c.req.valid('param');
        leadOf(token);
        return c.html(
          page(
            'Confirm',
            `<p>Receive marketing email from us at this address again?</p>
<form method="post" action="/consent/confirm/${token}"><button type="submit">Yes, send me email</button></form>`,
          ),
          200,
          privatePage,
        );
      },
    )
    .openapi(
      createRoute({
        method: 'post',
        path: '/consent/confirm/{token}',
        tags: ['email'],
        summary: 'Confirm email consent by the link of a confirmation email (no API key)',
        request: { params: tokenParam },
        responses: {
          200: { description: 'confirmed (also when confirmed before)', ...html },
          ...errorResponses(400, 403, 404, 409, 410, 503),
        },
      }),
      async (c) => {
        const { token } = c.req.valid('param');
        const leadId = leadOf(token);
        // One confirmation per link: posting twice confirms once.
        const confirmationId = `consent-confirmation-${createHash('sha256').update(token).digest('base64url').slice(0, 22)}`;
        const receivedAt = new Date().toISOString();
        try {
          await deps.temporal.workflow
            .getHandle(leadId)
            .signal(consentConfirmationSignal, { confirmationId, channel: 'email', receivedAt });
        } catch (error) {
          if (!(error instanceof WorkflowNotFoundError)) throw error;
          const lead = await findLeadState(deps.sql, leadId);
          if (!lead) throw leadNotFound(leadId);
          if (!closedStatuses.includes(lead.status))
            throw new ApiError(409, 'invalid_state', `lead ${leadId} is ${lead.status} but its workflow is not running`);
          await confirmEmailConsentOfClosedLead(deps.sql, leadId, closedStatuses, confirmationId, receivedAt);
        }
        return c.html(
          page('Confirmed', '<p>Thank you: you will receive marketing email from us at this address again.</p>'),
          200,
          privatePage,
        );
      },
    );
}
