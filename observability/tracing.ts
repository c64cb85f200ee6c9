import { trace, type Attributes, type Tracer } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { Resource } from '@opentelemetry/resources';
import { BatchSpanProcessor, type ReadableSpan, type Span, type SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import {
  ATTR_DB_COLLECTION_NAME,
  ATTR_DB_NAMESPACE,
  ATTR_DB_OPERATION_NAME,
  ATTR_DB_SYSTEM_NAME,
  ATTR_ERROR_TYPE,
  ATTR_EXCEPTION_MESSAGE,
  ATTR_EXCEPTION_TYPE,
  ATTR_HTTP_REQUEST_METHOD,
  ATTR_HTTP_RESPONSE_STATUS_CODE,
  ATTR_HTTP_ROUTE,
  ATTR_SERVICE_NAME,
} from '@opentelemetry/semantic-conventions';
import {
  makeWorkflowExporter,
  OpenTelemetryActivityInboundInterceptor,
  OpenTelemetryActivityOutboundInterceptor,
  OpenTelemetryWorkflowClientInterceptor,
} from '@temporalio/interceptors-opentelemetry';
import type { ActivityInterceptorsFactory, InjectedSinks } from '@temporalio/worker';

/** A lead's id on a span of ours that names one (the API's request span, a statement's span has none). */
export const ATTR_LEAD_ID = 'lead.id';
/** An outbox entry's delivery (worker/notifier.ts): its kind (`assignment`, `sla_reminder`…) and channel, and what the attempt came to (`sent`, `retrying`…). */
export const ATTR_NOTIFY_KIND = 'notify.kind';
export const ATTR_NOTIFY_CHANNEL = 'notify.channel';
export const ATTR_NOTIFY_OUTCOME = 'notify.outcome';

/**
 * The only attributes exported; any other is dropped at export (docs/operations/observability.md
 * "Traces"). An attribute is personal data unless shown otherwise: the SDK's workflow exporter copies
 * the whole workflow info (memo, search attributes) onto every workflow span, and a library may add
 * a URL or a statement's text. A lead's id and its workflow's are the service's pseudonymous ids.
 */
const exportedAttributes: ReadonlySet<string> = new Set([
  ATTR_HTTP_REQUEST_METHOD,
  ATTR_HTTP_ROUTE,
  ATTR_HTTP_RESPONSE_STATUS_CODE,
  ATTR_ERROR_TYPE,
  ATTR_DB_SYSTEM_NAME,
  ATTR_DB_NAMESPACE,
  ATTR_DB_OPERATION_NAME,
  ATTR_DB_COLLECTION_NAME,
  ATTR_LEAD_ID,
  ATTR_NOTIFY_KIND,
  ATTR_NOTIFY_CHANNEL,
  ATTR_NOTIFY_OUTCOME,
  // @temporalio/interceptors-opentelemetry's own (lib/instrumentation.js) and the workflow info's.
  'temporalWorkflowId',
  'temporalActivityId',
  'temporalUpdateId',
  'run_id',
  'workflowId',
  'runId',
  'workflowType',
  'taskQueue',
  'namespace',
  'attempt',
]);
/** Of an exception event (a failed span): its class and message, as the JSON logs have them (observability/logger.ts `errorFields`). */
const exportedEventAttributes: ReadonlySet<string> = new Set([ATTR_EXCEPTION_TYPE, ATTR_EXCEPTION_MESSAGE]);

function kept(attributes: Attributes | undefined, allowed: ReadonlySet<string>): Attributes {
  const out: Attributes = {};
  for (const [key, value] of Object.entries(attributes ?? {})) if (allowed.has(key)) out[key] = value;
  return out;
}

/** A span as exported: the allowed attributes only (`exportedAttributes`). */
export function exportedView(span: ReadableSpan): ReadableSpan {
  return {
    name: span.name,
    kind: span.kind,
    spanContext: () => span.spanContext(),
    parentSpanId: span.parentSpanId,
    startTime: span.startTime,
    endTime: span.endTime,
    status: span.status,
    attributes: kept(span.attributes, exportedAttributes),
    links: span.links.map((link) => ({ context: link.context })),
    events: span.events.map((event) => ({ ...event, attributes: kept(event.attributes, exportedEventAttributes) })),
    duration: span.duration,
    ended: span.ended,
    resource: span.resource,
    instrumentationLibrary: span.instrumentationLibrary,
    droppedAttributesCount: span.droppedAttributesCount,
    droppedEventsCount: span.droppedEventsCount,
    droppedLinksCount: span.droppedLinksCount,
  };
}

/** Hands spans on with only the allowed attributes, whichever tracer (the process's or the workflow sandbox's) made them. */
class AllowedAttributesOnly implements SpanProcessor {
  constructor(private readonly next: SpanProcessor) {}
  onStart(span: Span, parent: Parameters<SpanProcessor['onStart']>[1]): void {
    this.next.onStart(span, parent);
  }
  onEnd(span: ReadableSpan): void {
    this.next.onEnd(exportedView(span));
  }
  forceFlush(): Promise<void> {
    return this.next.forceFlush();
  }
  shutdown(): Promise<void> {
    return this.next.shutdown();
  }
}

export interface TracingOptions {
  /** `OTEL_EXPORTER_OTLP_ENDPOINT`: the collector's OTLP/HTTP base URL; spans go to `<endpoint>/v1/traces`. */
  endpoint: string;
  /** `service.name` of every span: `OTEL_SERVICE_NAME`, else `lead-orchestration-<process>`. */
  serviceName: string;
}

/** What a process wires into Temporal and its logger once tracing is on. */
export interface Tracing {
  tracer: Tracer;
  /** The Temporal client's (`new Client({ interceptors })`): a start, update or signal carries the caller's span in its header. */
  clientInterceptors: { workflow: OpenTelemetryWorkflowClientInterceptor[] };
  /** The worker's activity interceptors: a span per activity (local ones too), child of the workflow's span that scheduled it. */
  activityInterceptors: ActivityInterceptorsFactory[];
  /** The sink through which the workflow sandbox's spans leave it (workflows/tracing.ts). */
  workflowSinks: InjectedSinks<Record<string, never>>;
  /** Flushes the spans not yet sent; call before the process exits. */
  shutdown(): Promise<void>;
}

/**
 * Installs tracing for the process (docs/operations/observability.md "Traces"): the global tracer
 * provider with its async-context manager, spans batched to the collector over OTLP/HTTP (JSON).
 * Called only when `OTEL_EXPORTER_OTLP_ENDPOINT` is set: otherwise nothing is installed, and the API
 * and the worker run without any tracing code on their paths (no-op API calls included).
 */
export function startTracing({ endpoint, serviceName }: TracingOptions): Tracing {
  const resource = new Resource({ [ATTR_SERVICE_NAME]: serviceName });
  const exporter = new OTLPTraceExporter({ url: new URL('v1/traces', endpoint.endsWith('/') ? endpoint : `${endpoint}/`).toString() });
  const processor = new AllowedAttributesOnly(new BatchSpanProcessor(exporter));
  const provider = new NodeTracerProvider({ resource, spanProcessors: [processor] });
  provider.register();
  const tracer = trace.getTracer('lead-orchestration');
  return {
    tracer,
    clientInterceptors: { workflow: [new OpenTelemetryWorkflowClientInterceptor()] },
    activityInterceptors: [
      (ctx) => ({ inbound: new OpenTelemetryActivityInboundInterceptor(ctx), outbound: new OpenTelemetryActivityOutboundInterceptor(ctx) }),
    ],
    // The sandbox's spans are handed to the same processor: the same attribute rule, the same batches.
    workflowSinks: { exporter: makeWorkflowExporter(processor, resource) } as unknown as InjectedSinks<Record<string, never>>,
    async shutdown() {
      await provider.shutdown();
    },
  };
}
