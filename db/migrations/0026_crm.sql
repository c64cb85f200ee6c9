-- Up Migration

-- CRM connections (docs/features/crm.md): where routed and converted leads are handed off. The
-- credential (HubSpot's private app token) is needed in the clear to call the CRM, so it is sealed
-- with the payload keys like a source's secrets (capture/secrets.ts): bytea, never returned.
CREATE TABLE crm_connections (
  id          text PRIMARY KEY,
  kind        text NOT NULL CHECK (kind IN ('hubspot', 'salesforce')),
  name        text NOT NULL,
  settings    jsonb NOT NULL DEFAULT '{}',   -- what is not secret: the API base URL
  secret      bytea NOT NULL,                -- sealed credential
  created_at  timestamptz NOT NULL DEFAULT now(),
  created_by  text NOT NULL
);

-- The rep's user in the CRM (HubSpot owner id, Salesforce user id): the owner of what is pushed.
-- Optional: a rep without one leaves the CRM record's owner unset.
ALTER TABLE reps ADD COLUMN crm_user_id text CHECK (crm_user_id ~ '^[A-Za-z0-9]{1,40}$');

-- A push to a CRM is an outbox entry on the 'crm' channel, delivered by the worker's notifier
-- with its retries, backoff and dead-lettering (recipient: the connection id).
ALTER TABLE notifications DROP CONSTRAINT notifications_channel_check;
ALTER TABLE notifications ADD CONSTRAINT notifications_channel_check CHECK (channel IN ('webhook', 'email', 'slack', 'crm'));

-- Down Migration
DELETE FROM notifications WHERE channel = 'crm';
ALTER TABLE notifications DROP CONSTRAINT notifications_channel_check;
ALTER TABLE notifications ADD CONSTRAINT notifications_channel_check CHECK (channel IN ('webhook', 'email', 'slack'));
ALTER TABLE reps DROP COLUMN crm_user_id;
DROP TABLE crm_connections;
