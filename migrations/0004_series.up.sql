-- Loading series. Re-flowing a series moves several of one patient's
-- sessions in one transaction; one session may land where another of the
-- same series still is until its own update. The two overlap constraints
-- become deferrable (still checked at once unless a transaction defers
-- them), so a re-flow is judged on its end state, at commit.
ALTER TABLE appointments
    DROP CONSTRAINT appointments_chair_free,
    DROP CONSTRAINT appointments_patient_free;
ALTER TABLE appointments
    ADD CONSTRAINT appointments_chair_free EXCLUDE USING gist (
        chair_id WITH =, tstzrange(starts_at, ends_at, '[)') WITH &&)
        WHERE (status IN ('booked', 'checked_in', 'completed')) DEFERRABLE INITIALLY IMMEDIATE,
    ADD CONSTRAINT appointments_patient_free EXCLUDE USING gist (
        patient_id WITH =, tstzrange(starts_at, ends_at, '[)') WITH &&)
        WHERE (status IN ('booked', 'checked_in', 'completed')) DEFERRABLE INITIALLY IMMEDIATE;

-- The series' preferred start time, which a re-flow aims for again, and
-- who cancelled it as a whole.
ALTER TABLE loading_series
    ADD COLUMN preferred_time text NOT NULL DEFAULT '09:00' CHECK (preferred_time ~ '^[0-2][0-9]:[0-5][0-9]$'),
    ADD COLUMN cancelled_at timestamptz,
    ADD COLUMN cancel_reason text CHECK (length(cancel_reason) <= 500);
GRANT SELECT, INSERT, UPDATE ON loading_series TO infusiondesk_app;
