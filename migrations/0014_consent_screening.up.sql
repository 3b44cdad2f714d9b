-- Before the first drop and between visits: consent forms with versions
-- and the patients' signatures, the screen at check-in with its hold and
-- a physician's clearance, PEG, and breakthrough doses in the journal.

-- One consent form with versions: the highest is current, each earlier one
-- superseded. A version's words never change once written.
CREATE TABLE consent_forms (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    version    integer NOT NULL UNIQUE CHECK (version > 0),
    title      text NOT NULL CHECK (length(title) BETWEEN 1 AND 200),
    body       text NOT NULL CHECK (length(body) BETWEEN 1 AND 50000),
    body_es    text NOT NULL DEFAULT '' CHECK (length(body_es) <= 50000),
    created_by bigint REFERENCES users (id),
    created_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (id, version)
);

-- A patient's signature of one version: the text's SHA-256 in the
-- language they read it, their typed name, when and from where.
CREATE TABLE consent_signatures (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    patient_id  bigint NOT NULL REFERENCES patients (id),
    form_id     bigint NOT NULL,
    version     integer NOT NULL,
    lang        text NOT NULL CHECK (lang IN ('en', 'es')),
    text_sha256 bytea NOT NULL CHECK (length(text_sha256) = 32),
    signed_name text NOT NULL CHECK (length(signed_name) BETWEEN 1 AND 200),
    signed_at   timestamptz NOT NULL DEFAULT now(),
    address     text NOT NULL DEFAULT '',
    via         text NOT NULL CHECK (via IN ('portal', 'kiosk')),
    -- The desk user who handed over the tablet (kiosk).
    handed_by   bigint REFERENCES users (id),
    FOREIGN KEY (form_id, version) REFERENCES consent_forms (id, version),
    UNIQUE (patient_id, form_id)
);

-- The desk's tablet, handed to a patient to sign and answer PEG: the link
-- is the key, short-lived, for one patient and nothing else.
CREATE TABLE kiosk_links (
    token_hash bytea PRIMARY KEY CHECK (length(token_hash) = 32),
    patient_id bigint NOT NULL REFERENCES patients (id),
    appointment_id bigint REFERENCES appointments (id),
    handed_by  bigint NOT NULL REFERENCES users (id),
    expires_at timestamptz NOT NULL,
    done_at    timestamptz
);

-- The screen at check-in of an infusion visit, what holds it, and the
-- physician's clearance.
ALTER TABLE appointments
    ADD COLUMN bp_systolic  smallint CHECK (bp_systolic BETWEEN 50 AND 300),
    ADD COLUMN bp_diastolic smallint CHECK (bp_diastolic BETWEEN 20 AND 200),
    ADD COLUMN screening    jsonb CHECK (jsonb_typeof(screening) = 'object'),
    ADD COLUMN holds        text[] NOT NULL DEFAULT '{}',
    ADD COLUMN cleared_at   timestamptz,
    ADD COLUMN cleared_by   bigint REFERENCES users (id),
    ADD COLUMN clear_reason text CHECK (length(clear_reason) BETWEEN 1 AND 500),
    ADD CONSTRAINT appointments_screen CHECK ((bp_systolic IS NULL) = (bp_diastolic IS NULL)
        AND (bp_systolic IS NULL) = (screening IS NULL)
        AND (bp_systolic IS NOT NULL OR cardinality(holds) = 0)),
    ADD CONSTRAINT appointments_clearance CHECK ((cleared_at IS NULL) = (cleared_by IS NULL)
        AND (cleared_at IS NULL) = (clear_reason IS NULL)
        AND (cleared_at IS NULL OR cardinality(holds) > 0));
CREATE INDEX appointments_held ON appointments (starts_at) WHERE cardinality(holds) > 0 AND cleared_at IS NULL;

-- PEG answers: in the journal (the portal, weekly), or at an infusion
-- visit before it starts (the nurse's form or the patient's tablet).
CREATE TABLE peg_scores (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    patient_id     bigint NOT NULL REFERENCES patients (id),
    on_date        date NOT NULL,
    pain           smallint NOT NULL CHECK (pain BETWEEN 0 AND 10),
    enjoyment      smallint NOT NULL CHECK (enjoyment BETWEEN 0 AND 10),
    activity       smallint NOT NULL CHECK (activity BETWEEN 0 AND 10),
    source         text NOT NULL CHECK (source IN ('journal', 'visit')),
    journal_id     bigint UNIQUE REFERENCES journal_entries (id),
    appointment_id bigint UNIQUE REFERENCES appointments (id),
    created_at     timestamptz NOT NULL DEFAULT now(),
    CHECK ((source = 'journal') = (journal_id IS NOT NULL) AND (source = 'visit') = (appointment_id IS NOT NULL))
);
CREATE INDEX peg_scores_patient ON peg_scores (patient_id, on_date);

ALTER TABLE journal_entries
    ADD COLUMN breakthrough_doses smallint CHECK (breakthrough_doses BETWEEN 0 AND 50);

-- A weekly PEG reminder is a message about no visit.
ALTER TABLE messages DROP CONSTRAINT messages_kind_check,
    ADD CONSTRAINT messages_kind_check CHECK (kind IN ('confirmation', 'reminder', 'moved', 'cancelled', 'invitation', 'offer', 'peg'));
ALTER TABLE messages DROP CONSTRAINT messages_about,
    ADD CONSTRAINT messages_about CHECK ((kind IN ('invitation', 'offer', 'peg')) = (appointment_id IS NULL)
        AND (kind = 'offer') = (offer_id IS NOT NULL));

GRANT SELECT, INSERT ON consent_forms, consent_signatures TO infusiondesk_app;
GRANT SELECT, INSERT, UPDATE ON kiosk_links, peg_scores TO infusiondesk_app;
