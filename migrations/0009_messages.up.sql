-- Messages to patients (issue 12): what the clinic sends, to whom, when,
-- and what became of it; the visit links in them; the patients' choice of
-- channel; a visit's confirmation. The sending itself is a River job in the
-- "river" schema (River's own migrations, run by `infusiondesk migrate`
-- after these), enqueued in the transaction of the change that causes it.
CREATE SCHEMA river;
GRANT USAGE ON SCHEMA river TO infusiondesk_app;
-- River's tables are created after this by the same owner: the application
-- role gets what River needs on them as they appear.
ALTER DEFAULT PRIVILEGES IN SCHEMA river GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO infusiondesk_app;
ALTER DEFAULT PRIVILEGES IN SCHEMA river GRANT USAGE, SELECT ON SEQUENCES TO infusiondesk_app;

ALTER TABLE clinic
    ADD COLUMN phone     text NOT NULL DEFAULT '' CHECK (length(phone) <= 40),
    ADD COLUMN address   text NOT NULL DEFAULT '' CHECK (length(address) <= 300),
    ADD COLUMN reminders jsonb NOT NULL DEFAULT '{"offsets_hours": [72, 24], "email": true, "sms": true}'
        CHECK (jsonb_typeof(reminders -> 'offsets_hours') = 'array'
           AND jsonb_typeof(reminders -> 'email') = 'boolean' AND jsonb_typeof(reminders -> 'sms') = 'boolean');

-- contact_by: the channels the patient is sent messages on; empty for none.
ALTER TABLE patients
    ADD COLUMN contact_by       text[] NOT NULL DEFAULT '{}' CHECK (contact_by <@ ARRAY['email', 'sms']),
    ADD COLUMN sms_opted_out_at timestamptz;
UPDATE patients SET contact_by = array_remove(ARRAY[
    CASE WHEN email <> '' THEN 'email' END,
    CASE WHEN phone <> '' THEN 'sms' END], NULL);

ALTER TABLE appointments ADD COLUMN confirmed_at timestamptz;

CREATE TABLE messages (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    patient_id     bigint NOT NULL REFERENCES patients (id),
    -- The visit; for a message about a loading series, its first session.
    appointment_id bigint REFERENCES appointments (id),
    series_id      bigint REFERENCES loading_series (id),
    kind           text NOT NULL CHECK (kind IN ('confirmation', 'reminder', 'moved', 'cancelled', 'invitation')),
    channel        text NOT NULL CHECK (channel IN ('email', 'sms')),
    status         text NOT NULL DEFAULT 'scheduled' CHECK (status IN ('scheduled', 'sent', 'failed', 'dropped')),
    scheduled_for  timestamptz NOT NULL,
    -- The visits the message was written for, [{"id": …, "start": …}], and
    -- for a move their times before: a visit no longer booked at that start
    -- is left out at send time, and a message with none left is dropped.
    visits         jsonb NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(visits) = 'array'),
    was            jsonb NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(was) = 'array'),
    sent_at        timestamptz,
    error          text CHECK (length(error) <= 1000),
    attempts       integer NOT NULL DEFAULT 0,
    -- The email's Message-ID (without brackets): the same on every try.
    message_key    text NOT NULL UNIQUE,
    provider_id    text,
    job_id         bigint,
    -- An invitation's link, kept only until it is sent or dropped.
    link           text,
    created_at     timestamptz NOT NULL DEFAULT now(),
    CHECK ((status = 'sent') = (sent_at IS NOT NULL)),
    CHECK ((kind = 'invitation') = (appointment_id IS NULL))
);
CREATE INDEX messages_appointment ON messages (appointment_id);
-- The message log of a visit: every message that lists it.
CREATE INDEX messages_visits ON messages USING gin (visits jsonb_path_ops);
CREATE INDEX messages_failed ON messages (scheduled_for) WHERE status = 'failed';

-- A visit link: only the token's hash is kept; it works until the visit ends.
CREATE TABLE visit_links (
    token_hash     bytea PRIMARY KEY,
    appointment_id bigint NOT NULL REFERENCES appointments (id),
    message_id     bigint REFERENCES messages (id),
    created_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX visit_links_appointment ON visit_links (appointment_id);

GRANT SELECT, INSERT, UPDATE ON messages TO infusiondesk_app;
GRANT SELECT, INSERT ON visit_links TO infusiondesk_app;

-- Invitations are messages now.
DROP TABLE outbox;
