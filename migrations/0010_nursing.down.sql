DROP TRIGGER appointments_nurse_place_limit ON appointments;
DROP FUNCTION appointments_nurse_place_limit();
ALTER TABLE appointments
    DROP CONSTRAINT appointments_nurse_starts_spaced,
    DROP CONSTRAINT appointments_nurse_place_free,
    DROP CONSTRAINT appointments_nurse_whole,
    DROP COLUMN nurse_window,
    DROP COLUMN nurse_place,
    DROP COLUMN nurse_id;
DROP TABLE nurse_shifts;
ALTER TABLE clinic DROP COLUMN start_spacing_minutes, DROP COLUMN patients_per_nurse;
