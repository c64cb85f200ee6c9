-- Up Migration

-- A scoring model rollout (docs/features/scoring-models.md) pages through the open leads by lead id (keyset); closed leads,
-- most of them in time, stay out of the index.
CREATE INDEX leads_open_idx ON leads (lead_id) WHERE status NOT IN ('converted', 'disqualified', 'archived');

-- Down Migration
DROP INDEX leads_open_idx;
