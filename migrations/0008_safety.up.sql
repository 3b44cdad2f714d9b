-- Safety gates: a booking horizon, one next maintenance infusion per
-- patient (another only as a physician's additional infusion, with a
-- reason), never two infusions of one patient on one clinic-local day,
-- and the driver recorded at check-in.
ALTER TABLE clinic
    ADD COLUMN booking_horizon_days integer NOT NULL DEFAULT 540 CHECK (booking_horizon_days BETWEEN 1 AND 3650);

ALTER TABLE appointments
    ADD COLUMN local_date        date,
    ADD COLUMN additional_reason text CHECK (btrim(additional_reason) <> '' AND length(additional_reason) <= 500),
    ADD COLUMN driver_name       text CHECK (length(driver_name) <= 200),
    ADD COLUMN driver_phone      text CHECK (length(driver_phone) <= 40);

-- The clinic-local date of an appointment, kept by the database from the
-- clinic's zone so that "one infusion a day" holds whatever the code does.
CREATE FUNCTION appointment_local_date() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    NEW.local_date := (NEW.starts_at AT TIME ZONE (SELECT timezone FROM clinic))::date;
    RETURN NEW;
END
$$;
CREATE TRIGGER appointment_local_date BEFORE INSERT OR UPDATE OF starts_at ON appointments
    FOR EACH ROW EXECUTE FUNCTION appointment_local_date();
UPDATE appointments SET local_date = (starts_at AT TIME ZONE (SELECT timezone FROM clinic))::date;
ALTER TABLE appointments ALTER COLUMN local_date SET NOT NULL;

-- Maintenance visits booked twice before this rule: the earliest stays the
-- next infusion, the later ones become additional infusions, saying why.
UPDATE appointments a SET additional_reason = 'Booked before the one-next-infusion rule.'
WHERE a.kind = 'maintenance' AND a.status = 'booked' AND EXISTS (
    SELECT 1 FROM appointments b
    WHERE b.patient_id = a.patient_id AND b.kind = 'maintenance' AND b.status = 'booked'
      AND (b.starts_at, b.id) < (a.starts_at, a.id));

CREATE UNIQUE INDEX appointments_one_next_maintenance ON appointments (patient_id)
    WHERE kind = 'maintenance' AND status = 'booked' AND additional_reason IS NULL;
CREATE UNIQUE INDEX appointments_one_infusion_a_day ON appointments (patient_id, local_date)
    WHERE kind <> 'consult' AND status IN ('booked', 'checked_in', 'completed');

-- Failed sign-ins are counted for any text, but stored within bounds (the
-- server cuts an overlong email before counting it).
ALTER TABLE login_failures
    ADD CONSTRAINT login_failures_email_length CHECK (length(email) <= 254),
    ADD CONSTRAINT login_failures_address_length CHECK (length(address) <= 100);
