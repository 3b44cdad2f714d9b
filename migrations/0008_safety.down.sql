ALTER TABLE login_failures
    DROP CONSTRAINT login_failures_email_length,
    DROP CONSTRAINT login_failures_address_length;
DROP INDEX appointments_one_infusion_a_day;
DROP INDEX appointments_one_next_maintenance;
DROP TRIGGER appointment_local_date ON appointments;
DROP FUNCTION appointment_local_date();
ALTER TABLE appointments
    DROP COLUMN local_date,
    DROP COLUMN additional_reason,
    DROP COLUMN driver_name,
    DROP COLUMN driver_phone;
ALTER TABLE clinic DROP COLUMN booking_horizon_days;
