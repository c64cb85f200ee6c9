-- Up Migration

-- The Temporal workflows an erasure deleted besides the lead's own (the Meta lead fetches of the
-- person's form submissions, `meta-lead-<source>-<leadgen id>`: ids without personal data), so
-- `GET /erasures/{leadId}` can say when the engine has deleted every one of them, after the
-- delivery records that named them are gone.
ALTER TABLE erasures ADD COLUMN workflow_ids text[] NOT NULL DEFAULT '{}';

-- Down Migration
ALTER TABLE erasures DROP COLUMN workflow_ids;
