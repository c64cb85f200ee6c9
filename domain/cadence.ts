import type { Consent, ConsentChannel } from './consent';
import { durationMs } from './duration';
import type { LeadStatus } from './lead';

/**
 * Nurture cadences (docs/design.md, "Nurture cadences"): named, versioned, immutable lists of steps.
 * Marketing publishes versions; each lead is pinned to the version it was enrolled on.
 */

/** How a new version treats leads already enrolled on an older one. */
export const cadenceMigrations = ['pinned', 'next_step'] as const;
export type CadenceMigration = (typeof cadenceMigrations)[number];

/** A step's channel is a consent channel: a step is sent only where that channel is `opted_in`. */
export interface CadenceStep {
  /** ISO-8601 duration after the previous step (the first step: after enrolment). */
  after: string;
  channel: ConsentChannel;
  template: string;
}

export interface CadenceVersion {
  name: string;
  version: number;
  steps: CadenceStep[];
  migrate: CadenceMigration;
  publishedAt: string;
}

/** The cadences the lifecycle enrols leads into, by the status marketing owns them in. */
export const cadenceOfStatus: Partial<Record<LeadStatus, string>> = {
  mql: 'mql-nurture',
  not_ready: 'marketing-pool',
};

/** A lead's place in a cadence; the steps of its pinned version travel with it. */
export interface Enrollment {
  name: string;
  version: number;
  steps: CadenceStep[];
  /** Steps reached so far (0 until the first step is due); `steps[step]` is next. */
  step: number;
  enrolledAt: string;
  /** When the last step was reached (or the lead enrolled): the next step counts from here. */
  stepAt: string;
  /** When the next step is due; null once every step is reached. */
  nextStepAt: string | null;
}

const due = (from: string, step: CadenceStep | undefined): string | null =>
  step ? new Date(new Date(from).getTime() + durationMs(step.after)).toISOString() : null;

/** Enrols a lead at `at` into a published version. */
export function enroll(cadence: CadenceVersion, at: string): Enrollment {
  const { name, version, steps } = cadence;
  return { name, version, steps, step: 0, enrolledAt: at, stepAt: at, nextStepAt: due(at, steps[0]) };
}

/**
 * The enrolment after its next step is reached at `at`, on `switchTo` when a newer version published
 * with `migrate: "next_step"` takes over at this boundary: the step sent is the new version's step
 * of the same number, and later steps follow the new version's timing.
 */
export function reachStep(
  enrollment: Enrollment,
  at: string,
  switchTo?: CadenceVersion,
): { step: CadenceStep | undefined; enrollment: Enrollment } {
  const current = switchTo ? { ...enrollment, version: switchTo.version, steps: switchTo.steps } : enrollment;
  const step = current.steps[current.step];
  const reached = current.step + 1;
  return { step, enrollment: { ...current, step: reached, stepAt: at, nextStepAt: step ? due(at, current.steps[reached]) : null } };
}

/** True once every step of the enrolment's version is reached. */
export const exhausted = (enrollment: Enrollment) => enrollment.step >= enrollment.steps.length;

/** The `CadenceVersion` search attribute: `name@version`. */
export const cadenceLabel = (enrollment: Pick<Enrollment, 'name' | 'version'>) => `${enrollment.name}@${enrollment.version}`;

/** Why a step may not be sent to this lead now, or undefined when it may (docs/design.md, "Consent"). */
export function stepBlocked(step: Pick<CadenceStep, 'channel'>, consent: Consent): string | undefined {
  const status = consent[step.channel]?.status ?? 'unknown';
  return status === 'opted_in' ? undefined : `${step.channel} consent is ${status}`;
}
