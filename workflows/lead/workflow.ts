import { allHandlersFinished, ApplicationFailure, condition, continueAsNew, setHandler, workflowInfo } from '@temporalio/workflow';
import { actionFailureTypes } from '../../contracts/failures';
import {
  actionUpdates,
  captureSignal,
  captureUpdate,
  consentConfirmationSignal,
  engagementSignal,
  leadStateQuery,
  retryRoutingSignal,
  type ActionResult,
  type EngagementSignal,
  type LeadOutcome,
  type LeadState,
  type LeadWorkflowInput,
  type SignalWork,
} from '../../contracts/lead';
import { rescoreSignal } from '../../contracts/rollout';
import { rejectAction, type ActionName } from '../../domain/actions';
import { closesAt, enrichmentRetryAt, nextDeadline, slaDeadline, waitingForOwner } from '../../domain/deadlines';
import { closedStatuses } from '../../domain/lead';
import type { LeadRecord } from '../../domain/lead-record';
import { actionFailure, applyAction } from './actions';
import { onSlaDeadline, retryRouting, routeIfSalesReady, routingRetryDue } from './assignment';
import { captureEvent, enrich, noteEngagement, onCapture, onConsentConfirmation, onEngagement } from './intake';
import { followStatus, nurtureDue } from './nurture';
import { onRescore, reportRescore } from './rollout';
import { rescore } from './scoring';
import { badDataReason } from './failures';
import { quarantine } from './quarantine';
import { clock, LeadRun, save, type Work } from './run';

/** One signal or action, then routing if it made the lead sales-ready. */
async function apply(run: LeadRun, work: Work) {
  if (work.kind === 'capture') await onCapture(run, work.signal);
  else if (work.kind === 'engagement') await onEngagement(run, work.signal);
  else if (work.kind === 'consentConfirmation') await onConsentConfirmation(run, work.signal);
  else if (work.kind === 'rescore') {
    const report = await onRescore(run, work.signal);
    if (run.lead) await routeIfSalesReady(run, run.lead);
    return reportRescore(work.signal.rolloutId, report);
  } else if (work.kind === 'retryRouting') {
    if (run.lead && waitingForOwner(run.lead)) await retryRouting(run, run.lead);
  } else {
    // An action's rejection goes to whoever waits for it; bad data goes on to quarantine.
    await applyAction(run, work.name, work.request).then(work.resolve, (error) =>
      badDataReason(error) === undefined ? work.reject(error) : Promise.reject(error),
    );
  }
  if (run.lead) await routeIfSalesReady(run, run.lead);
}

/**
 * The state query: the lead as the run holds it and the timeline events it has not stored yet. A
 * lead whose first captures wait in the queue is shown as they make it, with their events; other
 * queued work shows once applied, so the lead and the events always agree.
 */
function leadState(run: LeadRun): LeadState {
  // A capture can be queued twice (its update and, when that was slow to answer, its signal); it is applied once.
  const queuedCaptures = [
    ...new Map(
      run.queue.flatMap((work) =>
        work.kind === 'capture' && !run.state.seenIds.includes(work.signal.captureId)
          ? [[work.signal.captureId, work.signal] as const]
          : [],
      ),
    ).values(),
  ];
  return {
    lead: run.lead,
    captures: run.state.captures,
    queuedCaptures,
    unsaved: [...run.journal.unsavedEvents, ...(run.lead ? [] : queuedCaptures.map((signal, i) => captureEvent(signal, i > 0)))],
  };
}

/**
 * One lead, from its first capture until it closes: merge, enrich, consent, score, qualify, route,
 * hold the owner to the response SLA with the escalation ladder, nurture, recycle, and apply rep
 * and ops actions. Signals and updates queue up and are applied one at a time; between them the
 * workflow sleeps until the next deadline (domain/deadlines.ts).
 */
export async function leadWorkflow(input: LeadWorkflowInput): Promise<LeadOutcome> {
  const run = new LeadRun(input);
  const { leadId, queue } = run;
  /** Queues work that is the same however often it is asked for (a wake-up, a rollout's re-score) once. */
  const queueOnce = (work: SignalWork, same: (queued: Work) => boolean) => void (queue.some(same) || queue.push(work));
  setHandler(captureSignal, (signal) => void queue.push({ kind: 'capture', signal }));
  setHandler(captureUpdate, (signal) => run.takeCapture(signal));
  setHandler(engagementSignal, (signal) => void queue.push({ kind: 'engagement', signal }));
  setHandler(consentConfirmationSignal, (signal) => void queue.push({ kind: 'consentConfirmation', signal }));
  setHandler(retryRoutingSignal, () => queueOnce({ kind: 'retryRouting' }, (queued) => queued.kind === 'retryRouting'));
  setHandler(rescoreSignal, (signal) =>
    queueOnce({ kind: 'rescore', signal }, (queued) => queued.kind === 'rescore' && queued.signal.rolloutId === signal.rolloutId),
  );
  setHandler(leadStateQuery, () => leadState(run));
  for (const name of Object.keys(actionUpdates) as ActionName[]) {
    setHandler(
      actionUpdates[name] as typeof actionUpdates.accept,
      (request) => new Promise<ActionResult>((resolve, reject) => queue.push({ kind: 'action', name, request, resolve, reject })),
      {
        // Rejects at once what clearly does not fit. While a step is under way (e.g. routing has
        // chosen an owner the workflow has not recorded yet) the check waits for the action's turn.
        validator: (request) => {
          if (!run.lead)
            throw ApplicationFailure.create({ type: actionFailureTypes.invalidState, message: 'the lead is not captured yet' });
          if (run.busy) return;
          const rejection = rejectAction(name, run.lead.status, run.lead.routing?.ownerId, request.actor);
          if (rejection) throw actionFailure(rejection);
        },
      },
    );
  }

  // A new run (not carried over) reads what Postgres has of the lead in its first workflow task,
  // which then goes on to apply the capture that started it.
  if (!input.carried) await run.start();

  /** The server suggests continue-as-new, or the run reached its own bound. */
  const continueAsNewDue = () =>
    workflowInfo().continueAsNewSuggested || workflowInfo().historyLength >= run.policy.history.maxEventsPerRun;
  for (;;) {
    if (run.lead && queue.length === 0 && continueAsNewDue()) {
      await continueAsNew<typeof leadWorkflow>({ leadId, policy: run.policy, carried: run.carried() });
    }
    const wait = run.lead ? Math.max(0, nextDeadline(run.lead, run.policy, run.state, new Date()) - clock()) : undefined;
    const gotWork = wait === undefined ? (await condition(() => queue.length > 0), true) : await condition(() => queue.length > 0, wait);
    run.busy = true;
    run.someoneWaits = gotWork;
    if (gotWork) {
      while (queue.length > 0 && !closedStatuses.includes(run.lead?.status ?? 'new')) {
        const signalsOnly = (work: Work): work is SignalWork => work.kind !== 'action';
        if (run.lead && !run.journal.hasPending && continueAsNewDue() && queue.every(signalsOnly)) {
          // Under a steady stream of signals the queue never empties (signals arrive while the last ones
          // are applied), so the run would grow without bound: hand what is queued to the next run.
          // Answers given first leave in a task of their own: a task that ends the run fails when
          // signals arrive meanwhile, and the server then aborts the updates it accepted.
          await run.flushAnswers();
          if (queue.every(signalsOnly)) {
            await continueAsNew<typeof leadWorkflow>({
              leadId,
              policy: run.policy,
              carried: run.carried(),
              pending: queue.filter(signalsOnly),
            });
          }
        }
        // A task that applies input after input holds their local activities and the signals
        // arriving meanwhile; past a hundred buffered signals the server fails it and its work is
        // done again. Complete the task every few local activities instead.
        await run.keepTasksShort();
        await run.flushAnswers();
        const work = queue.shift()!;
        const checkpoint = run.checkpoint();
        try {
          await apply(run, work);
        } catch (error) {
          const reason = badDataReason(error);
          if (reason === undefined) throw error;
          run.restore(checkpoint);
          await quarantine(run, work, reason);
        }
      }
      run.busy = false;
      if (run.lead && closedStatuses.includes(run.lead.status)) break;
      continue;
    }

    const current = run.lead!;
    const enrichmentRetry = enrichmentRetryAt(run.policy, run.state.enrichmentFailedAt);
    if (enrichmentRetry !== undefined && clock() >= enrichmentRetry) await enrich(run, current);
    const sla = slaDeadline(current);
    if (sla !== undefined && clock() >= sla) await onSlaDeadline(run, current);
    if (routingRetryDue(run, current)) await retryRouting(run, current);
    await nurtureDue(run, current);
    rescore(run, current, 'time since last engagement');
    await routeIfSalesReady(run, current);
    if (clock() >= closesAt(current, run.policy)) {
      // 90 days with no activity close any open lead with a reason; a recycled one is archived.
      run.setStatus(current, current.status === 'recycled' ? 'archived' : 'disqualified', 'unresponsive');
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
  // The action that closed the lead, and captures answered meanwhile, are answered in a task of
  // their own: the task that ends the run fails if signals arrive meanwhile, and the server then
  // aborts the updates it accepted (the client sees a failure although the lead closed).
  await run.endTask();
  if (queue.some((work) => work.kind === 'engagement')) await recordWhileClosing(run, lead);
  // A rollout's signal that reached the lead as it closed: the rollout counts it as skipped rather than wait for it.
  for (const work of queue) if (work.kind === 'rescore') await reportRescore(work.signal.rolloutId, { leadId, outcome: 'skipped' });
  const signals = queue.filter((work): work is SignalWork => work.kind === 'capture');
  if (signals.length > 0) {
    // Someone was captured while the lead was closing: reactivate it rather than drop the capture.
    await continueAsNew<typeof leadWorkflow>({ leadId, policy: run.policy, carried: run.carried(), pending: signals });
  }
  return { status: lead.status, reason: lead.statusReason };
}

/**
 * Engagement events that reached the lead while it was closing (their senders got a 202): recorded
 * in its timeline and engagement (an unsubscribe withdraws consent), not scored, since a closed
 * lead's score stays as it closed. Saving takes a while, so events arriving meanwhile are taken too;
 * the run ends only when none is left (an event arriving as it ends fails that task, and the
 * replay takes it here).
 */
async function recordWhileClosing(run: LeadRun, lead: LeadRecord) {
  for (;;) {
    const events = run.queue.filter((work): work is { kind: 'engagement'; signal: EngagementSignal } => work.kind === 'engagement');
    if (events.length === 0) return;
    run.queue.splice(0, run.queue.length, ...run.queue.filter((work) => work.kind !== 'engagement'));
    for (const { signal } of events) noteEngagement(run, lead, signal);
    if (run.journal.hasPending) await save(run, lead);
  }
}
