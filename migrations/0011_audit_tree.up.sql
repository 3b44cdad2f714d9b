-- The audit log without a lock every transaction queues on, sealed into a
-- Merkle tree (issue 15).
--
-- Before: every audited transaction took audit_head's row lock to extend a
-- hash chain, so every read and write in the system queued on one row, and
-- a superuser could rebuild the whole chain consistently. Now an audited
-- transaction only inserts its row; a sealer (one at a time, see
-- internal/postgres/auditlog.go) appends committed rows, in seq order, as
-- leaves of an RFC 6962 tree (golang.org/x/mod/sumdb/tlog) and signs each
-- new tree head with an ed25519 key in the note format. A head saved
-- outside the database proves later that the log only grew.
DROP TRIGGER audit_chain ON audit_log;
DROP FUNCTION audit_chain();
DROP FUNCTION audit_row_hash(bytea, audit_log);
DROP TABLE audit_head;
ALTER TABLE audit_log DROP COLUMN prev_hash, DROP COLUMN hash;

CREATE SEQUENCE audit_log_seq AS bigint OWNED BY audit_log.seq;
SELECT setval('audit_log_seq', max(seq)) FROM audit_log HAVING max(seq) IS NOT NULL;

-- A row's seq and time come from the database, never the caller. The
-- transaction's id is assigned before its seq: audit_mark relies on it.
CREATE FUNCTION audit_stamp() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
    PERFORM pg_current_xact_id();
    NEW.seq := nextval('audit_log_seq');
    NEW.at := now();
    RETURN NEW;
END
$$;
CREATE TRIGGER audit_stamp BEFORE INSERT ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_stamp();

-- A mark for the sealer: the last seq handed out, then a transaction id
-- assigned after it. Every transaction that took a seq up to last_seq took
-- its transaction id before (audit_stamp), so it is older than xid; once no
-- transaction older than xid runs (a snapshot's xmin is past it), the rows
-- up to last_seq are final: each is committed and visible, or never will be.
CREATE FUNCTION audit_mark(OUT last_seq bigint, OUT xid text)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
    last_seq := coalesce(pg_sequence_last_value('audit_log_seq'), 0);
    xid := pg_current_xact_id()::text;
END
$$;

-- The tree, stored as tlog tiles of height 8: each row holds up to 256
-- hashes of one level. A tile only ever grows (a partial tile is replaced
-- by a wider one with the same hashes first).
CREATE TABLE audit_tiles (
    level  smallint NOT NULL CHECK (level >= 0),
    n      bigint NOT NULL CHECK (n >= 0),
    width  int NOT NULL CHECK (width BETWEEN 1 AND 256),
    hashes bytea NOT NULL CHECK (length(hashes) = width * 32),
    PRIMARY KEY (level, n)
);

CREATE FUNCTION audit_tiles_grow() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.level <> OLD.level OR NEW.n <> OLD.n OR NEW.width < OLD.width
       OR substring(NEW.hashes FROM 1 FOR length(OLD.hashes)) <> OLD.hashes THEN
        RAISE EXCEPTION 'audit tiles only grow' USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER audit_tiles_grow BEFORE UPDATE ON audit_tiles
    FOR EACH ROW EXECUTE FUNCTION audit_tiles_grow();

-- The sealed log: every row with seq <= last_seq is one of the tree's size
-- leaves, in seq order; head is the signed tree head (a note).
CREATE TABLE audit_seal (
    id        boolean PRIMARY KEY DEFAULT true CHECK (id),
    size      bigint NOT NULL DEFAULT 0 CHECK (size >= 0),
    last_seq  bigint NOT NULL DEFAULT 0 CHECK (last_seq >= 0),
    root      bytea NOT NULL DEFAULT decode(repeat('00', 32), 'hex') CHECK (length(root) = 32),
    head      text NOT NULL DEFAULT '',
    sealed_at timestamptz
);
INSERT INTO audit_seal DEFAULT VALUES;

CREATE FUNCTION audit_seal_grows() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.size < OLD.size OR NEW.last_seq < OLD.last_seq THEN
        RAISE EXCEPTION 'the sealed audit log only grows' USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER audit_seal_grows BEFORE UPDATE ON audit_seal
    FOR EACH ROW EXECUTE FUNCTION audit_seal_grows();

-- The keys heads are signed with, by their note verifier key. skey is kept
-- only for a key the server generated because AUDIT_SIGNING_KEY was not
-- set; a key from the environment is recorded by its public half alone.
CREATE TABLE audit_keys (
    vkey       text PRIMARY KEY,
    skey       text,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX audit_keys_one_generated ON audit_keys ((true)) WHERE skey IS NOT NULL;

GRANT SELECT, INSERT, UPDATE ON audit_tiles TO infusiondesk_app;
GRANT SELECT, UPDATE ON audit_seal TO infusiondesk_app;
GRANT SELECT, INSERT ON audit_keys TO infusiondesk_app;

-- The clinic's settings (the clinic row, opening hours, closures, chairs) carry one
-- version that every change bumps, so a server can cache them and know,
-- from one number read with the session, whether its copy is current.
ALTER TABLE clinic ADD COLUMN settings_version bigint NOT NULL DEFAULT 1;

CREATE FUNCTION clinic_settings_bump() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    NEW.settings_version := OLD.settings_version + 1;
    RETURN NEW;
END
$$;
CREATE TRIGGER clinic_settings_bump BEFORE UPDATE ON clinic
    FOR EACH ROW EXECUTE FUNCTION clinic_settings_bump();

CREATE FUNCTION clinic_settings_changed() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
    UPDATE clinic SET settings_version = settings_version;
    RETURN NULL;
END
$$;
CREATE TRIGGER opening_hours_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON opening_hours
    FOR EACH STATEMENT EXECUTE FUNCTION clinic_settings_changed();
CREATE TRIGGER closures_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON closures
    FOR EACH STATEMENT EXECUTE FUNCTION clinic_settings_changed();
CREATE TRIGGER chairs_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON chairs
    FOR EACH STATEMENT EXECUTE FUNCTION clinic_settings_changed();
