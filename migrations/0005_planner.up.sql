-- The infusion record, the physician's interval history and each course's
-- current maintenance plan (recomputed in the same transaction as every
-- change to its inputs; the work lists read it).
ALTER TABLE infusions
    ADD COLUMN dose_mg_per_h       numeric(7, 2) CHECK (dose_mg_per_h >= 0),
    ADD COLUMN total_mg            numeric(8, 2) CHECK (total_mg >= 0),
    ADD COLUMN dose_reason         text NOT NULL DEFAULT '' CHECK (length(dose_reason) <= 500),
    ADD COLUMN bp_systolic_before  smallint CHECK (bp_systolic_before BETWEEN 50 AND 260),
    ADD COLUMN bp_diastolic_before smallint CHECK (bp_diastolic_before BETWEEN 20 AND 160),
    ADD COLUMN heart_rate_before   smallint CHECK (heart_rate_before BETWEEN 20 AND 250),
    ADD COLUMN spo2_before         smallint CHECK (spo2_before BETWEEN 50 AND 100),
    ADD COLUMN bp_systolic_after   smallint CHECK (bp_systolic_after BETWEEN 50 AND 260),
    ADD COLUMN bp_diastolic_after  smallint CHECK (bp_diastolic_after BETWEEN 20 AND 160),
    ADD COLUMN heart_rate_after    smallint CHECK (heart_rate_after BETWEEN 20 AND 250),
    ADD COLUMN spo2_after          smallint CHECK (spo2_after BETWEEN 50 AND 100),
    ADD COLUMN pain_before         smallint CHECK (pain_before BETWEEN 0 AND 10),
    ADD COLUMN pain_after          smallint CHECK (pain_after BETWEEN 0 AND 10),
    ADD COLUMN side_effects        jsonb NOT NULL DEFAULT '[]',
    ADD COLUMN driver_confirmed    boolean;

CREATE TABLE interval_changes (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    course_id  bigint NOT NULL REFERENCES courses (id),
    changed_by bigint REFERENCES users (id),
    changed_at timestamptz NOT NULL DEFAULT now(),
    note       text NOT NULL CHECK (btrim(note) <> '' AND length(note) <= 2000),
    before     jsonb NOT NULL,
    after      jsonb NOT NULL
);
CREATE INDEX interval_changes_course ON interval_changes (course_id, changed_at);

CREATE TABLE course_plans (
    course_id        bigint PRIMARY KEY REFERENCES courses (id),
    patient_id       bigint NOT NULL REFERENCES patients (id),
    due_date         date,
    interval_days    integer,
    last_infusion_id bigint REFERENCES infusions (id),
    last_infusion_on date,
    last_reported    boolean NOT NULL DEFAULT false,
    rationale        text NOT NULL,
    flags            jsonb NOT NULL DEFAULT '[]',  -- the flags that do not depend on the day
    computed_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX course_plans_due ON course_plans (due_date);
CREATE INDEX course_plans_report ON course_plans (last_infusion_on) WHERE NOT last_reported;
CREATE INDEX appointments_patient_booked ON appointments (patient_id, starts_at) WHERE status = 'booked';

GRANT SELECT, INSERT ON interval_changes TO infusiondesk_app;
GRANT SELECT, INSERT, UPDATE ON course_plans TO infusiondesk_app;
