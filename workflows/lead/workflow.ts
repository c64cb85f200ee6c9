import { allHandlersFinished, ApplicationFailure, condition, continueAsNew, patched, setHandler, workflowInfo } from '@temporalio/workflow';
import { rejectAction, type ActionName } from '../../domain/actions';
import { cadenceOfStatus } from '../../domain/cadence';
import { closesAt, enrichmentRetryAt, nextDeadline, slaDeadline, waitingForOwner } from '../../domain/deadlines';
import { closedStatuses, type LeadStatus } from '../../domain/lead';
import { actionFailureTypes, actionUpdates, engagementSignal, captureSignal, leadStateQuery, retryRoutingSignal, type ActionResult } from '../definitions';
import { actionFailure, applyAction } from './actions';
import { workflowPatches } from './patches';
import { onSlaDeadline, retryRouting, routeIfSalesReady, routingRetryDue } from './assignment';
import { enrich, onCapture, onEngagement } from './intake';
import { save } from './journal';
import { followStatus, nurtureDue } from './nurture';
import { rescore } from './scoring';
import { badDataReason } from './failures';
import { quarantine } from './quarantine';
import { clock, durable, LeadRun, now, type LeadWorkflowInput, type SignalWork, type Work } from './run';

export type { CarriedState, LeadWorkflowInput } from './run';

export interface LeadOutcome {
  status: LeadStatus;
  reason?: string;
}

export { workflowPatches } from './patches';

/**
 * One lead, from its first capture until it closes: merge, enrich, consent, score, qualify, route,
 * hold the owner to the response SLA with the escalation ladder, nurture, recycle, and apply rep
 * and ops actions. Signals and updates queue up and are applied one at a time; between them the
 * workflow sleeps until the next deadline (domain/deadlines.ts).
 */
/** One signal or action, then routing if it made the lead sales-ready. */
async function apply(run: LeadRun, work: Work) {
  if (work.kind === 'capture') await onCapture(run, work.signal);
  else if (work.kind === 'engagement') await onEngagement(run, work.signal);
  else if (work.kind === 'retryRouting') {
    if (run.lead && waitingForOwner(run.lead)) await retryRouting(run, run.lead);
  } else {
    // An action's rejection goes to whoever waits for it; bad data goes on to quarantine.
    await applyAction(run, work.name, work.request).then(work.resolve, (error) => (badDataReason(error) === undefined ? work.reject(error) : Promise.reject(error)));
  }
  if (run.lead) await routeIfSalesReady(run, run.lead);
}

export async function leadWorkflow(input: LeadWorkflowInput): Promise<LeadOutcome> {
  const run = new LeadRun(input, patched(workflowPatches.nurtureCadences));
  const { leadId, queue } = run;
  setHandler(captureSignal, (signal) => void queue.push({ kind: 'capture', signal }));
  setHandler(engagementSignal, (signal) => void queue.push({ kind: 'engagement', signal }));
  setHandler(retryRoutingSignal, () => void queue.push({ kind: 'retryRouting' }));

  if (run.nurtures && !run.policy.recycling) {
    // The run before this one started on a policy that predates cadences: take the worker's.
    run.policy = await durable.currentPolicy();
  }
  const start = input.carried?.lead ?? (input.stored === false ? null : await run.io().loadLead(leadId));
  if (start && closedStatuses.includes(start.status)) {
    run.reactivatedFrom = start.status;
    run.lead = { ...start, status: 'new', statusReason: undefined };
  } else {
    run.lead = start ?? undefined;
  }
  setHandler(leadStateQuery, () => ({ lead: run.lead, captures: run.captures }));

  for (const name of Object.keys(actionUpdates) as ActionName[]) {
    setHandler(
      actionUpdates[name] as typeof actionUpdates.accept,
      (request) => new Promise<ActionResult>((resolve, reject) => queue.push({ kind: 'action', name, request, resolve, reject })),
      {
        // Rejects at once what clearly does not fit. While a step is under way (e.g. routing has
        // chosen an owner the workflow has not recorded yet) the check waits for the action's turn.
        validator: (request) => {
          if (!run.lead) throw ApplicationFailure.create({ type: actionFailureTypes.invalidState, message: 'the lead is not captured yet' });
          if (run.busy) return;
          const rejection = rejectAction(name, run.lead.status, run.lead.routing?.ownerId, request.actor);
          if (rejection) throw actionFailure(rejection);
        },
      },
    );
  }

  if (run.nurtures && run.lead && !closedStatuses.includes(run.lead.status)) {
    // A lead carried over from a run that predates cadences: give it its re-engagement schedule or its cadence now.
    const lead = run.lead;
    if (lead.status === 'recycled' && !lead.recycle) lead.recycle = { at: now(), reason: lead.statusReason ?? 'other', reengagements: 0 };
    if (cadenceOfStatus[lead.status] && !lead.cadence) {
      await followStatus(run, lead);
      await save(run, lead);
    }
  }

  for (;;) {
    if (run.lead && queue.length === 0 && (workflowInfo().continueAsNewSuggested || workflowInfo().historyLength >= run.policy.history.maxEventsPerRun)) {
      await continueAsNew<typeof leadWorkflow>({ leadId, policy: run.policy, carried: run.carried() });
    }
    const wait = run.lead ? Math.max(0, nextDeadline(run.lead, run.policy, run, new Date()) - clock()) : undefined;
    const gotWork = wait === undefined ? (await condition(() => queue.length > 0), true) : await condition(() => queue.length > 0, wait);
    run.busy = true;
    run.someoneWaits = gotWork;
    if (gotWork) {
      while (queue.length > 0 && !closedStatuses.includes(run.lead?.status ?? 'new')) {
        const work = queue.shift()!;
        const checkpoint = run.checkpoint();
        try {
          await apply(run, work);
        } catch (error) {
          const reason = badDataReason(error);
          if (reason === undefined) throw error;
          run.restore(checkpoint);
          if (!(await quarantine(run, work, reason))) throw error;
        }
      }
      run.busy = false;
      if (run.lead && closedStatuses.includes(run.lead.status)) break;
      continue;
    }

    const current = run.lead!;
    const enrichmentRetry = enrichmentRetryAt(run.policy, run.enrichmentFailedAt);
    if (enrichmentRetry !== undefined && clock() >= enrichmentRetry) await enrich(run, current);
    const sla = slaDeadline(current);
    if (sla !== undefined && clock() >= sla) await onSlaDeadline(run, current);
    if (routingRetryDue(run, current)) await retryRouting(run, current);
    if (run.nurtures) await nurtureDue(run, current);
    rescore(run, current, 'time since last engagement');
    await routeIfSalesReady(run, current);
    if (clock() >= closesAt(current, run.policy, run.nurtures)) {
      // DESIGN.md: 90 days with no activity closes any open lead with a reason; a recycled one is archived.
      run.setStatus(current, run.nurtures && current.status === 'recycled' ? 'archived' : 'disqualified', 'unresponsive');
      await followStatus(run, current);
      await save(run, current);
      break;
    }
    if (run.journal.hasPending) {
      await followStatus(run, current);
      await save(run, current);
    }
    run.busy = false;
  }

  const lead = run.lead!;
  // Actions queued behind the one that closed the lead no longer fit it.
  for (const work of queue) {
    if (work.kind === 'action') work.reject(actionFailure({ kind: 'invalid_state', message: `the lead is ${lead.status}` }));
  }
  await condition(allHandlersFinished);
  const signals = queue.filter((work): work is SignalWork => work.kind === 'capture');
  if (signals.length > 0) {
    // Someone was captured while the lead was closing: reactivate it rather than drop the capture.
    await continueAsNew<typeof leadWorkflow>({ leadId, policy: run.policy, carried: run.carried(), pending: signals });
  }
  return { status: lead.status, reason: lead.statusReason };
}
