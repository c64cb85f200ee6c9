import { describe, expect, it } from 'vitest';
import { cadenceLabel, enroll, exhausted, reachStep, stepBlocked, type CadenceVersion } from './cadence';

const v1: CadenceVersion = {
  name: 'mql-nurture',
  version: 1,
  migrate: 'pinned',
  publishedAt: '2026-01-01T00:00:00.000Z',
  steps: [
    { after: 'P3D', channel: 'email', template: 'a' },
    { after: 'P7D', channel: 'email', template: 'b' },
    { after: 'P14D', channel: 'phone', template: 'c' },
  ],
};
const v2: CadenceVersion = {
  ...v1,
  version: 2,
  migrate: 'next_step',
  steps: [
    { after: 'P1D', channel: 'email', template: 'x' },
    { after: 'P1D', channel: 'email', template: 'y' },
  ],
};

describe('cadence schedule', () => {
  it('enrols before the first step, due its `after` from enrolment', () => {
    expect(enroll(v1, '2026-03-01T09:00:00.000Z')).toMatchObject({
      name: 'mql-nurture',
      version: 1,
      step: 0,
      nextStepAt: '2026-03-04T09:00:00.000Z',
    });
  });

  it('times each step from when the previous one was due, and ends after the last', () => {
    let enrollment = enroll(v1, '2026-03-01T09:00:00.000Z');
    const sent: string[] = [];
    while (!exhausted(enrollment)) {
      const reached = reachStep(enrollment, enrollment.nextStepAt!);
      sent.push(`${reached.step!.template}@${enrollment.nextStepAt}`);
      enrollment = reached.enrollment;
    }
    expect(sent).toEqual(['a@2026-03-04T09:00:00.000Z', 'b@2026-03-11T09:00:00.000Z', 'c@2026-03-25T09:00:00.000Z']);
    expect(enrollment).toMatchObject({ step: 3, nextStepAt: null });
  });

  it('switches to a next_step version at the boundary: its step of the same number, then its timing', () => {
    const first = reachStep(enroll(v1, '2026-03-01T00:00:00.000Z'), '2026-03-04T00:00:00.000Z').enrollment;
    const { step, enrollment } = reachStep(first, first.nextStepAt!, v2);
    expect(step?.template).toBe('y');
    expect(enrollment).toMatchObject({ version: 2, step: 2, nextStepAt: null });
    expect(exhausted(enrollment)).toBe(true);
    expect(cadenceLabel(enrollment)).toBe('mql-nurture@2');
  });

  it('sends nothing once a migration leaves no step of that number', () => {
    const two = [0, 1].reduce((e) => reachStep(e, e.nextStepAt!).enrollment, enroll(v1, '2026-03-01T00:00:00.000Z'));
    const { step, enrollment } = reachStep(two, two.nextStepAt!, v2);
    expect(step).toBeUndefined();
    expect(exhausted(enrollment)).toBe(true);
  });

  it('blocks a step unless the lead opted in on its channel', () => {
    const at = '2026-03-01T00:00:00.000Z';
    expect(stepBlocked({ channel: 'email' }, { email: { status: 'opted_in', at, source: 'form' } })).toBeUndefined();
    expect(stepBlocked({ channel: 'email' }, { email: { status: 'opted_out', at, source: 'activity:unsubscribed' } })).toBe(
      'email consent is opted_out',
    );
    expect(stepBlocked({ channel: 'phone' }, { email: { status: 'opted_in', at, source: 'form' } })).toBe('phone consent is unknown');
  });
});
