-- Up Migration

-- Retention (docs/operations/retention.md): the worker prunes old rows in batches, each batch
-- finding its rows through an index rather than a scan of the whole table.
-- Closed leads by when they last changed: whose timelines are past `retention.timelineAfterClose`.
CREATE INDEX leads_closed_changed_idx ON leads (updated_at) WHERE status IN ('converted', 'disqualified', 'archived');
CREATE INDEX source_deliveries_received_idx ON source_deliveries (received_at);
CREATE INDEX routing_decisions_decided_idx ON routing_decisions (decided_at);

-- Down Migration
DROP INDEX routing_decisions_decided_idx;
DROP INDEX source_deliveries_received_idx;
DROP INDEX leads_closed_changed_idx;
