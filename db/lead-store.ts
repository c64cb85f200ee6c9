import type { CadenceVersion } from '../domain/cadence';
import type { LeadConfig } from '../domain/config';
import type { OutboxNotification, TimelineEvent } from '../domain/lead-record';
import type { RoutingReads } from '../domain/routing-decision';
import type { ScoringModel } from '../domain/scoring-model';
import { configuredModel } from '../domain/scoring-model';
import { cadenceStore } from './cadences';
import type { Sql } from './client';
import { startLead, writeLead, type LeadSave, type StoredLead } from './leads';
import { enqueueNotifications } from './outbox';
import { assignLead, lockLead, lockRep, routingContext, routingReads, type RecordedDecision, type RoutingContext } from './routing';
import type { RoundRobinMove } from '../domain/routing-decision';
import { countRolloutLeads, rolloutLeadsPage, scoringModelStore } from './scoring-models';

/**
 * The reads and writes of one routing transaction (db/routing.ts): what is locked stays locked until
 * it ends, and nothing of it is kept if it fails.
 */
export interface RoutingTransaction {
  /** `writeLead` inside the transaction: the save locks the lead's row. */
  saveLead(save: LeadSave): Promise<TimelineEvent[]>;
  lockLead(leadId: string): Promise<boolean>;
  context(request: { leadId?: string; routingKey?: string; domain: string }): Promise<RoutingContext>;
  /** The teams and reps the decision reads, locked. */
  reads: RoutingReads;
  assignLead(
    leadId: string,
    owner: { ownerId: string | null; teamId: string | null; reason: string },
    also?: { pick?: RoundRobinMove; decision?: RecordedDecision },
  ): Promise<void>;
  lockRep(repId: string): Promise<{ managerId: string | null; teamId: string | null } | undefined>;
}

/**
 * Everything the lead, rollout and cadence activities read and write: the system of record as the
 * workflows see it. Postgres in every process (`leadStore`); the workflow tier's tests run the same
 * activities over one in memory (test/support/memory-store.ts), so the activities' own logic runs there.
 */
export interface LeadStore {
  /** db/leads.ts `writeLead`: answers the events not written before. */
  saveLead(save: LeadSave): Promise<TimelineEvent[]>;
  enqueueNotifications(leadId: string | null, notifications: OutboxNotification[]): Promise<void>;
  /** db/leads.ts `startLead`: the lead as it was before run `runId` first read or made it. */
  leadBefore(leadId: string, runId: string): Promise<StoredLead | undefined>;
  /** The newest published scoring model. */
  currentScoringModel(): Promise<ScoringModel>;
  cadences: {
    current(name: string): Promise<CadenceVersion | undefined>;
    migrationFrom(name: string, version: number): Promise<CadenceVersion | undefined>;
  };
  countRolloutLeads(version: number): Promise<number>;
  rolloutLeadsPage(page: { version: number; after: string | null; limit: number }): Promise<string[]>;
  /** Runs `work` in one transaction. */
  routing<T>(work: (tx: RoutingTransaction) => Promise<T>): Promise<T>;
}

/** The lead store in Postgres: each method is the statement(s) of db/ it names, nothing added. */
export function leadStore(sql: Sql, config: LeadConfig): LeadStore {
  const scoringModels = scoringModelStore(sql, configuredModel(config));
  return {
    saveLead: (save) => writeLead(sql, save),
    enqueueNotifications: (leadId, notifications) => enqueueNotifications(sql, leadId, notifications),
    leadBefore: (leadId, runId) => startLead(sql, leadId, runId),
    currentScoringModel: () => scoringModels.current(),
    cadences: cadenceStore(sql, config.cadences),
    countRolloutLeads: (version) => countRolloutLeads(sql, version),
    rolloutLeadsPage: (page) => rolloutLeadsPage(sql, page),
    routing: (work) =>
      sql.begin((tx) =>
        work({
          saveLead: (save) => writeLead(tx, save),
          lockLead: (leadId) => lockLead(tx, leadId),
          context: (request) => routingContext(tx, request),
          reads: routingReads(tx, { lock: true }),
          assignLead: (leadId, owner, also) => assignLead(tx, leadId, owner, also),
          lockRep: async (repId) => {
            const rep = await lockRep(tx, repId);
            return rep && { managerId: rep.manager_id, teamId: rep.team_id };
          },
        }),
      ) as Promise<Awaited<ReturnType<typeof work>>>,
  };
}
