import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from './logger';
import { temporalLogger } from './temporal-logger';

/** The SDK's logger over a JSON logger at `level`, and the lines it wrote. */
function sdkLogger(level: 'info' | 'debug') {
  const lines: Record<string, unknown>[] = [];
  const destination = new Writable({
    write(chunk, _encoding, done) {
      lines.push(JSON.parse(String(chunk)));
      done();
    },
  });
  return { logger: temporalLogger(createLogger({ name: 'worker', level, format: 'json', destination })), lines };
}

describe("the SDK's log lines", () => {
  it('name the lead, and never carry the worker options (the payload keys) or the task token', () => {
    const { logger, lines } = sdkLogger('info');
    logger.info('Activity failed', {
      workflowId: 'lead-1',
      sdkComponent: 'activity',
      options: { dataConverter: { payloadCodecs: ['secret key'] } },
      taskToken: 'opaque',
      attempt: 3,
    });
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ msg: 'Activity failed', leadId: 'lead-1', component: 'activity', attempt: 3 });
    expect(JSON.stringify(lines[0])).not.toMatch(/secret key|opaque|workflowId/);
  });

  it('below the level are dropped without reading their metadata', () => {
    const { logger, lines } = sdkLogger('info');
    let read = 0;
    const meta = {
      get workflowId() {
        read += 1;
        return 'lead-1';
      },
    };
    logger.debug('Activity started', meta);
    logger.trace('Activity started', meta);
    expect(lines).toHaveLength(0);
    expect(read).toBe(0);
    sdkLogger('debug').logger.debug('Activity started', meta);
    expect(read).toBe(1);
  });
});
