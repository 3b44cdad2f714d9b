-- The overlap constraints become NOT DEFERRABLE again. A deferrable
-- exclusion constraint inserts first and re-checks at the end of the
-- statement, so two racing bookings of one slot could each wait for the
-- other: a deadlock Postgres breaks after a second (found by `make load`).
-- A re-flow now parks the sessions it moves out of the way before placing
-- them, instead of deferring the checks.
ALTER TABLE appointments
    DROP CONSTRAINT appointments_chair_free,
    DROP CONSTRAINT appointments_patient_free;
ALTER TABLE appointments
    ADD CONSTRAINT appointments_chair_free EXCLUDE USING gist (
        chair_id WITH =, tstzrange(starts_at, ends_at, '[)') WITH &&)
        WHERE (status IN ('booked', 'checked_in', 'completed')),
    ADD CONSTRAINT appointments_patient_free EXCLUDE USING gist (
        patient_id WITH =, tstzrange(starts_at, ends_at, '[)') WITH &&)
        WHERE (status IN ('booked', 'checked_in', 'completed'));
