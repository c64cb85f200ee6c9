-- Up Migration

-- GET /leads pages newest first on (created_at, lead_id); reps list their own leads.
CREATE INDEX leads_created_idx ON leads (created_at DESC, lead_id DESC);
CREATE INDEX leads_owner_created_idx ON leads (owner_id, created_at DESC, lead_id DESC) WHERE owner_id IS NOT NULL;

-- Down Migration
DROP INDEX leads_owner_created_idx;
DROP INDEX leads_created_idx;
