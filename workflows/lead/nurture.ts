import { cadenceLabel, cadenceOfStatus, enroll, exhausted, reachStep, stepBlocked, type CadenceStep } from '../../domain/cadence';
import type { LeadRecord } from '../../domain/lead-record';
import { acceptedIdleUntil, nextReengagementAt } from '../../domain/recycling';
import { rescore } from './scoring';
import { clock, now, type LeadRun } from './run';

/**
 * Marketing's side of the lifecycle (docs/design.md, "Nurture cadences", "Recycling and aging"):
 * cadence enrolment and steps, recycling with re-engagement, and the 30-day rule for accepted leads.
 */

/**
 * Keeps the cadence in step with the status: `mql` and `not_ready` leads are enrolled in their
 * cadence (on its current version), and leave it when the status moves on. Called before each save.
 */
export async function followStatus(run: LeadRun, current: LeadRecord) {
  if (current.status !== 'recycled') current.recycle = undefined;
  const wanted = cadenceOfStatus[current.status];
  const enrolled = current.cadence;
  if (enrolled && enrolled.name !== wanted) {
    run.journal.record('cadence_exited', {
      cadence: enrolled.name,
      version: enrolled.version,
      step: enrolled.step,
      reason: `lead is ${current.status}`,
    });
    current.cadence = undefined;
  }
  if (wanted && !current.cadence) {
    const cadence = await run.io().currentCadence(wanted);
    current.cadence = enroll(cadence, now());
    run.journal.record('cadence_enrolled', {
      cadence: wanted,
      version: cadence.version,
      steps: cadence.steps.length,
      nextStepAt: current.cadence.nextStepAt,
    });
  }
}

/**
 * Outreach to the lead (a cadence step, a re-engagement), written to the outbox for delivery only
 * where the lead's consent on that channel allows; recorded either way. A step sent counts as
 * activity that keeps the lead from aging.
 */
function reachOut(
  run: LeadRun,
  current: LeadRecord,
  kind: 'cadence_step' | 'reengagement',
  outreach: Pick<CadenceStep, 'channel' | 'template'>,
  data: Record<string, unknown>,
) {
  const address = outreach.channel === 'email' ? current.profile.email : current.profile.phone;
  const skipped = stepBlocked(outreach, current.consent) ?? (address ? undefined : `no ${outreach.channel} address`);
  run.journal.record(kind, { ...data, channel: outreach.channel, template: outreach.template, sent: !skipped, skipped: skipped ?? null });
  if (skipped) return;
  run.journal.notify(kind, address!, `${outreach.template} (${outreach.channel}) to lead ${run.leadId}`, {
    ...data,
    channel: outreach.channel,
    template: outreach.template,
  });
  current.lastTouchAt = now();
}

/** Back to marketing with a reason: re-engaged at 30/60/90 days, routed afresh if it becomes sales-ready again. */
export function recycle(run: LeadRun, current: LeadRecord, reason: string, note: string | null, actor = 'system', at = now()) {
  run.journal.record('recycled', { reason, note, previousOwner: current.routing?.ownerId ?? null, by: actor }, at, actor);
  run.setStatus(current, 'recycled', reason);
  current.routing = undefined;
  run.state.routeRetryAt = undefined;
  current.recycle = { at: now(), reason, reengagements: 0 };
}

/** What nurture has due now: the next cadence step, a re-engagement of a recycled lead, or the 30-day rule for accepted leads. */
export async function nurtureDue(run: LeadRun, current: LeadRecord) {
  const { policy, journal } = run;
  const enrolled = current.cadence;
  if (enrolled?.nextStepAt && clock() >= new Date(enrolled.nextStepAt).getTime()) {
    const migration = await run.io().cadenceMigration({ name: enrolled.name, version: enrolled.version });
    // Counted from when the step was due, so the cadence keeps its offsets however late a worker is.
    const { step, enrollment } = reachStep(enrolled, enrolled.nextStepAt, migration ?? undefined);
    if (migration)
      journal.record('cadence_migrated', { cadence: enrolled.name, from: enrolled.version, to: migration.version, step: enrollment.step });
    current.cadence = enrollment;
    const position = {
      cadence: enrollment.name,
      version: enrollment.version,
      step: enrollment.step,
      of: enrollment.steps.length,
      dueAt: enrolled.nextStepAt,
    };
    if (step) reachOut(run, current, 'cadence_step', step, position);
    if (exhausted(enrollment)) {
      recycle(
        run,
        current,
        'no_response',
        `${cadenceLabel(enrollment)} ended after ${enrollment.steps.length} steps without the lead becoming sales-ready`,
      );
    }
  }
  const reengagement = nextReengagementAt(current, policy);
  if (reengagement && clock() >= reengagement.at) {
    current.recycle!.reengagements = reengagement.number;
    rescore(run, current, `re-engagement ${reengagement.number} after recycling`);
    if (current.status === 'recycled') {
      reachOut(run, current, 'reengagement', reengagement.outreach, {
        number: reengagement.number,
        of: policy.recycling.reengagement.length,
        dueAt: new Date(reengagement.at).toISOString(),
      });
    }
  }
  const acceptedIdle = acceptedIdleUntil(current, policy);
  if (acceptedIdle !== undefined && clock() >= acceptedIdle) {
    const ownerId = current.routing?.ownerId ?? null;
    const manager = current.routing?.ownerManagerId ?? current.routing?.teamManagerId ?? 'ops';
    journal.record('escalated', { to: manager, ownerId, reason: `accepted, no activity for ${policy.acceptedIdleAfter}` });
    journal.notify(
      'escalation',
      manager,
      `Lead ${run.leadId} accepted by ${ownerId} has had no activity for ${policy.acceptedIdleAfter}: recycled to marketing`,
      { ownerId },
    );
    recycle(run, current, 'no_response', `no activity logged for ${policy.acceptedIdleAfter} after it was accepted`);
  }
}
