-- Up Migration

-- Idempotency keys (docs/api.md, "Conventions"): a claim whose process died before answering is taken over after a
-- lease, and keys expire. `claim` identifies who holds the key, so that a process that was taken
-- over cannot store its late answer or free the key of the one that took it over; `claimed_at`
-- starts the lease, `created_at` (kept across take-overs) the expiry.
ALTER TABLE idempotency_keys
  ADD COLUMN claim      uuid,
  ADD COLUMN claimed_at timestamptz NOT NULL DEFAULT now();
-- Expired keys are purged oldest first, a few at each claim.
CREATE INDEX idempotency_keys_created_idx ON idempotency_keys (created_at);

-- Down Migration
DROP INDEX idempotency_keys_created_idx;
ALTER TABLE idempotency_keys DROP COLUMN claimed_at, DROP COLUMN claim;
