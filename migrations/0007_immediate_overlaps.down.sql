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
