-- Up Migration

-- Enrichment, consent, engagement and the explainable score (issue: lead pipeline).
ALTER TABLE leads
  ADD COLUMN tech_stack          text[] NOT NULL DEFAULT '{}',
  ADD COLUMN funding_stage       text,
  ADD COLUMN enrichment          text NOT NULL DEFAULT 'pending',   -- pending | enriched | not_found | failed
  ADD COLUMN engagement          jsonb NOT NULL DEFAULT '{}'::jsonb, -- activity types seen, emails opened, last engagement
  ADD COLUMN score               integer,
  ADD COLUMN grade               text,
  ADD COLUMN score_breakdown     jsonb NOT NULL DEFAULT '[]'::jsonb,
  ADD COLUMN score_model_version integer;
CREATE INDEX leads_score_idx ON leads (score DESC) WHERE score IS NOT NULL;

-- Idempotency-Key on POST: the same key and body return the first answer and change nothing.
CREATE TABLE idempotency_keys (
  scope        text NOT NULL,          -- hash of the API key, so two clients never share a key space
  key          text NOT NULL,
  request_hash text NOT NULL,          -- method, path and body
  status       integer,                -- NULL while the first request is still being answered
  response     jsonb,
  created_at   timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (scope, key)
);

-- Down Migration
DROP TABLE idempotency_keys;
DROP INDEX leads_score_idx;
ALTER TABLE leads
  DROP COLUMN tech_stack, DROP COLUMN funding_stage, DROP COLUMN enrichment, DROP COLUMN engagement,
  DROP COLUMN score, DROP COLUMN grade, DROP COLUMN score_breakdown, DROP COLUMN score_model_version;
