import { waitingForOwner } from '../../domain/deadlines';
import { durationMs } from '../../domain/duration';
import type { Assignment, LeadRecord } from '../../domain/lead-record';
import { slaClock } from '../../domain/sla';
import { followStatus } from './nurture';
import { clock, now, save, type LeadRun } from './run';

/**
 * Sales' side of the lifecycle (docs/design.md, "Routing", "Speed-to-lead SLA and escalation"):
 * routing, the unassigned queue, the SLA ladder and the owner's first response.
 */

/**
 * How an alert names the lead besides its id: the company, and the prospect's contact details only
 * where `notify.includeContact` says so (alerts land in chat channels an erasure cannot reach).
 */
export function alertLabel(run: LeadRun, current: LeadRecord): string {
  const { company, email, phone } = current.profile;
  const contact = run.policy.notify?.includeContact ? [email, phone] : [];
  return [company ?? 'company unknown', ...contact].filter(Boolean).join(', ');
}

/** Starts an assignment: the owner (or the unassigned queue), a fresh SLA clock, and the alert. */
export function startAssignment(run: LeadRun, current: LeadRecord, assignment: Assignment, ladder = true) {
  const { policy, journal, leadId } = run;
  const sla = assignment.ownerId && ladder ? slaClock(new Date(), assignment.sla, policy.escalation.reminderAt) : undefined;
  current.routing = {
    ...assignment,
    assignedAt: assignment.ownerId ? now() : null,
    reminderAt: sla?.reminderAt ?? null,
    dueAt: sla?.dueAt ?? null,
    reminded: false,
    breaches: current.routing?.breaches ?? 0,
    respondedAt: null,
    responseMs: null,
  };
  if (assignment.ownerId) {
    run.state.routeRetryAt = undefined;
    journal.record('assigned', {
      ownerId: assignment.ownerId,
      teamId: assignment.teamId,
      reason: assignment.reason,
      priority: assignment.priority,
      sla: assignment.sla,
      slaReason: assignment.slaReason,
      dueAt: sla?.dueAt ?? null,
    });
    journal.notify(
      'assignment',
      assignment.ownerId,
      `New ${assignment.priority} lead ${leadId} (${alertLabel(run, current)}): respond within ${assignment.sla}`,
      { dueAt: sla?.dueAt ?? null },
    );
  } else {
    run.state.routeRetryDelay = durationMs(policy.routing.unassignedRetryFirst);
    run.state.routeRetryAt = clock() + run.state.routeRetryDelay;
    journal.record('unassigned', { teamId: assignment.teamId, reason: assignment.reason, priority: assignment.priority });
    journal.notify(
      'unassigned',
      'ops',
      `Lead ${leadId} is in the unassigned queue${assignment.teamId ? ` of team ${assignment.teamId}` : ''}: ${assignment.reason}`,
    );
  }
}

/** One routing decision: a new routing key each call (keys are never reused for another decision). */
function routeRequest(run: LeadRun, current: LeadRecord, exclude: string[] = []) {
  const p = current.profile;
  return {
    leadId: run.leadId,
    email: p.email,
    country: p.country,
    employees: p.employees,
    source: p.source,
    sla: run.policy.sla,
    exclude,
    at: now(),
    routingKey: run.routingKey(),
  };
}

async function route(run: LeadRun, current: LeadRecord, exclude: string[] = []) {
  startAssignment(run, current, await run.io().routeLead(routeRequest(run, current, exclude)));
}

/** Another try for a lead in the unassigned queue: quiet (no event, no alert) unless it finds an owner. */
export async function retryRouting(run: LeadRun, current: LeadRecord) {
  const assignment = await run.io().routeLead(routeRequest(run, current));
  if (assignment.ownerId) {
    startAssignment(run, current, assignment);
    await followStatus(run, current);
    await save(run, current);
  } else {
    run.state.routeRetryDelay = Math.min(run.state.routeRetryDelay * 2, durationMs(run.policy.routing.unassignedRetryMax));
    run.state.routeRetryAt = clock() + run.state.routeRetryDelay;
  }
}

/** A routing retry is due (its backoff ran out) for a lead still in the unassigned queue. */
export const routingRetryDue = (run: LeadRun, current: LeadRecord) =>
  run.state.routeRetryAt !== undefined && clock() >= run.state.routeRetryAt && waitingForOwner(current);

/**
 * A sales-ready lead without an assignment gets one. Its row is written in the same transaction
 * first, so concurrent routing counts it against the owner's capacity.
 */
export async function routeIfSalesReady(run: LeadRun, current: LeadRecord) {
  if (current.status !== 'sql' || current.routing) return;
  await followStatus(run, current);
  startAssignment(
    run,
    current,
    await run.io().saveAndRouteLead({ save: { lead: current, ...run.journal.take() }, route: routeRequest(run, current) }),
  );
  await save(run, current);
}

/** Saves what a step changed; a lead that just became sales-ready is routed in the same breath. */
export async function saveOrRoute(run: LeadRun, current: LeadRecord) {
  if (current.status === 'sql' && !current.routing) return routeIfSalesReady(run, current);
  await followStatus(run, current);
  await save(run, current);
}

/** The owner's first response (accept or touch) stops the SLA clock. */
export function respond(run: LeadRun, current: LeadRecord, how: string, actor: string) {
  const routing = current.routing;
  if (!routing || routing.respondedAt) return;
  routing.respondedAt = now();
  routing.responseMs = routing.assignedAt ? new Date().getTime() - new Date(routing.assignedAt).getTime() : null;
  run.journal.record(
    'responded',
    { by: actor, how, responseMs: routing.responseMs, withinSla: routing.dueAt ? routing.respondedAt <= routing.dueAt : null },
    routing.respondedAt,
    actor,
  );
}

/** The SLA ladder (docs/design.md): reminder at 50%, reassignment at breach, the manager or the unassigned queue at the next. */
export async function onSlaDeadline(run: LeadRun, current: LeadRecord) {
  const { policy, journal, leadId } = run;
  const routing = current.routing!;
  if (!routing.reminded && routing.reminderAt && clock() < new Date(routing.dueAt!).getTime()) {
    routing.reminded = true;
    journal.record('sla_reminder', { ownerId: routing.ownerId, dueAt: routing.dueAt });
    journal.notify('sla_reminder', routing.ownerId!, `Reminder: lead ${leadId} is due for a response by ${routing.dueAt}`, {
      dueAt: routing.dueAt,
    });
    return;
  }
  routing.breaches += 1;
  const breachedOwner = routing.ownerId!;
  journal.record('sla_breached', { ownerId: breachedOwner, breach: routing.breaches, dueAt: routing.dueAt, priority: routing.priority });
  if (routing.breaches <= policy.escalation.reassignments) {
    journal.notify(
      'sla_breach',
      routing.ownerManagerId ?? 'ops',
      `SLA breached: ${breachedOwner} did not respond to ${routing.priority} lead ${leadId} by ${routing.dueAt}; reassigning`,
      { ownerId: breachedOwner },
    );
    await route(run, current, [breachedOwner]);
    return;
  }
  // The ladder's last step: the team manager, or the unassigned queue; ops is alerted either way.
  const manager = routing.teamManagerId && routing.teamManagerId !== breachedOwner ? routing.teamManagerId : null;
  const assigned = manager
    ? await run
        .io()
        .assignTo({ leadId, repId: manager, reason: `escalated to team manager ${manager} after ${routing.breaches} SLA breaches` })
    : null;
  journal.notify(
    'escalation',
    'ops',
    `Lead ${leadId} breached its SLA ${routing.breaches} times: escalated to ${assigned ? `team manager ${manager}` : 'the unassigned queue'}`,
  );
  journal.record('escalated', { to: assigned ? manager : 'unassigned queue', breaches: routing.breaches });
  startAssignment(
    run,
    current,
    {
      ...routing,
      ownerId: assigned ? manager : null,
      reason: `escalated after ${routing.breaches} SLA breaches`,
      ownerManagerId: assigned?.ownerManagerId ?? null,
    },
    false,
  );
}
