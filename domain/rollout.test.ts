import { describe, expect, it } from 'vitest';
import {
  counted,
  finish,
  pagingDone,
  pauseAfterBatch,
  rolloutIdOf,
  rolloutIdPattern,
  startProgress,
  tallyReport,
  tallySignaled,
} from './rollout';

const start = () =>
  counted(startProgress({ id: rolloutIdOf(2), version: 2, leadsPerSecond: 50, startedAt: '2026-11-25T00:00:00.000Z', total: 0 }), 5);

describe('rollout progress', () => {
  it('counts down from the open leads at the start: unsignaled plus unanswered', () => {
    let progress = start();
    expect(progress).toMatchObject({ total: 5, remaining: 5, done: 0 });
    progress = tallySignaled(progress, 3, 1);
    // 2 never signaled, 2 signaled and not answered; the unreachable one is skipped and done.
    expect(progress).toMatchObject({ signaled: 3, skipped: 1, done: 1, remaining: 4 });
    progress = tallyReport(progress, { leadId: 'a', outcome: 'rescored', from: 'mql', to: 'sql', salesReady: true });
    progress = tallyReport(progress, { leadId: 'b', outcome: 'rescored', from: 'mql', to: 'mql' });
    expect(progress).toMatchObject({ rescored: 2, done: 3, remaining: 2, bandChanges: 1, salesReady: 1 });
    expect(progress.transitions.mql).toEqual({ not_ready: 0, mql: 1, sql: 1 });
    // Paging ends with fewer leads than counted (some closed meanwhile): only the unanswered remain.
    progress = pagingDone(tallySignaled(progress, 1, 0));
    expect(progress).toMatchObject({ signaled: 4, remaining: 1 });
    progress = tallyReport(progress, { leadId: 'c', outcome: 'current' });
    expect(finish(progress, 'completed', '2026-11-25T00:01:00.000Z')).toMatchObject({
      status: 'completed',
      current: 1,
      done: 4,
      remaining: 0,
      finishedAt: '2026-11-25T00:01:00.000Z',
    });
  });

  it('a lead never scored before counts as re-scored without a band transition', () => {
    const progress = tallyReport(tallySignaled(start(), 1, 0), { leadId: 'a', outcome: 'rescored', from: null, to: 'mql' });
    expect(progress).toMatchObject({ rescored: 1, bandChanges: 0 });
  });

  it('paces batches to the rate and names rollouts by version', () => {
    expect(pauseAfterBatch(50, 50)).toBe(1000);
    expect(pauseAfterBatch(10, 40)).toBe(250);
    expect(pauseAfterBatch(7, 3)).toBe(2334);
    expect(rolloutIdOf(12)).toBe('scoring-rollout-12');
    expect(rolloutIdPattern.test('scoring-rollout-12')).toBe(true);
    expect(rolloutIdPattern.test('lead-0868a77d2dac35b8be92d5b2')).toBe(false);
    expect(rolloutIdPattern.test('scoring-rollout-0')).toBe(false);
  });
});
