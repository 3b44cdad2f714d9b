-- Filling freed chairs (issue 16): the waitlist, offers of a freed slot
-- with their claim links, how each visit got its place, the slots freed by
-- cancellations and no-shows and what filled them, and each course's
-- self-booking window.

-- The days around the due date a patient may book their own next infusion.
ALTER TABLE courses
    ADD COLUMN self_booking_days_before integer NOT NULL DEFAULT 3 CHECK (self_booking_days_before BETWEEN 0 AND 28),
    ADD COLUMN self_booking_days_after  integer NOT NULL DEFAULT 3 CHECK (self_booking_days_after BETWEEN 0 AND 28);

-- false: the patient does not want offers of freed chairs.
ALTER TABLE patients ADD COLUMN fill_offers boolean NOT NULL DEFAULT true;

-- Who put a visit where it is now: the desk, a patient claiming an offer,
-- or the patient in the portal.
ALTER TABLE appointments ADD COLUMN placed_by text NOT NULL DEFAULT 'desk' CHECK (placed_by IN ('desk', 'offer', 'self'));

-- "Any day before D, mornings / afternoons / any time": one open wish per
-- patient, which lapses at D.
CREATE TABLE waitlist (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    patient_id  bigint NOT NULL REFERENCES patients (id),
    before      date NOT NULL,
    part_of_day text NOT NULL CHECK (part_of_day IN ('morning', 'afternoon', 'any')),
    created_by  bigint REFERENCES users (id),
    created_at  timestamptz NOT NULL DEFAULT now(),
    removed_at  timestamptz
);
CREATE UNIQUE INDEX waitlist_one_open ON waitlist (patient_id) WHERE removed_at IS NULL;

-- A freed slot offered to patients: the first claim books it.
CREATE TABLE fill_offers (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    chair_id       bigint NOT NULL REFERENCES chairs (id),
    starts_at      timestamptz NOT NULL,
    minutes        integer NOT NULL CHECK (minutes BETWEEN 15 AND 720),
    expires_at     timestamptz NOT NULL,
    patient_ids    bigint[] NOT NULL CHECK (cardinality(patient_ids) BETWEEN 1 AND 20),
    created_by     bigint REFERENCES users (id),
    created_at     timestamptz NOT NULL DEFAULT now(),
    claimed_by     bigint REFERENCES patients (id),
    appointment_id bigint REFERENCES appointments (id),
    claimed_at     timestamptz,
    CHECK (expires_at <= starts_at),
    CHECK ((claimed_by IS NULL) = (appointment_id IS NULL) AND (appointment_id IS NULL) = (claimed_at IS NULL))
);
CREATE INDEX fill_offers_starts ON fill_offers (starts_at);
CREATE INDEX fill_offers_patients ON fill_offers USING gin (patient_ids) WHERE claimed_by IS NULL;

-- A claim link: only the token's hash is kept; one per message sent.
CREATE TABLE fill_offer_links (
    token_hash bytea PRIMARY KEY,
    offer_id   bigint NOT NULL REFERENCES fill_offers (id),
    patient_id bigint NOT NULL REFERENCES patients (id),
    message_id bigint REFERENCES messages (id),
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX fill_offer_links_offer ON fill_offer_links (offer_id);

ALTER TABLE messages ADD COLUMN offer_id bigint REFERENCES fill_offers (id);
ALTER TABLE messages DROP CONSTRAINT messages_kind_check,
    ADD CONSTRAINT messages_kind_check CHECK (kind IN ('confirmation', 'reminder', 'moved', 'cancelled', 'invitation', 'offer'));
ALTER TABLE messages DROP CONSTRAINT messages_check1,
    ADD CONSTRAINT messages_about CHECK ((kind IN ('invitation', 'offer')) = (appointment_id IS NULL)
        AND (kind = 'offer') = (offer_id IS NOT NULL));

-- Every booked visit cancelled or missed before it ended frees its chair
-- for its time; the first visit placed on that chair over that time fills
-- it (for the fill report). Triggers, so that no path that cancels, books
-- or moves can forget.
CREATE TABLE freed_slots (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    appointment_id bigint NOT NULL UNIQUE REFERENCES appointments (id),
    chair_id       bigint NOT NULL REFERENCES chairs (id),
    starts_at      timestamptz NOT NULL,
    ends_at        timestamptz NOT NULL,
    freed_at       timestamptz NOT NULL,
    filled_by      bigint REFERENCES appointments (id),
    filled_at      timestamptz,
    filled_minutes integer,
    channel        text CHECK (channel IN ('desk', 'offer', 'self')),
    CHECK (ends_at > starts_at),
    CHECK ((filled_by IS NULL) = (filled_at IS NULL) AND (filled_at IS NULL) = (channel IS NULL)
       AND (filled_at IS NULL) = (filled_minutes IS NULL))
);
CREATE INDEX freed_slots_open ON freed_slots USING gist (chair_id, tstzrange(starts_at, ends_at, '[)')) WHERE filled_by IS NULL;
CREATE INDEX freed_slots_starts ON freed_slots (starts_at);

CREATE FUNCTION appointment_freed() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.ends_at > now() THEN
        INSERT INTO freed_slots (appointment_id, chair_id, starts_at, ends_at, freed_at)
        VALUES (NEW.id, NEW.chair_id, greatest(NEW.starts_at, date_trunc('minute', now())), NEW.ends_at, now())
        ON CONFLICT (appointment_id) DO NOTHING;
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER appointment_freed AFTER UPDATE OF status ON appointments
    FOR EACH ROW WHEN (OLD.status = 'booked' AND NEW.status IN ('cancelled', 'no_show'))
    EXECUTE FUNCTION appointment_freed();

CREATE FUNCTION appointment_fills() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE freed_slots f SET filled_by = NEW.id, filled_at = now(), channel = NEW.placed_by,
        filled_minutes = ceil(extract(epoch FROM least(f.ends_at, NEW.ends_at) - greatest(f.starts_at, NEW.starts_at)) / 60)
    WHERE f.chair_id = NEW.chair_id AND f.filled_by IS NULL AND f.appointment_id <> NEW.id
      AND tstzrange(f.starts_at, f.ends_at, '[)') && tstzrange(NEW.starts_at, NEW.ends_at, '[)');
    RETURN NULL;
END
$$;
CREATE TRIGGER appointment_fills_insert AFTER INSERT ON appointments
    FOR EACH ROW WHEN (NEW.status = 'booked') EXECUTE FUNCTION appointment_fills();
CREATE TRIGGER appointment_fills_move AFTER UPDATE OF starts_at, chair_id ON appointments
    FOR EACH ROW WHEN (NEW.status = 'booked' AND (OLD.starts_at <> NEW.starts_at OR OLD.chair_id <> NEW.chair_id))
    EXECUTE FUNCTION appointment_fills();

GRANT SELECT, INSERT, UPDATE ON waitlist, fill_offers, freed_slots TO infusiondesk_app;
GRANT SELECT, INSERT ON fill_offer_links TO infusiondesk_app;
