-- Up Migration

-- The nonces of the rep inbox's sign-in links that were used (domain/inbox.ts, db/inbox.ts): a
-- link signs in once. A row is needed only until its link would have expired anyway, so rows past
-- expires_at are deleted as new ones come in (docs/features/rep-inbox.md).
CREATE TABLE spent_sign_in_links (
  nonce      text PRIMARY KEY,
  expires_at timestamptz NOT NULL
);
CREATE INDEX spent_sign_in_links_expiry_idx ON spent_sign_in_links (expires_at);
-- A rep's recent sign-in emails, read to send at most one a minute (db/inbox.ts enqueueSignInEmail).
CREATE INDEX notifications_sign_in_idx ON notifications (recipient, created_at) WHERE kind = 'inbox_sign_in';

-- Down Migration
DROP INDEX notifications_sign_in_idx;
DROP TABLE spent_sign_in_links;
