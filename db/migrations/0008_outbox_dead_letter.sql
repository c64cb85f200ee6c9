-- Up Migration

-- Dead letters (docs/features/email-and-notifications.md): a delivery that fails permanently (a 4xx other than 408/429) or keeps
-- failing past `notify.deadAfter` leaves the retry loop as status 'dead' with its reason in
-- `last_error`, instead of being retried every ten minutes forever. Ops list the outbox by status,
-- newest first (GET /notifications), and see when each entry was last tried.
ALTER TABLE notifications ADD COLUMN last_attempt_at timestamptz;
COMMENT ON COLUMN notifications.status IS 'pending | sent | skipped | dead';
-- Keyset pagination newest first, with and without a status filter.
CREATE INDEX notifications_status_created_idx ON notifications (status, created_at DESC, id DESC);
CREATE INDEX notifications_created_idx ON notifications (created_at DESC, id DESC);

-- Down Migration
DROP INDEX notifications_created_idx;
DROP INDEX notifications_status_created_idx;
ALTER TABLE notifications DROP COLUMN last_attempt_at;
