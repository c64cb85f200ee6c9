import type { createActivities } from '../../activities';
import type { EnrichmentResult } from '../../activities/enrichment';
import type { EnrichmentQuery } from '../../activities/enrichment/provider';
import type { LeadSave } from '../../db/leads';
import type { RouteRequest } from '../../activities/routing';
import type { CadenceMigration, CadenceStep, CadenceVersion } from '../../domain/cadence';
import type { LeadConfig } from '../../domain/config';
import { closedStatuses } from '../../domain/lead';
import { modelRules, type ScoringModelBody, type ScoringModelRules } from '../../domain/scoring-model';
import type { Assignment, LeadRecord, OutboxNotification, TimelineEvent } from '../../domain/lead-record';
import type { Firmographics } from '../../domain/profile';
import { matchTeam, pickRep, segmentOf, skipText, unavailability, type Segment } from '../../domain/routing';
import { slaTerms, withinBusinessHours, type BusinessHours } from '../../domain/sla';

/** The activity interface the lead workflow proxies: the in-memory one must match it exactly. */
/** The activities the lead and rollout workflows call (a backtest job reads Postgres: test/api/backtest-jobs.test.ts). */
export type LeadActivities = Omit<ReturnType<typeof createActivities>, 'countBacktestLeads' | 'backtestPage'>;

export interface MemoryTeam {
  id: string;
  /** Empty: any country. */
  countries: string[];
  /** Empty: any segment. */
  segments?: Segment[];
  managerId?: string | null;
  /** Default: always open. */
  businessHours?: BusinessHours;
}

export interface MemoryRep {
  id: string;
  teamId: string | null;
  managerId?: string | null;
  weight?: number;
  capacity?: number;
  active?: boolean;
}

/** A routing answer scripted by a test instead of the roster: the lead's owner or the unassigned queue, and why. */
export type ScriptedRouting = (request: RouteRequest) => Pick<Assignment, 'ownerId' | 'teamId' | 'reason'> & Partial<Assignment>;

export interface StoredEvent extends TimelineEvent {
  leadId: string;
}
export interface StoredNotification extends OutboxNotification {
  leadId: string;
}

const alwaysOpen: BusinessHours = { timeZone: 'UTC', days: [1, 2, 3, 4, 5, 6, 7], start: '00:00', end: '24:00' };
/** What counts against a rep's capacity, as in the real routing (`status IN ('sql', 'accepted')`). */
const openStatuses = new Set(['sql', 'accepted']);
const copy = <T>(value: T): T => structuredClone(value);

/**
 * The lead service's system of record in memory, with the lead workflow's activities over it
 * (`activities`), for workflow tests on the time-skipping server without Postgres or HTTP.
 * Writes are idempotent on the same keys as in Postgres: timeline events on (lead id, event key),
 * outbox notifications on their dedupe key. Routing uses the pure rules of `domain/routing.ts` and
 * `domain/sla.ts` over an in-memory roster (or a scripted answer); cadences start from the
 * configuration's defaults as version 1.
 */
export class InMemoryLeadStore {
  readonly leads = new Map<string, LeadRecord>();
  /** Owners as routing wrote them (the real routing updates the lead's row before the workflow saves it). */
  private readonly owners = new Map<string, string | null>();
  private readonly eventKeys = new Set<string>();
  readonly events: StoredEvent[] = [];
  private readonly notificationKeys = new Set<string>();
  readonly notifications: StoredNotification[] = [];
  readonly teams: (MemoryTeam & { virtualTime: number; assignments: number })[] = [];
  readonly reps = new Map<string, MemoryRep & { virtualTime: number; lastAssignment: number }>();
  private readonly cadences = new Map<string, CadenceVersion[]>();
  /** Every routing request, in order, for tests that check what the workflow asked. */
  readonly routeRequests: RouteRequest[] = [];
  /** Answers `routeLead` instead of the roster when set. */
  routing?: ScriptedRouting;
  /** Published scoring model versions after version 1 (the configuration's), oldest first. */
  readonly scoringModels: ScoringModelRules[] = [];
  /** Firmographics by email domain; an unknown domain is `not_found`. */
  firmographics: Record<string, Firmographics> = {};

  constructor(config: LeadConfig) {
    for (const [name, steps] of Object.entries(config.cadences)) this.publish(name, steps, 'pinned', new Date(0).toISOString());
  }

  // --- set-up --------------------------------------------------------------------------------

  addTeam(team: MemoryTeam): this {
    this.teams.push({ ...team, virtualTime: 0, assignments: 0 });
    return this;
  }

  addRep(rep: MemoryRep): this {
    this.reps.set(rep.id, { ...rep, virtualTime: 0, lastAssignment: 0 });
    return this;
  }

  /** Publishes the next version of a cadence, as marketing does through the API. */
  publish(name: string, steps: CadenceStep[], migrate: CadenceMigration, at = new Date().toISOString()): CadenceVersion {
    const versions = this.cadences.get(name) ?? [];
    const version: CadenceVersion = { name, version: versions.length + 1, steps: copy(steps), migrate, publishedAt: at };
    this.cadences.set(name, [...versions, version]);
    return version;
  }

  /** Publishes the next scoring model version, as marketing does through the API. */
  publishScoringModel(body: ScoringModelBody): ScoringModelRules {
    const model = modelRules(copy(body), this.scoringModels.length + 2);
    this.scoringModels.push(model);
    return model;
  }

  /** Open leads scored by an older version than `version`, by id (what a rollout pages through). */
  private rolloutLeads(version: number): string[] {
    return [...this.leads.values()]
      .filter((lead) => !closedStatuses.includes(lead.status) && (lead.score?.modelVersion ?? 0) < version)
      .map((lead) => lead.leadId)
      .sort();
  }

  // --- reads for assertions ------------------------------------------------------------------

  lead(leadId: string): LeadRecord | undefined {
    return this.leads.get(leadId);
  }

  timeline(leadId: string, type?: string): StoredEvent[] {
    return this.events.filter((e) => e.leadId === leadId && (type === undefined || e.type === type));
  }

  outbox(leadId: string, kind?: OutboxNotification['kind']): StoredNotification[] {
    return this.notifications.filter((n) => n.leadId === leadId && (kind === undefined || n.kind === kind));
  }

  // --- the activities ------------------------------------------------------------------------

  private write({ lead, events, notifications = [] }: LeadSave): void {
    this.leads.set(lead.leadId, copy(lead));
    this.owners.set(lead.leadId, lead.routing?.ownerId ?? null);
    for (const event of events) {
      const key = `${lead.leadId}\u0000${event.key}`;
      if (this.eventKeys.has(key)) continue;
      this.eventKeys.add(key);
      this.events.push({ leadId: lead.leadId, ...copy(event) });
    }
    this.enqueue(lead.leadId, notifications);
  }

  private enqueue(leadId: string, notifications: OutboxNotification[]): void {
    for (const notification of notifications) {
      if (this.notificationKeys.has(notification.key)) continue;
      this.notificationKeys.add(notification.key);
      this.notifications.push({ leadId, ...copy(notification) });
    }
  }

  private openLeadsOf(repId: string): number {
    let open = 0;
    for (const [leadId, ownerId] of this.owners) {
      if (ownerId === repId && openStatuses.has(this.leads.get(leadId)?.status ?? 'sql')) open += 1;
    }
    return open;
  }

  private eligibility(rep: MemoryRep, exclude: string[], now: Date): string | undefined {
    if (exclude.includes(rep.id)) return 'just breached the SLA';
    const why = unavailability(
      { active: rep.active ?? true, outOfOfficeUntil: null, openLeads: this.openLeadsOf(rep.id), capacity: rep.capacity ?? 1_000 },
      now,
    );
    return why && skipText(why);
  }

  /** Territory and segment, then weighted round robin (no account owners: a scripted answer covers those). */
  private route(request: RouteRequest): Assignment {
    this.routeRequests.push(copy(request));
    const now = new Date(request.at);
    const segment = segmentOf(request.employees);
    let answer: Pick<Assignment, 'ownerId' | 'teamId' | 'reason'> & Partial<Assignment>;
    let team: (typeof this.teams)[number] | undefined;
    if (this.routing) {
      answer = this.routing(request);
      team = this.teams.find((t) => t.id === answer.teamId);
    } else {
      team = matchTeam(
        this.teams.map((t) => ({ ...t, segments: t.segments ?? [] })),
        request.country,
        segment,
      );
      team = team && this.teams.find((t) => t.id === team!.id);
      if (!team) {
        answer = { ownerId: null, teamId: null, reason: `no team covers ${request.country ?? 'an unknown country'}, ${segment}` };
      } else {
        const members = [...this.reps.values()].filter((r) => r.teamId === team!.id).sort((a, b) => a.id.localeCompare(b.id));
        const skipped: string[] = [];
        const eligible = members.filter((rep) => {
          const why = this.eligibility(rep, request.exclude ?? [], now);
          if (why) skipped.push(`${rep.id} ${why}`);
          return !why;
        });
        const pick = pickRep(
          eligible.map((r) => ({ id: r.id, weight: r.weight ?? 1, virtualTime: r.virtualTime, lastAssignment: r.lastAssignment })),
          team.virtualTime,
        );
        const notes = skipped.length ? ` (skipped ${skipped.join(', ')})` : '';
        if (pick) {
          team.assignments += 1;
          team.virtualTime = pick.teamVirtualTime;
          Object.assign(this.reps.get(pick.repId)!, { virtualTime: pick.repVirtualTime, lastAssignment: team.assignments });
          answer = { ownerId: pick.repId, teamId: team.id, reason: `territory: team ${team.id}; weighted round robin → ${pick.repId}${notes}` };
        } else {
          answer = { ownerId: null, teamId: team.id, reason: `territory: team ${team.id}; nobody eligible${notes}: unassigned queue` };
        }
      }
    }
    const terms = slaTerms(request.source, segment, withinBusinessHours(team?.businessHours ?? alwaysOpen, now), request.sla);
    this.owners.set(request.leadId, answer.ownerId);
    return {
      priority: terms.priority,
      sla: terms.sla,
      slaReason: terms.reason,
      ownerManagerId: answer.ownerId ? (this.reps.get(answer.ownerId)?.managerId ?? null) : null,
      teamManagerId: team?.managerId ?? null,
      ...answer,
    };
  }

  private cadence(name: string) {
    return this.cadences.get(name) ?? [];
  }

  /** The lead workflow's activities over this store. `satisfies` keeps them in step with `createActivities`. */
  readonly activities = {
    saveLead: async (save: LeadSave): Promise<void> => {
      this.write(save);
    },
    queueAlert: async ({ leadId, notification }: { leadId: string; notification: OutboxNotification }): Promise<void> => {
      this.enqueue(leadId, [notification]);
    },
    enrichLead: async ({ domain }: EnrichmentQuery): Promise<EnrichmentResult> => ({
      provider: 'in-memory',
      firmographics: this.firmographics[domain] ?? null,
    }),
    routeLead: async (request: RouteRequest): Promise<Assignment> => this.route(request),
    saveAndRouteLead: async ({ save, route }: { save: LeadSave; route: RouteRequest }): Promise<Assignment> => {
      this.write(save);
      return this.route(route);
    },
    assignTo: async ({ leadId, repId }: { leadId: string; repId: string; reason: string }) => {
      const rep = this.reps.get(repId);
      if (!rep) return null;
      this.owners.set(leadId, repId);
      return { ownerManagerId: rep.managerId ?? null, teamId: rep.teamId };
    },
    currentCadence: async (name: string): Promise<CadenceVersion> => {
      const current = this.cadence(name).at(-1);
      if (!current) throw new Error(`cadence ${name} has no published version and no default in the configuration`);
      return copy(current);
    },
    cadenceMigration: async ({ name, version }: { name: string; version: number }): Promise<CadenceVersion | null> => {
      const newer = this.cadence(name)
        .filter((c) => c.version > version && c.migrate === 'next_step')
        .at(-1);
      return newer ? copy(newer) : null;
    },
    noop: async () => {},
    loadRunStart: async ({ leadId }: { leadId: string; runId: string }) => {
      const lead = this.leads.get(leadId);
      const model = this.scoringModels.at(-1);
      return { lead: lead ? copy(lead) : null, model: model ? copy(model) : null };
    },
    countRolloutLeads: async ({ version }: { version: number }) => this.rolloutLeads(version).length,
    rolloutLeadsPage: async ({ version, after, limit }: { version: number; after: string | null; limit: number }) =>
      this.rolloutLeads(version)
        .filter((id) => after === null || id > after)
        .slice(0, limit),
  } satisfies LeadActivities;
}
