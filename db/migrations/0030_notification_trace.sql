-- Up Migration

-- The trace an outbox entry was queued in (docs/operations/observability.md "Traces"): the W3C
-- `traceparent` of the span that saved it (the routing activity's, the request's), so that its
-- delivery by the notifier, later and in another loop, continues the capture's trace to the rep's
-- alert. Null when tracing is off. An id of spans, never personal data.
ALTER TABLE notifications ADD COLUMN trace_parent text;

-- Down Migration
ALTER TABLE notifications DROP COLUMN trace_parent;
