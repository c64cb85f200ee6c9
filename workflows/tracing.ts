import { context, trace, type Span } from '@opentelemetry/api';
import { extractContextFromHeaders, headersWithContext } from '@temporalio/interceptors-opentelemetry/lib/instrumentation';
import {
  OpenTelemetryInboundInterceptor,
  OpenTelemetryInternalsInterceptor,
  OpenTelemetryOutboundInterceptor,
  SpanName,
  SPAN_DELIMITER,
} from '@temporalio/interceptors-opentelemetry/lib/workflow';
import {
  workflowInfo,
  type ActivityInput,
  type ContinueAsNewInput,
  type LocalActivityInput,
  type Next,
  type QueryInput,
  type SignalInput,
  type SignalWorkflowInput,
  type StartChildWorkflowExecutionInput,
  type UpdateInput,
  type WorkflowExecuteInput,
  type WorkflowInboundCallsInterceptor,
  type WorkflowInterceptorsFactory,
  type WorkflowOutboundCallsInterceptor,
} from '@temporalio/workflow';

// Bundled with the workflows only when tracing is on (worker/workflow-code.ts `interceptorModules`,
// docs/operations/observability.md "Traces"): @temporalio/interceptors-opentelemetry's tracer,
// context manager and sink (its spans leave the sandbox through the `exporter` sink,
// observability/tracing.ts), with interceptors that add no await to the workflow's own.
//
// The package's interceptors wrap each call in async functions (`instrument`), so an activity's
// result, a signal or an update reaches the workflow a few microtasks later than without them. The
// lead workflow's handlers and its main loop race on those (an update's completion against the
// loop's next timer): histories recorded without them fail replay with them (test/replay), so
// turning tracing on or off would be a change of workflow code. Here every interceptor returns the
// promise of `next` itself: the workflow's commands come in the same order with or without them.

/** Ends `span` when `promise` settles, without changing when or how anything else sees it settle. */
function endWhenSettled<T>(span: Span, promise: Promise<T>): Promise<T> {
  promise.then(
    () => span.end(),
    () => span.end(),
  );
  return promise;
}

/**
 * The run's span, `RunWorkflow:leadWorkflow`, child of the client's start. The package's lasts as
 * long as the workflow function, and a lead's runs for weeks: a span is exported when it ends, so
 * the spans of the lead's first task (its activities, their statements) would hang from a parent
 * no collector ever gets. This one ends at once, a mark of the start, and stays the parent of what
 * the run does. Its id is the same on every replay (the sandbox's ids come from its seeded random),
 * so a lead replayed by another worker goes on under the same span. A signal's and an update's
 * handler get a span each, child of the client's call (a repeat capture is one trace too); update
 * validators and queries pass through untraced.
 */
class RunSpan extends OpenTelemetryInboundInterceptor {
  override execute(input: WorkflowExecuteInput, next: Next<WorkflowInboundCallsInterceptor, 'execute'>): Promise<unknown> {
    const parent = extractContextFromHeaders(input.headers) ?? context.active();
    const span = this.tracer.startSpan(`${SpanName.WORKFLOW_EXECUTE}${SPAN_DELIMITER}${workflowInfo().workflowType}`, {}, parent);
    span.end();
    return context.with(trace.setSpan(parent, span), () => next(input));
  }
  /** A span for a handler, child of the client's call: the same promise as `next`'s, no await added. */
  private handled<T>(name: string, headers: WorkflowExecuteInput['headers'], run: () => Promise<T>): Promise<T> {
    const parent = extractContextFromHeaders(headers) ?? context.active();
    const span = this.tracer.startSpan(name, {}, parent);
    return context.with(trace.setSpan(parent, span), () => endWhenSettled(span, run()));
  }
  override handleSignal(input: SignalInput, next: Next<WorkflowInboundCallsInterceptor, 'handleSignal'>): Promise<void> {
    return this.handled(`${SpanName.WORKFLOW_HANDLE_SIGNAL}${SPAN_DELIMITER}${input.signalName}`, input.headers, () => next(input));
  }
  override handleUpdate(input: UpdateInput, next: Next<WorkflowInboundCallsInterceptor, 'handleUpdate'>): Promise<unknown> {
    return this.handled(`${SpanName.WORKFLOW_HANDLE_UPDATE}${SPAN_DELIMITER}${input.name}`, input.headers, () => next(input));
  }
  override validateUpdate(input: UpdateInput, next: Next<WorkflowInboundCallsInterceptor, 'validateUpdate'>): void {
    next(input);
  }
  override handleQuery(input: QueryInput, next: Next<WorkflowInboundCallsInterceptor, 'handleQuery'>): Promise<unknown> {
    return next(input);
  }
}

/**
 * A `StartActivity:<type>` span per activity (local ones too), its context in the activity's
 * header, where the worker's activity interceptor takes it up (observability/tracing.ts). Log lines
 * get the span's ids (the package's `getLogAttributes`); the rest passes through untraced.
 */
class ActivitySpans extends OpenTelemetryOutboundInterceptor {
  private start<T extends ActivityInput | LocalActivityInput>(input: T, next: (input: T) => Promise<unknown>): Promise<unknown> {
    const span = this.tracer.startSpan(`${SpanName.ACTIVITY_START}${SPAN_DELIMITER}${input.activityType}`);
    return context.with(trace.setSpan(context.active(), span), () =>
      endWhenSettled(span, next({ ...input, headers: headersWithContext(input.headers) })),
    );
  }
  override scheduleActivity(input: ActivityInput, next: Next<WorkflowOutboundCallsInterceptor, 'scheduleActivity'>): Promise<unknown> {
    return this.start(input, next);
  }
  override scheduleLocalActivity(
    input: LocalActivityInput,
    next: Next<WorkflowOutboundCallsInterceptor, 'scheduleLocalActivity'>,
  ): Promise<unknown> {
    return this.start(input, next);
  }
  override startChildWorkflowExecution(
    input: StartChildWorkflowExecutionInput,
    next: Next<WorkflowOutboundCallsInterceptor, 'startChildWorkflowExecution'>,
  ): Promise<[Promise<string>, Promise<unknown>]> {
    return next(input);
  }
  override continueAsNew(input: ContinueAsNewInput, next: Next<WorkflowOutboundCallsInterceptor, 'continueAsNew'>): Promise<never> {
    return next(input);
  }
  override signalWorkflow(input: SignalWorkflowInput, next: Next<WorkflowOutboundCallsInterceptor, 'signalWorkflow'>): Promise<void> {
    return next(input);
  }
}

export const interceptors: WorkflowInterceptorsFactory = () => ({
  inbound: [new RunSpan()],
  outbound: [new ActivitySpans()],
  internals: [new OpenTelemetryInternalsInterceptor()],
});
