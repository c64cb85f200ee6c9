-- Up Migration

-- Slack as a third delivery channel of rep alerts (docs/features/email-and-notifications.md
-- "Slack"): a rep with a Slack member id gets each alert as a direct message from the Slack app.
-- The message's conversation and timestamp are kept once it is posted, so that a click on one of
-- its buttons can update it (and every other message about the same lead to the same rep) in place.
ALTER TABLE notifications DROP CONSTRAINT notifications_channel_check;
ALTER TABLE notifications ADD CONSTRAINT notifications_channel_check CHECK (channel IN ('webhook', 'email', 'slack'));
ALTER TABLE notifications ADD COLUMN slack_channel text;
ALTER TABLE notifications ADD COLUMN slack_ts text;
CREATE INDEX notifications_slack_messages_idx ON notifications (lead_id, recipient) WHERE slack_ts IS NOT NULL;

-- Down Migration
DROP INDEX notifications_slack_messages_idx;
ALTER TABLE notifications DROP COLUMN slack_ts;
ALTER TABLE notifications DROP COLUMN slack_channel;
DELETE FROM notifications WHERE channel = 'slack';
ALTER TABLE notifications DROP CONSTRAINT notifications_channel_check;
ALTER TABLE notifications ADD CONSTRAINT notifications_channel_check CHECK (channel IN ('webhook', 'email'));
