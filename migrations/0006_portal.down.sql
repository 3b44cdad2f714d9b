DROP TABLE outbox;
DROP TABLE requests;
DROP TABLE journal_entries;
DROP TABLE calendar_feeds;
DROP TABLE invitations;
