import type { SearchAttributeUpdatePair } from '@temporalio/common';
import { upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import { cadenceLabel } from '../../domain/cadence';
import type { LeadRecord, OutboxNotification, TimelineEvent } from '../../domain/lead-record';
import { searchAttributes } from '../../contracts/search-attributes';

const isoNow = () => new Date().toISOString();

export interface JournalCheckpoint {
  events: TimelineEvent[];
  outbox: OutboxNotification[];
}

/**
 * What a run writes down: timeline events and outbox notifications gathered between saves, and
 * the search attributes ops filter on. Keys are unique per run and stable on replay.
 */
export class Journal {
  private events: TimelineEvent[] = [];
  /** The events of the last save: until a later one replaces them they may still be on their way to Postgres. */
  private lastTaken: TimelineEvent[] = [];
  private outbox: OutboxNotification[] = [];
  private seq = 0;
  private lastPublished = '';

  constructor(private readonly leadId: string) {}

  /** A timeline event caused by this run. */
  record(type: string, data: Record<string, unknown>, at = isoNow(), actor = 'system') {
    this.events.push({ key: `${workflowInfo().runId}:${++this.seq}`, at, type, actor, data });
  }

  /** A timeline event with a key of its own (a capture, an engagement event), so a redelivery writes it once. */
  add(event: TimelineEvent) {
    this.events.push(event);
  }

  /** Queues an alert in the outbox, written with the lead's next save. */
  notify(kind: OutboxNotification['kind'], recipient: string, message: string, data: Record<string, unknown> = {}) {
    this.outbox.push({ key: `${workflowInfo().runId}:${++this.seq}`, kind, recipient, message, data: { leadId: this.leadId, ...data } });
  }

  checkpoint(): JournalCheckpoint {
    return { events: [...this.events], outbox: [...this.outbox] };
  }

  /** Drops what was gathered since the checkpoint. Keys keep counting up, so none is ever reused. */
  restore(checkpoint: JournalCheckpoint) {
    this.lastTaken = [];
    this.events = [...checkpoint.events];
    this.outbox = [...checkpoint.outbox];
  }

  /**
   * Timeline events that may not be in Postgres yet: those of the last save (it may still be under
   * way) and those gathered since. The state query shows them; readers drop those already stored.
   */
  get unsavedEvents(): TimelineEvent[] {
    return [...this.lastTaken, ...this.events];
  }

  get hasPending(): boolean {
    return this.events.length > 0 || this.outbox.length > 0;
  }

  /** Hands over what was gathered since the last save, with the run that saves it. */
  take(): { events: TimelineEvent[]; notifications: OutboxNotification[]; runId: string } {
    const taken = { events: this.events, notifications: this.outbox, runId: workflowInfo().runId };
    this.lastTaken = this.events;
    this.events = [];
    this.outbox = [];
    return taken;
  }

  /** Upserts the search attributes; each upsert is an event and a visibility write, so only when something ops can filter on changed. */
  publish(current: LeadRecord) {
    const routing = current.routing;
    const slaOpen = routing?.dueAt && !routing.respondedAt;
    const attributes = [
      { key: searchAttributes.LeadStatus, value: current.status },
      { key: searchAttributes.LeadSource, value: current.profile.source },
      ...(current.score ? [{ key: searchAttributes.LeadScore, value: current.score.score }] : []),
      ...(routing ? [{ key: searchAttributes.LeadPriority, value: routing.priority }] : []),
      { key: searchAttributes.LeadOwner, value: routing?.ownerId ?? null },
      { key: searchAttributes.SlaDueAt, value: slaOpen ? new Date(routing!.dueAt!) : null },
      { key: searchAttributes.CadenceVersion, value: current.cadence ? cadenceLabel(current.cadence) : null },
    ] as SearchAttributeUpdatePair[];
    const published = JSON.stringify(attributes.map(({ key, value }) => [key.name, value]));
    if (published !== this.lastPublished) {
      upsertSearchAttributes(attributes);
      this.lastPublished = published;
    }
  }
}
