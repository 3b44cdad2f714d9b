-- Reports (issue 20): when each chair was out of service (so that past
-- utilisation counts the chairs a day really had), and the desk's call
-- notes on loading series that stopped.

-- A chair out of service on the clinic days [from_on, until_on); until_on
-- is null while it still is. Kept by a trigger on chairs.active, so that no
-- path that takes a chair out of service can forget it.
CREATE TABLE chair_outages (
    id       bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    chair_id bigint NOT NULL REFERENCES chairs (id),
    from_on  date NOT NULL,
    until_on date,
    CONSTRAINT chair_outages_order CHECK (until_on IS NULL OR until_on > from_on),
    CONSTRAINT chair_outages_no_overlap EXCLUDE USING gist (
        chair_id WITH =, daterange(from_on, until_on, '[)') WITH &&)
);

-- Chairs already out of service: as far as anyone knows, always were.
INSERT INTO chair_outages (chair_id, from_on) SELECT id, date '2000-01-01' FROM chairs WHERE NOT active;

-- Taking a chair out of service opens an outage from the clinic's today;
-- putting it back closes it at today (an outage begun today is dropped:
-- the chair never missed a day).
CREATE FUNCTION chair_service_changed() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    today date := (now() AT TIME ZONE (SELECT timezone FROM clinic))::date;
BEGIN
    IF NOT NEW.active AND (TG_OP = 'INSERT' OR OLD.active) THEN
        INSERT INTO chair_outages (chair_id, from_on) VALUES (NEW.id, today);
    ELSIF TG_OP = 'UPDATE' AND NEW.active AND NOT OLD.active THEN
        DELETE FROM chair_outages WHERE chair_id = NEW.id AND until_on IS NULL AND from_on >= today;
        UPDATE chair_outages SET until_on = today WHERE chair_id = NEW.id AND until_on IS NULL;
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER chair_service_changed AFTER INSERT OR UPDATE OF active ON chairs
    FOR EACH ROW EXECUTE FUNCTION chair_service_changed();

-- The desk's note on a call to a patient whose loading series stopped.
CREATE TABLE series_calls (
    id        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    series_id bigint NOT NULL REFERENCES loading_series (id),
    note      text NOT NULL CHECK (btrim(note) <> '' AND length(note) <= 1000),
    called_by bigint REFERENCES users (id),
    called_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX series_calls_series ON series_calls (series_id, called_at);

-- The reports read a period's visits by clinic day, and a loading
-- series' or course's sessions whatever their status.
CREATE INDEX appointments_local_date ON appointments (local_date);
CREATE INDEX appointments_series ON appointments (series_id) WHERE series_id IS NOT NULL;
CREATE INDEX appointments_loading_course ON appointments (course_id) WHERE kind = 'loading';

GRANT SELECT, INSERT, UPDATE, DELETE ON chair_outages TO infusiondesk_app;
GRANT SELECT, INSERT ON series_calls TO infusiondesk_app;
