import type { LeadStore, RoutingTransaction } from '../db/lead-store';
import type { LeadSave } from '../db/leads';
import { routingRequest } from '../db/routing';
import type { LeadConfig } from '../domain/config';
import type { LeadSource } from '../domain/lead';
import { segmentOf } from '../domain/routing';
import { decideRouting } from '../domain/routing-decision';
import { emailDomainOf } from '../domain/scoring';
import type { Assignment } from '../domain/lead-record';
import type { EventsWritten } from './leads';

export interface RouteRequest {
  leadId: string;
  email: string;
  country?: string;
  employees?: number;
  source: LeadSource;
  sla: LeadConfig['sla'];
  /** Reps not to pick (e.g. the owner who just breached the SLA). */
  exclude?: string[];
  /** The workflow's time: availability and business hours are judged at this moment. */
  at: string;
  /**
   * The routing decision this is, the same in every attempt of the workflow task that asks
   * (docs/features/routing.md, "Routing is keyed"): a key seen before gets the assignment taken then. Absent only in
   * calls scheduled by workflow code from before keys, which route as they did.
   */
  routingKey?: string;
}

/** Routing over the lead store, in Postgres in every process (docs/design.md, "Routing"): account owner, then territory and segment, then weighted round robin. */
export function routingActivities(store: LeadStore, eventsWritten: EventsWritten = () => {}) {
  /**
   * The routing decision and the assignment, inside the caller's transaction, once per routing key:
   * another attempt of the same decision (its workflow task ran again after a worker died, or the
   * local activity was retried after its transaction committed) gets the assignment taken the first
   * time, written again over what the attempt saved before it, and the round robin does not move.
   * `leadLocked`: the transaction already holds the lead's row (it has just saved it).
   */
  async function route(tx: RoutingTransaction, request: RouteRequest, { leadLocked = false } = {}): Promise<Assignment> {
    const { leadId, routingKey } = request;
    // No row for the lead (nothing to assign either): nothing to look up or remember under the key.
    const keyed = routingKey !== undefined && (leadLocked || (await tx.lockLead(leadId)));
    const domain = emailDomainOf(request.email);
    const context = await tx.context({ leadId, routingKey: keyed ? routingKey : undefined, domain });
    if (context.taken) {
      const { taken } = context;
      await tx.assignLead(leadId, { ownerId: taken.ownerId, teamId: taken.teamId, reason: taken.reason });
      return taken;
    }
    // What the decision reads it locks, so concurrent routings of one team queue up (db/routing.ts).
    const decision = await decideRouting(
      routingRequest(context, { ...request, segment: segmentOf(request.employees), domain, now: new Date(request.at) }),
      tx.reads,
    );
    const { assignment, move, outcome, path } = decision;
    await tx.assignLead(
      leadId,
      { ownerId: assignment.ownerId, teamId: assignment.teamId, reason: assignment.reason },
      { pick: move, decision: keyed ? { routingKey, assignment, outcome, path } : undefined },
    );
    return assignment;
  }

  return {
    /** Chooses the owner and takes the assignment in one transaction; the SLA terms come with it. */
    async routeLead(request: RouteRequest): Promise<Assignment> {
      return store.routing((tx) => route(tx, request));
    },

    /**
     * Saves a lead that just became sales-ready and routes it, in one transaction (one round trip
     * fewer at capture). The save locks the lead's row (its upsert does), as routing would.
     */
    async saveAndRouteLead({ save, route: request }: { save: LeadSave; route: RouteRequest }): Promise<Assignment> {
      const { written, assignment } = await store.routing(async (tx) => {
        const written = await tx.saveLead(save);
        return { written, assignment: await route(tx, request, { leadLocked: true }) };
      });
      eventsWritten(written);
      return assignment;
    },

    /** Gives the lead to a named rep (ops reassignment, escalation to the team manager), whatever the rep's load. */
    async assignTo({
      leadId,
      repId,
      reason,
    }: {
      leadId: string;
      repId: string;
      reason: string;
    }): Promise<{ ownerManagerId: string | null; teamId: string | null } | null> {
      return store.routing(async (tx) => {
        const rep = await tx.lockRep(repId);
        if (!rep) return null;
        await tx.assignLead(leadId, { ownerId: repId, teamId: rep.teamId, reason });
        return { ownerManagerId: rep.managerId, teamId: rep.teamId };
      });
    },
  };
}
