-- The patient portal: invitations, the calendar feed, the symptom journal,
-- requests to the desk, and the mail outbox (until email exists).
CREATE TABLE invitations (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    patient_id  bigint NOT NULL REFERENCES patients (id),
    token_hash  bytea NOT NULL UNIQUE,
    expires_at  timestamptz NOT NULL,
    used_at     timestamptz,
    revoked_at  timestamptz,
    created_by  bigint REFERENCES users (id),
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX invitations_patient ON invitations (patient_id);

-- A private calendar subscription: the token is the feed's address, shown
-- to the patient again on their calendar page, replaced on demand.
CREATE TABLE calendar_feeds (
    patient_id bigint PRIMARY KEY REFERENCES patients (id),
    token      text NOT NULL UNIQUE CHECK (length(token) >= 32),
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE journal_entries (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    patient_id    bigint NOT NULL REFERENCES patients (id),
    on_date       date NOT NULL,
    pain          smallint NOT NULL CHECK (pain BETWEEN 0 AND 10),
    sleep         smallint CHECK (sleep BETWEEN 0 AND 10),
    mobility      smallint CHECK (mobility BETWEEN 0 AND 10),
    mood          smallint CHECK (mood BETWEEN 0 AND 10),
    breakthrough  text NOT NULL DEFAULT '' CHECK (length(breakthrough) <= 500),
    note          text NOT NULL DEFAULT '' CHECK (length(note) <= 2000),
    created_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX journal_entries_patient ON journal_entries (patient_id, on_date);

CREATE TABLE requests (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    patient_id     bigint NOT NULL REFERENCES patients (id),
    appointment_id bigint NOT NULL REFERENCES appointments (id),
    kind           text NOT NULL CHECK (kind IN ('move', 'cancel')),
    message        text NOT NULL CHECK (btrim(message) <> '' AND length(message) <= 1000),
    answer         text CHECK (length(answer) <= 1000),
    answered_by    bigint REFERENCES users (id),
    answered_at    timestamptz,
    created_at     timestamptz NOT NULL DEFAULT now(),
    CHECK ((answer IS NULL) = (answered_at IS NULL))
);
CREATE INDEX requests_open ON requests (created_at) WHERE answered_at IS NULL;
CREATE INDEX requests_patient ON requests (patient_id, created_at);

CREATE TABLE outbox (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    to_address text NOT NULL,
    subject    text NOT NULL,
    body       text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);

GRANT SELECT, INSERT, UPDATE ON invitations, journal_entries, requests TO infusiondesk_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON calendar_feeds TO infusiondesk_app;
GRANT SELECT, INSERT ON outbox TO infusiondesk_app;
