import type { LeadStore, RoutingTransaction } from '../../db/lead-store';
import { storedRouting, type LeadSave, type StoredLead } from '../../db/leads';
import type { RecordedDecision, RoutingContext } from '../../db/routing';
import type { CadenceVersion } from '../../domain/cadence';
import type { LeadConfig } from '../../domain/config';
import { closedStatuses } from '../../domain/lead';
import type { LeadRecord, OutboxNotification, TimelineEvent } from '../../domain/lead-record';
import type { Segment } from '../../domain/routing';
import type { RoutingReads, RoutingRep, RoutingTeam } from '../../domain/routing-decision';
import { configuredModel, modelRules, type ScoringModel, type ScoringModelBody, type ScoringModelRules } from '../../domain/scoring-model';
import type { BusinessHours } from '../../domain/sla';
import { alwaysOpen } from './fixtures';

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

export interface StoredEvent extends TimelineEvent {
  leadId: string;
}
export interface StoredNotification extends OutboxNotification {
  leadId: string;
}

/** A lead's row: the record as last saved, and the columns routing writes ahead of the workflow's next save. */
interface LeadRow {
  record: LeadRecord;
  owner: { ownerId: string | null; teamId: string | null; reason: string | null };
  /** The run that made the lead or last read it to start from (`run_id`), and the lead as it was then (`run_start`). */
  runId: string | null;
  runStart?: StoredLead;
  createdAt: string;
  updatedAt: string;
}

/** Everything the store keeps, in one value: a failed transaction puts back a copy taken at its start. */
interface State {
  leads: Map<string, LeadRow>;
  events: StoredEvent[];
  notifications: StoredNotification[];
  teams: RoutingTeam[];
  reps: Map<string, Omit<RoutingRep, 'openLeads'>>;
  decisions: Map<string, RecordedDecision>;
  accounts: Map<string, { name: string; ownerId: string | null }>;
  cadences: Map<string, CadenceVersion[]>;
  scoringModels: ScoringModel[];
}

/** What counts against a rep's capacity (migration 0023: `status IN ('sql', 'accepted')`). */
const openStatuses = new Set(['sql', 'accepted']);
const copy = <T>(value: T): T => structuredClone(value);

/**
 * The lead store (db/lead-store.ts) in memory, for the workflow tier: the real activities run over
 * it, as over Postgres, on the time-skipping server without Postgres or HTTP. It keeps what the
 * statements of db/ keep, on the same keys: the lead's row with the routing columns, timeline
 * events once per (lead, event key), outbox entries once per dedupe key, routing decisions per
 * (lead, routing key), the round-robin clocks and capacity counts, the run a lead started from,
 * cadence and scoring model versions (the configuration's as version 1). Writes are serialised and a
 * routing transaction that throws leaves nothing behind. No CRM is connected and nothing is erased.
 */
export class MemoryLeadStore implements LeadStore {
  private state: State;
  /** Writes one at a time, as row locks would order them. */
  private queue: Promise<unknown> = Promise.resolve();

  constructor(config: LeadConfig) {
    const at = new Date(0).toISOString();
    this.state = {
      leads: new Map(),
      events: [],
      notifications: [],
      teams: [],
      reps: new Map(),
      decisions: new Map(),
      accounts: new Map(),
      cadences: new Map(
        Object.entries(config.cadences).map(([name, steps]) => [
          name,
          [{ name, version: 1, steps: copy(steps), migrate: 'pinned', publishedAt: at }],
        ]),
      ),
      scoringModels: [{ ...configuredModel(config), version: 1, publishedAt: at, publishedBy: 'defaults' }],
    };
  }

  // --- set-up, as ops and marketing do through the API ----------------------------------------

  addTeam(team: MemoryTeam): this {
    this.state.teams.push({
      id: team.id,
      name: team.id,
      countries: team.countries,
      segments: team.segments ?? [],
      businessHours: team.businessHours ?? alwaysOpen,
      managerId: team.managerId ?? null,
      virtualTime: 0,
      assignments: 0,
    });
    return this;
  }

  addRep(rep: MemoryRep): this {
    this.state.reps.set(rep.id, {
      id: rep.id,
      teamId: rep.teamId,
      managerId: rep.managerId ?? null,
      weight: rep.weight ?? 1,
      capacity: rep.capacity ?? 1_000,
      active: rep.active ?? true,
      outOfOfficeUntil: null,
      virtualTime: 0,
      lastAssignment: 0,
    });
    return this;
  }

  /** An account: its domain's leads go to its owner first. */
  addAccount(account: { domain: string; name: string; ownerId: string | null }): this {
    this.state.accounts.set(account.domain, { name: account.name, ownerId: account.ownerId });
    return this;
  }

  /** Publishes the next scoring model version; answers its rules, as a rollout is given them. */
  publishScoringModel(body: ScoringModelBody): ScoringModelRules {
    const version = this.state.scoringModels.length + 1;
    this.state.scoringModels.push({ ...copy(body), version, publishedAt: new Date().toISOString(), publishedBy: 'marketing' });
    return modelRules(copy(body), version);
  }

  // --- reads for assertions ------------------------------------------------------------------

  /** The lead as the workflow last saved it. */
  lead(leadId: string): LeadRecord | undefined {
    const row = this.state.leads.get(leadId);
    return row && copy(row.record);
  }

  timeline(leadId: string, type?: string): StoredEvent[] {
    return this.state.events.filter((e) => e.leadId === leadId && (type === undefined || e.type === type));
  }

  outbox(leadId: string, kind?: OutboxNotification['kind']): StoredNotification[] {
    return this.state.notifications.filter((n) => n.leadId === leadId && (kind === undefined || n.kind === kind));
  }

  // --- the lead store ------------------------------------------------------------------------

  private exclusive<T>(work: () => Promise<T> | T): Promise<T> {
    const run = this.queue.then(work);
    this.queue = run.catch(() => {});
    return run;
  }

  private write({ lead, events, notifications = [], runId }: LeadSave): TimelineEvent[] {
    const now = new Date().toISOString();
    const row = this.state.leads.get(lead.leadId);
    const owner = { ownerId: lead.routing?.ownerId ?? null, teamId: lead.routing?.teamId ?? null, reason: lead.routing?.reason ?? null };
    if (row) Object.assign(row, { record: copy(lead), owner, updatedAt: now });
    else this.state.leads.set(lead.leadId, { record: copy(lead), owner, runId: runId ?? null, createdAt: now, updatedAt: now });
    const written = events.filter((event) => !this.state.events.some((e) => e.leadId === lead.leadId && e.key === event.key));
    this.state.events.push(...written.map((event) => ({ leadId: lead.leadId, ...copy(event) })));
    this.enqueue(lead.leadId, notifications);
    return written;
  }

  private enqueue(leadId: string | null, notifications: OutboxNotification[]): void {
    for (const notification of notifications) {
      if (this.state.notifications.some((n) => n.key === notification.key)) continue;
      this.state.notifications.push({ leadId: leadId ?? '', ...copy(notification) });
    }
  }

  /** The row as db/leads.ts reads it back: no workflow-only fields, fit points not stored. */
  private stored(row: LeadRow): StoredLead {
    const { routing, recycle: _recycle, lastTouchAt: _lastTouchAt, ...lead } = copy(row.record);
    return {
      lead: { ...lead, score: lead.score && { ...lead.score, fitPoints: 0 } },
      routing: { ...storedRouting(routing), ...row.owner },
      createdAt: row.createdAt,
      updatedAt: row.updatedAt,
    };
  }

  private openLeadsOf(repId: string): number {
    let open = 0;
    for (const row of this.state.leads.values()) if (row.owner.ownerId === repId && openStatuses.has(row.record.status)) open += 1;
    return open;
  }

  private rep(repId: string): RoutingRep | undefined {
    const rep = this.state.reps.get(repId);
    return rep && { ...copy(rep), openLeads: this.openLeadsOf(repId) };
  }

  private rolloutLeads(version: number): string[] {
    return [...this.state.leads.values()]
      .filter(({ record }) => !closedStatuses.includes(record.status) && (record.score?.modelVersion ?? 0) < version)
      .map(({ record }) => record.leadId)
      .sort();
  }

  private readonly reads: RoutingReads = {
    team: async (teamId) => {
      const team = this.state.teams.find((t) => t.id === teamId);
      const reps = [...this.state.reps.keys()]
        .filter((id) => team && this.state.reps.get(id)!.teamId === teamId)
        .sort()
        .map((id) => this.rep(id)!);
      return { team: team && copy(team), reps };
    },
    owner: async (repId) => this.rep(repId),
  };

  private readonly transaction: RoutingTransaction = {
    saveLead: async (save) => this.write(save),
    lockLead: async (leadId) => this.state.leads.has(leadId),
    context: async ({ leadId, routingKey, domain }): Promise<RoutingContext> => {
      const taken = leadId !== undefined && routingKey !== undefined ? this.state.decisions.get(`${leadId}\u0000${routingKey}`) : undefined;
      const account = this.state.accounts.get(domain);
      return {
        taken: taken ? copy(taken.assignment) : null,
        account: account
          ? {
              name: account.name,
              owner_id: account.ownerId,
              owner_team_id: account.ownerId ? (this.state.reps.get(account.ownerId)?.teamId ?? null) : null,
            }
          : null,
        teams: this.state.teams.map(({ id, name, countries, segments }) => copy({ id, name, countries, segments })),
      };
    },
    reads: this.reads,
    assignLead: async (leadId, owner, { pick, decision } = {}) => {
      const row = this.state.leads.get(leadId);
      if (row) {
        row.owner = { ...owner };
        row.record.status = 'sql';
      }
      if (pick) {
        Object.assign(this.state.reps.get(pick.repId)!, { virtualTime: pick.repVirtualTime, lastAssignment: pick.assignment });
        Object.assign(
          this.state.teams.find((t) => t.id === pick.teamId)!,
          { virtualTime: pick.teamVirtualTime, assignments: pick.assignment },
        );
      }
      if (decision) this.state.decisions.set(`${leadId}\u0000${decision.routingKey}`, copy(decision));
    },
    lockRep: async (repId) => {
      const rep = this.state.reps.get(repId);
      return rep && { managerId: rep.managerId, teamId: rep.teamId };
    },
  };

  saveLead(save: LeadSave): Promise<TimelineEvent[]> {
    return this.exclusive(() => this.write(save));
  }

  enqueueNotifications(leadId: string | null, notifications: OutboxNotification[]): Promise<void> {
    return this.exclusive(() => this.enqueue(leadId, notifications));
  }

  leadBefore(leadId: string, runId: string): Promise<StoredLead | undefined> {
    return this.exclusive(() => {
      const row = this.state.leads.get(leadId);
      if (!row) return undefined;
      if (row.runId !== runId) Object.assign(row, { runId, runStart: this.stored(row) });
      return row.runStart && copy(row.runStart);
    });
  }

  async currentScoringModel(): Promise<ScoringModel> {
    return copy(this.state.scoringModels.at(-1)!);
  }

  readonly cadences = {
    current: async (name: string) => copy(this.state.cadences.get(name)?.at(-1)),
    migrationFrom: async (name: string, version: number) =>
      copy(
        this.state.cadences
          .get(name)
          ?.filter((c) => c.version > version && c.migrate === 'next_step')
          .at(-1),
      ),
  };

  async countRolloutLeads(version: number): Promise<number> {
    return this.rolloutLeads(version).length;
  }

  async rolloutLeadsPage({ version, after, limit }: { version: number; after: string | null; limit: number }): Promise<string[]> {
    return this.rolloutLeads(version)
      .filter((id) => after === null || id > after)
      .slice(0, limit);
  }

  routing<T>(work: (tx: RoutingTransaction) => Promise<T>): Promise<T> {
    return this.exclusive(async () => {
      const before = copy(this.state);
      try {
        return await work(this.transaction);
      } catch (error) {
        this.state = before;
        throw error;
      }
    });
  }
}
