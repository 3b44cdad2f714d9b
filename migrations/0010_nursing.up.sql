-- Nurses as a scheduling resource (issue 14): the clinic's limits, the
-- roster, and each infusion's nurse, enforced like chairs.
ALTER TABLE clinic
    ADD COLUMN patients_per_nurse int NOT NULL DEFAULT 3 CHECK (patients_per_nurse BETWEEN 1 AND 10),
    ADD COLUMN start_spacing_minutes int NOT NULL DEFAULT 15 CHECK (start_spacing_minutes BETWEEN 0 AND 120);

-- A shift is one nurse on duty on one clinic-local date; one nurse's
-- shifts never overlap.
CREATE TABLE nurse_shifts (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    nurse_id   bigint NOT NULL REFERENCES users (id),
    on_date    date NOT NULL,
    starts_at  timestamptz NOT NULL,
    ends_at    timestamptz NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT nurse_shifts_span CHECK (ends_at > starts_at),
    CONSTRAINT nurse_shifts_no_overlap EXCLUDE USING gist (
        nurse_id WITH =, tstzrange(starts_at, ends_at, '[)') WITH &&)
);
CREATE INDEX nurse_shifts_on_date ON nurse_shifts (on_date);
GRANT SELECT, INSERT, DELETE ON nurse_shifts TO infusiondesk_app;

-- An infusion on a rostered date is watched by a nurse on one of their
-- numbered places. Two active infusions never share a nurse's place at
-- overlapping times (so no nurse watches more patients than places at any
-- instant), and a nurse's start windows [start, start + spacing) never
-- overlap (so no two starts are closer than the spacing). Cancelled and
-- no-show visits free both, like chairs.
ALTER TABLE appointments
    ADD COLUMN nurse_id bigint REFERENCES users (id),
    ADD COLUMN nurse_place smallint CHECK (nurse_place BETWEEN 1 AND 10),
    ADD COLUMN nurse_window tstzrange,
    ADD CONSTRAINT appointments_nurse_whole CHECK (
        (nurse_id IS NULL) = (nurse_place IS NULL) AND (nurse_id IS NULL) = (nurse_window IS NULL)),
    ADD CONSTRAINT appointments_nurse_place_free EXCLUDE USING gist (
        nurse_id WITH =, nurse_place WITH =, tstzrange(starts_at, ends_at, '[)') WITH &&)
        WHERE (nurse_id IS NOT NULL AND status IN ('booked', 'checked_in', 'completed')),
    ADD CONSTRAINT appointments_nurse_starts_spaced EXCLUDE USING gist (
        nurse_id WITH =, nurse_window WITH &&)
        WHERE (nurse_id IS NOT NULL AND status IN ('booked', 'checked_in', 'completed'));

-- A place above the clinic's patients per nurse is refused, whoever
-- writes the row.
CREATE FUNCTION appointments_nurse_place_limit() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.nurse_place IS NOT NULL AND NEW.nurse_place > (SELECT patients_per_nurse FROM clinic) THEN
        RAISE EXCEPTION 'nurse place % is above the clinic''s patients per nurse', NEW.nurse_place
            USING ERRCODE = 'check_violation', CONSTRAINT = 'appointments_nurse_place_limit';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER appointments_nurse_place_limit BEFORE INSERT OR UPDATE OF nurse_place ON appointments
    FOR EACH ROW EXECUTE FUNCTION appointments_nurse_place_limit();
