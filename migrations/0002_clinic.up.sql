-- The clinic: settings, hours, closures, chairs, protocols, patients, their
-- treatment courses, appointments, infusions and relief reports.
CREATE EXTENSION IF NOT EXISTS btree_gist;

-- One clinic per database.
CREATE TABLE clinic (
    id           boolean PRIMARY KEY DEFAULT true CHECK (id),
    name         text NOT NULL CHECK (btrim(name) <> '' AND length(name) <= 200),
    timezone     text NOT NULL,
    slot_minutes integer NOT NULL DEFAULT 15 CHECK (slot_minutes IN (5, 10, 15, 20, 30, 60)),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    version      integer NOT NULL DEFAULT 1
);
INSERT INTO clinic (name, timezone) VALUES ('Infusion clinic', 'UTC');

-- Weekly opening hours in clinic-local wall-clock time; weekday 0 = Sunday.
-- A day may have several ranges (a lunch break) but they never overlap.
CREATE TABLE opening_hours (
    weekday smallint NOT NULL CHECK (weekday BETWEEN 0 AND 6),
    opens   time NOT NULL,
    closes  time NOT NULL,
    PRIMARY KEY (weekday, opens),
    CONSTRAINT opening_hours_order CHECK (opens < closes),
    CONSTRAINT opening_hours_no_overlap EXCLUDE USING gist (
        weekday WITH =,
        tsrange(date '2000-01-01' + opens, date '2000-01-01' + closes, '[)') WITH &&)
);

CREATE TABLE closures (
    on_date    date PRIMARY KEY,
    reason     text NOT NULL CHECK (btrim(reason) <> '' AND length(reason) <= 200),
    created_by bigint REFERENCES users (id),
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE chairs (
    id       bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name     text NOT NULL UNIQUE CHECK (btrim(name) <> '' AND length(name) <= 60),
    position integer NOT NULL,
    active   boolean NOT NULL DEFAULT true,
    version  integer NOT NULL DEFAULT 1
);

-- The numbers shared by a protocol and, copied from it, a treatment course.
CREATE TABLE protocols (
    id                           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name                         text NOT NULL UNIQUE CHECK (btrim(name) <> '' AND length(name) <= 100),
    sessions                     integer NOT NULL CHECK (sessions BETWEEN 1 AND 20),
    min_gap_days                 integer NOT NULL CHECK (min_gap_days >= 1),
    max_gap_days                 integer NOT NULL,
    max_span_days                integer NOT NULL,
    infusion_minutes             integer NOT NULL CHECK (infusion_minutes BETWEEN 15 AND 720),
    recovery_minutes             integer NOT NULL CHECK (recovery_minutes BETWEEN 0 AND 240),
    dose_min_mg_per_kg_h         numeric(4, 2) NOT NULL CHECK (dose_min_mg_per_kg_h > 0),
    dose_max_mg_per_kg_h         numeric(4, 2) NOT NULL CHECK (dose_max_mg_per_kg_h <= 1),
    first_interval_days          integer NOT NULL,
    min_interval_days            integer NOT NULL CHECK (min_interval_days >= 1),
    max_interval_days            integer NOT NULL,
    lead_days                    integer NOT NULL CHECK (lead_days >= 0),
    step_days                    integer NOT NULL CHECK (step_days >= 0),
    maintenance_infusion_minutes integer NOT NULL DEFAULT 60 CHECK (maintenance_infusion_minutes BETWEEN 15 AND 720),
    maintenance_recovery_minutes integer NOT NULL DEFAULT 30 CHECK (maintenance_recovery_minutes BETWEEN 0 AND 240),
    active                       boolean NOT NULL DEFAULT true,
    version                      integer NOT NULL DEFAULT 1,
    CHECK (max_gap_days >= min_gap_days),
    CHECK (max_span_days >= min_gap_days * (sessions - 1)),
    CHECK (dose_max_mg_per_kg_h >= dose_min_mg_per_kg_h),
    CHECK (max_interval_days >= min_interval_days),
    CHECK (first_interval_days BETWEEN min_interval_days AND max_interval_days)
);

CREATE SEQUENCE patient_mrn_seq START 100001;

CREATE TABLE patients (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    mrn           text NOT NULL UNIQUE DEFAULT ('MRN' || nextval('patient_mrn_seq'))
                  CHECK (mrn ~ '^[A-Za-z0-9-]{1,20}$'),
    first_name    text NOT NULL CHECK (btrim(first_name) <> '' AND length(first_name) <= 100),
    last_name     text NOT NULL CHECK (btrim(last_name) <> '' AND length(last_name) <= 100),
    date_of_birth date NOT NULL CHECK (date_of_birth >= date '1900-01-01'),
    phone         text NOT NULL DEFAULT '' CHECK (length(phone) <= 40),
    email         text NOT NULL DEFAULT '' CHECK (length(email) <= 254),
    weight_kg     numeric(5, 1) CHECK (weight_kg > 0 AND weight_kg < 400),
    condition     text NOT NULL CHECK (condition IN ('crps', 'neuropathic', 'fibromyalgia', 'other')),
    driver_name   text NOT NULL DEFAULT '' CHECK (length(driver_name) <= 200),
    driver_phone  text NOT NULL DEFAULT '' CHECK (length(driver_phone) <= 40),
    notes         text NOT NULL DEFAULT '' CHECK (length(notes) <= 10000),
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    version       integer NOT NULL DEFAULT 1
);
CREATE INDEX patients_name ON patients (lower(last_name), lower(first_name));
CREATE INDEX patients_birth ON patients (date_of_birth);

-- A portal account belongs to exactly one patient; staff accounts to none.
ALTER TABLE users
    ADD COLUMN patient_id bigint UNIQUE REFERENCES patients (id),
    ADD CONSTRAINT users_patient_link CHECK (patient_id IS NULL OR role = 'patient');

-- A treatment course: the protocol's numbers are copied so that a physician
-- can adjust them for this patient. At most one course per patient is open.
CREATE TABLE courses (
    id                           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    patient_id                   bigint NOT NULL REFERENCES patients (id),
    protocol_id                  bigint NOT NULL REFERENCES protocols (id),
    phase                        text NOT NULL CHECK (phase IN ('loading', 'maintenance', 'paused', 'ended')),
    started_on                   date NOT NULL,
    ended_on                     date,
    sessions                     integer NOT NULL CHECK (sessions BETWEEN 1 AND 20),
    min_gap_days                 integer NOT NULL CHECK (min_gap_days >= 1),
    max_gap_days                 integer NOT NULL,
    max_span_days                integer NOT NULL,
    infusion_minutes             integer NOT NULL CHECK (infusion_minutes BETWEEN 15 AND 720),
    recovery_minutes             integer NOT NULL CHECK (recovery_minutes BETWEEN 0 AND 240),
    dose_min_mg_per_kg_h         numeric(4, 2) NOT NULL CHECK (dose_min_mg_per_kg_h > 0),
    dose_max_mg_per_kg_h         numeric(4, 2) NOT NULL CHECK (dose_max_mg_per_kg_h <= 1),
    first_interval_days          integer NOT NULL,
    min_interval_days            integer NOT NULL CHECK (min_interval_days >= 1),
    max_interval_days            integer NOT NULL,
    lead_days                    integer NOT NULL CHECK (lead_days >= 0),
    step_days                    integer NOT NULL CHECK (step_days >= 0),
    maintenance_infusion_minutes integer NOT NULL CHECK (maintenance_infusion_minutes BETWEEN 15 AND 720),
    maintenance_recovery_minutes integer NOT NULL CHECK (maintenance_recovery_minutes BETWEEN 0 AND 240),
    fixed_interval_days          integer CHECK (fixed_interval_days BETWEEN 1 AND 730),
    created_at                   timestamptz NOT NULL DEFAULT now(),
    updated_at                   timestamptz NOT NULL DEFAULT now(),
    version                      integer NOT NULL DEFAULT 1,
    CHECK ((phase = 'ended') = (ended_on IS NOT NULL)),
    CHECK (ended_on IS NULL OR ended_on >= started_on),
    CHECK (max_gap_days >= min_gap_days),
    CHECK (dose_max_mg_per_kg_h >= dose_min_mg_per_kg_h),
    CHECK (max_interval_days >= min_interval_days)
);
CREATE UNIQUE INDEX courses_one_open ON courses (patient_id) WHERE phase <> 'ended';

-- A loading series: the sessions booked together for a course.
CREATE TABLE loading_series (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    course_id   bigint NOT NULL REFERENCES courses (id),
    patient_id  bigint NOT NULL REFERENCES patients (id),
    protocol_id bigint NOT NULL REFERENCES protocols (id),
    created_by  bigint REFERENCES users (id),
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX loading_series_course ON loading_series (course_id);

-- Appointments. An active appointment (booked, checked in, completed) holds
-- its chair and its patient for [starts_at, ends_at); the two exclusion
-- constraints make an overlap impossible whatever the code does.
CREATE TABLE appointments (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    patient_id      bigint NOT NULL REFERENCES patients (id),
    chair_id        bigint NOT NULL REFERENCES chairs (id),
    kind            text NOT NULL CHECK (kind IN ('maintenance', 'loading', 'consult')),
    status          text NOT NULL DEFAULT 'booked'
                    CHECK (status IN ('booked', 'checked_in', 'completed', 'cancelled', 'no_show')),
    starts_at       timestamptz NOT NULL,
    ends_at         timestamptz NOT NULL,
    course_id       bigint REFERENCES courses (id),
    series_id       bigint REFERENCES loading_series (id),
    session_no      integer CHECK (session_no >= 1),
    checked_in_at   timestamptz,
    completed_at    timestamptz,
    cancelled_at    timestamptz,
    cancelled_by    bigint REFERENCES users (id),
    cancel_reason   text CHECK (length(cancel_reason) <= 500),
    idempotency_key text UNIQUE CHECK (length(idempotency_key) <= 100),
    created_by      bigint REFERENCES users (id),
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    version         integer NOT NULL DEFAULT 1,
    CONSTRAINT appointments_ends_after_start CHECK (ends_at > starts_at),
    CONSTRAINT appointments_series_session CHECK ((series_id IS NULL) = (session_no IS NULL)),
    CONSTRAINT appointments_series_is_loading CHECK (series_id IS NULL OR kind = 'loading'),
    CONSTRAINT appointments_cancelled CHECK ((status = 'cancelled') = (cancelled_at IS NOT NULL)),
    CONSTRAINT appointments_chair_free EXCLUDE USING gist (
        chair_id WITH =, tstzrange(starts_at, ends_at, '[)') WITH &&)
        WHERE (status IN ('booked', 'checked_in', 'completed')),
    CONSTRAINT appointments_patient_free EXCLUDE USING gist (
        patient_id WITH =, tstzrange(starts_at, ends_at, '[)') WITH &&)
        WHERE (status IN ('booked', 'checked_in', 'completed'))
);
CREATE INDEX appointments_starts ON appointments (starts_at);
CREATE INDEX appointments_patient ON appointments (patient_id, starts_at);
CREATE UNIQUE INDEX appointments_series_session_active ON appointments (series_id, session_no)
    WHERE series_id IS NOT NULL AND status IN ('booked', 'checked_in', 'completed');

-- An infusion given (from a completed appointment) or imported from a paper
-- chart. given_on is the clinic-local civil date.
CREATE TABLE infusions (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    patient_id       bigint NOT NULL REFERENCES patients (id),
    course_id        bigint NOT NULL REFERENCES courses (id),
    appointment_id   bigint UNIQUE REFERENCES appointments (id),
    given_on         date NOT NULL,
    started_at       timestamptz,
    phase            text NOT NULL CHECK (phase IN ('loading', 'maintenance')),
    route            text NOT NULL DEFAULT 'iv' CHECK (route IN ('iv', 'subcutaneous')),
    dose_mg_per_kg_h numeric(4, 2) NOT NULL CHECK (dose_mg_per_kg_h > 0 AND dose_mg_per_kg_h <= 1),
    weight_kg        numeric(5, 1) CHECK (weight_kg > 0 AND weight_kg < 400),
    minutes          integer CHECK (minutes BETWEEN 1 AND 720),
    source           text NOT NULL CHECK (source IN ('recorded', 'imported')),
    recorded_by      bigint REFERENCES users (id),
    created_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX infusions_course ON infusions (course_id, given_on);
CREATE INDEX infusions_patient ON infusions (patient_id, given_on);

-- Relief after an infusion: "ended on" or "still holding on" a date. Every
-- report is kept; the latest one counts.
CREATE TABLE relief_reports (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    infusion_id bigint NOT NULL REFERENCES infusions (id),
    status      text NOT NULL CHECK (status IN ('ended', 'holding')),
    on_date     date NOT NULL,
    source      text NOT NULL CHECK (source IN ('patient', 'desk', 'nurse', 'physician')),
    reported_by bigint REFERENCES users (id),
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX relief_reports_infusion ON relief_reports (infusion_id, created_at, id);

CREATE FUNCTION relief_not_before_infusion() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.on_date < (SELECT given_on FROM infusions WHERE id = NEW.infusion_id) THEN
        RAISE EXCEPTION 'relief report dated before its infusion'
            USING ERRCODE = 'check_violation', CONSTRAINT = 'relief_reports_not_before_infusion';
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER relief_not_before_infusion BEFORE INSERT OR UPDATE ON relief_reports
    FOR EACH ROW EXECUTE FUNCTION relief_not_before_infusion();

-- Settings that are replaced as a whole may be deleted; clinical records never.
GRANT SELECT, INSERT, UPDATE ON clinic, chairs, protocols, patients, courses,
    loading_series, appointments, infusions, relief_reports TO infusiondesk_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON opening_hours, closures TO infusiondesk_app;
GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO infusiondesk_app;
