-- Up Migration

-- Scoring models as data (docs/features/scoring-models.md): each version holds the `scoring` (without `modelVersion`:
-- the version is the number), `qualification` and `icp` sections of the configuration. Version 1
-- is the configured model, published on first read (db/scoring-models.ts). A score names the version
-- that made it (`leads.score_model_version`), so a published version is never changed or removed.
CREATE TABLE scoring_models (
  version       integer PRIMARY KEY CHECK (version > 0),
  scoring       jsonb NOT NULL,
  qualification jsonb NOT NULL,
  icp           jsonb NOT NULL,
  published_at  timestamptz NOT NULL DEFAULT now(),
  published_by  text NOT NULL             -- "defaults" (configuration) or the API key's role
);

CREATE FUNCTION scoring_models_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'scoring model version % is published and cannot change', OLD.version;
END $$;
CREATE TRIGGER scoring_models_immutable BEFORE UPDATE OR DELETE ON scoring_models
  FOR EACH ROW EXECUTE FUNCTION scoring_models_immutable();
-- A row trigger does not see TRUNCATE.
CREATE TRIGGER scoring_models_no_truncate BEFORE TRUNCATE ON scoring_models
  FOR EACH STATEMENT EXECUTE FUNCTION scoring_models_immutable();

-- The backtest reads the leads captured in a window through leads_created_idx (0005).

-- Down Migration
DROP TABLE scoring_models;
DROP FUNCTION scoring_models_immutable();
