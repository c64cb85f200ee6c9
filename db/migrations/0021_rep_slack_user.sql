-- Up Migration

-- The rep's Slack member id (U… or W…), where Slack alerts go and which maps a click in Slack back
-- to the rep (docs/features/email-and-notifications.md "Escaping", docs/api.md "Reps"). Optional:
-- a rep without one gets no Slack messages.
ALTER TABLE reps ADD COLUMN slack_user_id text CHECK (slack_user_id ~ '^[UW][A-Z0-9]{2,30}$');

-- Down Migration
ALTER TABLE reps DROP COLUMN slack_user_id;
