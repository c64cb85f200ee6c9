import { workflowInfo } from '@temporalio/workflow';
import type {
  ActionRequest,
  ActionResult,
  CaptureAnswer,
  CarriedState,
  LeadWorkflowInput,
  RunState,
  SignalWork,
} from '../../contracts/lead';
import type { ActionName } from '../../domain/actions';
import type { CaptureSignal } from '../../domain/capture';
import { durationMs } from '../../domain/duration';
import { closedStatuses, type LeadStatus } from '../../domain/lead';
import type { LeadRecord } from '../../domain/lead-record';
import type { ScoringModelRules } from '../../domain/scoring-model';
import { DataAccess, type Activities } from './data-access';
import { Journal, type JournalCheckpoint } from './journal';

/** The workflow clock: the SDK makes Date deterministic inside workflows. */
export const clock = () => new Date().getTime();
export const now = () => new Date().toISOString();

/** A rep or ops action waiting its turn; its update handler waits for the outcome. */
export interface ActionWork {
  kind: 'action';
  name: ActionName;
  request: ActionRequest<ActionName>;
  resolve(result: ActionResult): void;
  reject(error: unknown): void;
}
export type Work = SignalWork | ActionWork;

const seenIdsKept = 500;

/** What a run restores when an input is quarantined: its state from before that input. */
export interface RunCheckpoint {
  state: string;
  journal: JournalCheckpoint;
}

/**
 * One run of a lead's workflow, shared by the lifecycle modules (intake, assignment, nurture,
 * actions): its state (`state`), its queue of inputs, its journal, and its data access, local while
 * someone waits and ordinary for work that timers start.
 */
export class LeadRun {
  readonly leadId: string;
  readonly journal: Journal;
  readonly queue: Work[];
  state: RunState;
  /** True while the main loop is applying a signal, an action or a timer. */
  busy = false;
  /** Set while applying signals and updates; cleared for work that timers start. */
  someoneWaits: boolean;
  /** Captures answered in the current workflow task: their answers leave with its completion (`flushAnswers`). */
  private answersOwed = 0;
  /** Routing decisions asked for in this run (keys them). Not in the state: a decision rolled back is not taken again. */
  private routings = 0;
  private readonly data: DataAccess;

  constructor(input: LeadWorkflowInput) {
    this.leadId = input.leadId;
    this.journal = new Journal(input.leadId);
    this.queue = [...(input.capture ? [{ kind: 'capture' as const, signal: input.capture }] : []), ...(input.pending ?? [])];
    const { lead, ...carried } = input.carried ?? { seenIds: [], routeRetryDelay: durationMs(input.policy.routing.unassignedRetryFirst) };
    this.state = { policy: input.policy, captures: 0, ...carried };
    // Before the handlers: a capture taken in this run's first task must see the lead carried over.
    this.adopt(lead);
    // A run carried over from the last one starts on its own.
    this.someoneWaits = input.carried === undefined;
    this.data = new DataAccess(input.leadId, input.policy);
  }

  get lead() {
    return this.state.lead;
  }
  set lead(lead: LeadRecord | undefined) {
    this.state.lead = lead;
  }
  get policy() {
    return this.state.policy;
  }

  /**
   * The key of a new routing decision (docs: routing is keyed): this run and the decision's number
   * in it, the same in every attempt of the workflow task that asks for it (unlike the workflow's
   * time), and new for every decision, so re-routing after a breach still picks again.
   */
  routingKey(): string {
    return `${workflowInfo().runId}:${++this.routings}`;
  }

  /** Data access: local while someone waits, ordinary otherwise. */
  io(): Activities {
    return this.data.io(this.someoneWaits);
  }

  enrichLead: Activities['enrichLead'] = (query) => this.data.enrichLead(this.someoneWaits)(query);

  /**
   * What a new run starts from, in its first workflow task: the lead as stored before this run
   * wrote it (so a retried first task applies its capture once) and the newest published model.
   */
  async start() {
    const start = await this.io().loadRunStart({ leadId: this.leadId, runId: workflowInfo().runId });
    if (start.model) this.useModel(start.model);
    this.adopt(start.lead);
  }

  /**
   * Takes a capture into the queue and says what it is, from the run's state alone so that no
   * answer waits for Postgres: a duplicate when the lead is open, or when a capture taken before
   * this one (the one that started the run, say) will open or reopen it.
   */
  takeCapture(signal: CaptureSignal): CaptureAnswer {
    const lead = this.lead;
    const open = lead !== undefined && this.state.reactivatedFrom === undefined && !closedStatuses.includes(lead.status);
    const earlier = this.queue.some((work) => work.kind === 'capture');
    this.queue.push({ kind: 'capture', signal });
    this.answersOwed += 1;
    return open ? { duplicate: true, status: lead.status } : { duplicate: earlier, status: 'new' };
  }

  /**
   * Lets the answers given so far leave before the next data access. The worker holds a workflow
   * task open while local activities run (and, through an outage, retry), and update answers only
   * leave with the task's completion; ending the task first sends them.
   */
  async flushAnswers() {
    if (this.answersOwed > 0) await this.endTask();
  }

  /** Ends a workflow task that holds as many local activities as a task should. */
  async keepTasksShort() {
    if (this.data.taskFull) await this.endTask();
  }

  /** Completes the current workflow task: what it answered leaves, and its local activities are recorded. */
  async endTask() {
    this.answersOwed = 0;
    await this.data.endTask();
  }

  /** Scores from now on by `model` (a published version): carried over continue-as-new in the policy. */
  useModel(model: ScoringModelRules) {
    this.state.policy = { ...this.policy, scoring: model.scoring, qualification: model.qualification, icp: model.icp };
  }

  /** The lead this run starts from (carried over or loaded); a closed one is reopened by the next capture. */
  adopt(start: LeadRecord | null | undefined) {
    if (start && closedStatuses.includes(start.status)) {
      this.state.reactivatedFrom = start.status;
      this.lead = { ...start, status: 'new', statusReason: undefined };
    } else {
      this.lead = start ?? undefined;
    }
  }

  /** A capture or event id seen before is not applied again; the newest are kept. */
  firstSight(id: string): boolean {
    if (this.state.seenIds.includes(id)) return false;
    this.state.seenIds = [...this.state.seenIds, id].slice(-seenIdsKept);
    return true;
  }

  setStatus(current: LeadRecord, status: LeadStatus, reason?: string) {
    this.journal.record('status_changed', { status, previous: current.status, reason: reason ?? null });
    current.status = status;
    current.statusReason = reason;
  }

  /** The run's state before an input, to go back to if that input is quarantined. */
  checkpoint(): RunCheckpoint {
    return { state: JSON.stringify(this.state), journal: this.journal.checkpoint() };
  }

  /** Back to a checkpoint; ids seen since stay seen, so a redelivered bad input is not applied again. */
  restore(checkpoint: RunCheckpoint) {
    this.state = { ...(JSON.parse(checkpoint.state) as RunState), seenIds: this.state.seenIds };
    this.journal.restore(checkpoint.journal);
  }

  /** What continue-as-new hands to the next run. */
  carried(): CarriedState {
    const { policy: _, captures: __, reactivatedFrom: ___, lead, ...carried } = this.state;
    return { ...carried, lead: lead! };
  }
}

/**
 * Writes the lead, the events and alerts gathered since the last save, in one transaction, then
 * publishes its search attributes. Callers keep the cadence in step with the status first
 * (`followStatus` in nurture.ts).
 */
export async function save(run: LeadRun, current: LeadRecord) {
  await run.io().saveLead({ lead: current, ...run.journal.take() });
  run.journal.publish(current);
}
