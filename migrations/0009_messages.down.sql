CREATE TABLE outbox (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    to_address text NOT NULL,
    subject    text NOT NULL,
    body       text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
GRANT SELECT, INSERT ON outbox TO infusiondesk_app;
DROP TABLE visit_links;
DROP TABLE messages;
ALTER TABLE appointments DROP COLUMN confirmed_at;
ALTER TABLE patients DROP COLUMN contact_by, DROP COLUMN sms_opted_out_at;
ALTER TABLE clinic DROP COLUMN phone, DROP COLUMN address, DROP COLUMN reminders;
ALTER DEFAULT PRIVILEGES IN SCHEMA river REVOKE ALL ON TABLES FROM infusiondesk_app;
ALTER DEFAULT PRIVILEGES IN SCHEMA river REVOKE ALL ON SEQUENCES FROM infusiondesk_app;
DROP SCHEMA river CASCADE;
