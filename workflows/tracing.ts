import { context, trace } from '@opentelemetry/api';
import { extractContextFromHeaders } from '@temporalio/interceptors-opentelemetry/lib/instrumentation';
import {
  OpenTelemetryInboundInterceptor,
  OpenTelemetryInternalsInterceptor,
  OpenTelemetryOutboundInterceptor,
  SpanName,
  SPAN_DELIMITER,
} from '@temporalio/interceptors-opentelemetry/lib/workflow';
import { workflowInfo, type Next, type WorkflowExecuteInput, type WorkflowInboundCallsInterceptor, type WorkflowInterceptorsFactory } from '@temporalio/workflow';

// Bundled with the workflows only when tracing is on (worker/workflow-code.ts `tracingInterceptorModules`,
// docs/operations/observability.md "Traces"): @temporalio/interceptors-opentelemetry's workflow
// interceptors, whose spans leave the sandbox through its `exporter` sink (observability/tracing.ts).

/**
 * The package's inbound interceptor, but for the run's own span. Its `RunWorkflow` span lasts as
 * long as the workflow function, and a lead's runs for weeks: a span is exported when it ends, so
 * the spans of the lead's first task (its activities, their statements) would hang from a parent
 * that no collector ever gets. Here the run's span ends at once, a mark of the start, and stays the
 * parent of what the run does. Its id is the same on every replay (the sandbox's ids come from its
 * seeded random), so a lead replayed by another worker goes on under the same span.
 */
class RunSpanEndedAtStart extends OpenTelemetryInboundInterceptor {
  override async execute(input: WorkflowExecuteInput, next: Next<WorkflowInboundCallsInterceptor, 'execute'>): Promise<unknown> {
    const parent = extractContextFromHeaders(input.headers) ?? context.active();
    const span = this.tracer.startSpan(`${SpanName.WORKFLOW_EXECUTE}${SPAN_DELIMITER}${workflowInfo().workflowType}`, {}, parent);
    span.end();
    return context.with(trace.setSpan(parent, span), () => next(input));
  }
}

export const interceptors: WorkflowInterceptorsFactory = () => ({
  inbound: [new RunSpanEndedAtStart()],
  outbound: [new OpenTelemetryOutboundInterceptor()],
  internals: [new OpenTelemetryInternalsInterceptor()],
});
