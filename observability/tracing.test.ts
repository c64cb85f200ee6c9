import { SpanKind } from '@opentelemetry/api';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { describe, expect, it } from 'vitest';
import { exportedView } from './tracing';

const span = (attributes: ReadableSpan['attributes'], events: ReadableSpan['events'] = []) =>
  ({
    name: 'RunWorkflow:leadWorkflow',
    kind: SpanKind.INTERNAL,
    spanContext: () => ({ traceId: 't', spanId: 's', traceFlags: 1 }),
    attributes,
    events,
    links: [],
  }) as unknown as ReadableSpan;

describe('spans as exported', () => {
  it('keep route patterns and lead ids, and drop every other attribute (an address, a statement, the workflow info the SDK copies on)', () => {
    const view = exportedView(
      span(
        {
          'http.route': '/leads',
          workflowId: 'lead-0123456789abcdef01234567',
          email: 'jane@example.com',
          'db.query.text': "SELECT * FROM leads WHERE email = 'jane@example.com'",
          'url.full': 'http://api/leads/jane@example.com',
          memo: 'jane@example.com',
        },
        [
          {
            name: 'exception',
            time: [0, 0],
            attributes: { 'exception.type': 'Error', 'exception.message': 'boom', 'exception.stacktrace': 'at …' },
          },
        ],
      ),
    );
    expect(view.attributes).toEqual({ 'http.route': '/leads', workflowId: 'lead-0123456789abcdef01234567' });
    expect(view.events[0]!.attributes).toEqual({ 'exception.type': 'Error', 'exception.message': 'boom' });
    expect(view.spanContext().traceId).toBe('t');
  });
});
