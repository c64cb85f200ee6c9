import { Hono, type Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { leadSources } from '../../domain/lead';
import { segments, skipText, type RepSkip } from '../../domain/routing';
import type { RoutingStep } from '../../domain/routing-decision';
import { refusalOf, type ApiCall, type ApiRefusal } from './api-client';
import { Choice, CsrfToken, Field, numberOf, one, Refused, render, Table, type ConsoleEnv, type FormFields } from './ui';

/** `POST /routing/preview`'s answer (docs/api.md, "Routing preview and the routing log"). */
interface Preview {
  at: string;
  lead: {
    leadId: string | null;
    status: string | null;
    emailDomain: string | null;
    country: string | null;
    segment: string;
    source: string;
  };
  account: { domain: string; name: string; ownerId: string | null } | null;
  territories: { teams: { teamId: string; name: string; matched: boolean; why: string | null }[]; otherCountries: number } | null;
  path: RoutingStep[];
  outcome: string;
  ownerId: string | null;
  teamId: string | null;
  reason: string;
  priority: string;
  sla: string;
  slaReason: string;
  dueAt: string | null;
}

const profileFields = ['email', 'emailDomain', 'source', 'country', 'employees', 'segment'] as const;

/**
 * The body the form asks for: a lead id, or a profile of the fields filled in. Both or neither go
 * to the API as typed, whose 400 then names `leadId`.
 */
function previewBody(form: FormFields) {
  const profile = Object.fromEntries(
    profileFields.flatMap((name) => (one(form, name) ? [[name, name === 'employees' ? numberOf(one(form, name)) : one(form, name)]] : [])),
  );
  return { ...(one(form, 'leadId') && { leadId: one(form, 'leadId') }), ...(Object.keys(profile).length && { lead: profile }) };
}

const PreviewForm = ({ csrf, form, refusal }: { csrf: string; form: FormFields; refusal?: ApiRefusal }) => (
  <form method="post" action="/console/routing-preview" id="preview-form">
    <Refused refusal={refusal} />
    {/* A preview writes nothing: no form id, so no Idempotency-Key, which would keep the answer. */}
    <CsrfToken token={csrf} />
    <Field label="An existing lead's id" name="leadId" refusal={refusal}>
      <input name="leadId" value={one(form, 'leadId') ?? ''} placeholder="lead-…" maxlength={100} />
    </Field>
    <fieldset>
      <legend>Or a lead profile</legend>
      <Field label="Email" name="email" field="lead.email" refusal={refusal}>
        <input name="email" type="email" value={one(form, 'email') ?? ''} />
      </Field>
      <Field label="Or email domain" name="emailDomain" field="lead.emailDomain" refusal={refusal}>
        <input name="emailDomain" value={one(form, 'emailDomain') ?? ''} placeholder="acme.io" />
      </Field>
      <Field label="Source" name="source" field="lead.source" refusal={refusal}>
        <Choice name="source" options={leadSources} form={form} none="—" />
      </Field>
      <Field label="Country (ISO code)" name="country" field="lead.country" refusal={refusal}>
        <input name="country" value={one(form, 'country') ?? ''} maxlength={10} />
      </Field>
      <Field label="Employees" name="employees" field="lead.employees" refusal={refusal}>
        <input name="employees" value={one(form, 'employees') ?? ''} inputmode="numeric" />
      </Field>
      <Field label="Or segment" name="segment" field="lead.segment" refusal={refusal}>
        <Choice name="segment" options={segments} form={form} none="—" />
      </Field>
    </fieldset>
    <button type="submit">Preview routing</button>
  </form>
);

const skips = (why: RepSkip) => <span data-why={why}>{skipText(why)}</span>;

/** One step of the reason path, in words. */
const Step = ({ step }: { step: RoutingStep }) => {
  switch (step.step) {
    case 'account':
      return (
        <li data-step="account">
          Account {step.account} ({step.domain}), owner {step.ownerId}:{' '}
          {step.skipped ? (
            <>
              skipped, {skips(step.skipped)}
              {step.teamId ? `; their team ${step.teamName ?? step.teamId} takes it` : ''}
            </>
          ) : (
            'takes the lead'
          )}
        </li>
      );
    case 'territory':
      return (
        <li data-step="territory">
          Territory: country {step.country ?? 'none'}, segment {step.segment} →{' '}
          {step.teamId ? `team ${step.teamName ?? step.teamId} (${step.teamId})` : 'no team covers the lead'}
        </li>
      );
    case 'round_robin':
      return (
        <li data-step="round_robin">
          Weighted round robin in {step.teamId}: eligible {step.eligible.join(', ') || 'nobody'}
          {step.skipped.length ? (
            <ul>
              {step.skipped.map((s) => (
                <li data-skipped={s.repId}>
                  {s.repId} skipped: {skips(s.why)}
                </li>
              ))}
            </ul>
          ) : null}
          {' → '}
          {step.pick ?? 'nobody'}
        </li>
      );
  }
};

const Answer = ({ preview }: { preview: Preview }) => (
  <section id="preview-answer" data-outcome={preview.outcome}>
    <h2>What routing would do now</h2>
    <p>
      At {preview.at}: {preview.lead.leadId ? `lead ${preview.lead.leadId} (${preview.lead.status}), ` : ''}
      {preview.lead.source}, country {preview.lead.country ?? 'none'}, segment {preview.lead.segment}, domain{' '}
      {preview.lead.emailDomain ?? 'none'}. Nothing was written.
    </p>
    <h3>Account match</h3>
    <p id="preview-account">
      {preview.account
        ? `${preview.account.name} (${preview.account.domain}), owner ${preview.account.ownerId ?? 'none'}`
        : 'No account for the lead’s email domain.'}
    </p>
    {preview.territories ? (
      <>
        <h3>Territory teams</h3>
        <Table id="preview-territories" head={['Team', 'Name', 'Covers the lead']}>
          {preview.territories.teams.map((team) => (
            <tr data-team={team.teamId}>
              <td>{team.teamId}</td>
              <td>{team.name}</td>
              <td>{team.matched ? 'yes' : (team.why ?? 'no')}</td>
            </tr>
          ))}
        </Table>
        <p>Teams before it that cover other countries: {preview.territories.otherCountries}.</p>
      </>
    ) : null}
    <h3>Reason path</h3>
    <ol id="preview-path">
      {preview.path.map((step) => (
        <Step step={step} />
      ))}
    </ol>
    <h3>The pick</h3>
    <p id="preview-pick" data-owner={preview.ownerId ?? ''}>
      {preview.ownerId ? `${preview.ownerId} of team ${preview.teamId}` : 'Unassigned: the lead would wait in the unassigned queue.'}
    </p>
    <p id="preview-reason">{preview.reason}</p>
    <p id="preview-sla">
      Priority {preview.priority} ({preview.slaReason}), SLA {preview.sla}, due {preview.dueAt ?? '— (nobody assigned)'}
    </p>
  </section>
);

/**
 * Routing preview (ops): what routing would do now for an existing lead or a profile, step by
 * step, from `POST /routing/preview`, which writes nothing (docs/features/routing.md#preview).
 */
export function routingPreviewPages(api: (c: Context<ConsoleEnv>) => ApiCall) {
  const show = (
    c: Context<ConsoleEnv>,
    { form = {}, refusal, preview }: { form?: FormFields; refusal?: ApiRefusal; preview?: Preview } = {},
  ) =>
    render(
      c,
      'Routing preview',
      <>
        <PreviewForm csrf={c.get('csrf')} form={form} refusal={refusal} />
        {preview ? <Answer preview={preview} /> : null}
      </>,
      refusal ? (refusal.status as ContentfulStatusCode) : 200,
    );
  return new Hono<ConsoleEnv>()
    .get('/console/routing-preview', (c) => show(c))
    .post('/console/routing-preview', async (c) => {
      const form = (await c.req.parseBody({ all: true })) as FormFields;
      const answer = await api(c)('POST', '/routing/preview', previewBody(form));
      if (answer.status === 200) return show(c, { form, preview: answer.body });
      return show(c, { form, refusal: refusalOf(answer) });
    });
}
