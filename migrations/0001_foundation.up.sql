-- Foundation: the application's database role, users, sessions, sign-in
-- throttling and the append-only, hash-chained audit log.

-- The server connects as whatever DATABASE_URL names and then switches to
-- this role (SET ROLE), so that its privileges are exactly the grants below:
-- no DELETE on clinical tables, no UPDATE or DELETE on the audit log.
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'infusiondesk_app') THEN
        CREATE ROLE infusiondesk_app NOLOGIN;
    END IF;
END
$$;
GRANT infusiondesk_app TO CURRENT_USER;
GRANT USAGE ON SCHEMA public TO infusiondesk_app;
GRANT SELECT ON schema_migrations TO infusiondesk_app;

CREATE TABLE users (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    email         text NOT NULL UNIQUE
                  CONSTRAINT users_email_format CHECK (email = lower(email) AND email ~ '^[^@\s]+@[^@\s]+\.[^@\s]+$' AND length(email) <= 254),
    name          text NOT NULL CONSTRAINT users_name_present CHECK (btrim(name) <> '' AND length(name) <= 200),
    role          text NOT NULL CONSTRAINT users_role_known CHECK (role IN ('admin', 'front_desk', 'nurse', 'physician', 'patient')),
    password_hash text NOT NULL,
    disabled_at   timestamptz,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    version       integer NOT NULL DEFAULT 1
);

-- Server-side sessions for the web (cookie) and the API (bearer token). Only
-- a SHA-256 of the token is stored, so a copy of this table opens nothing.
CREATE TABLE sessions (
    token_hash   bytea PRIMARY KEY CHECK (length(token_hash) = 32),
    user_id      bigint NOT NULL REFERENCES users (id),
    kind         text NOT NULL CHECK (kind IN ('web', 'api')),
    created_at   timestamptz NOT NULL DEFAULT now(),
    last_seen_at timestamptz NOT NULL DEFAULT now(),
    idle_seconds integer NOT NULL CHECK (idle_seconds > 0),
    expires_at   timestamptz NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id);
CREATE INDEX sessions_expires ON sessions (expires_at);

-- Failed sign-ins, counted per account (email) and per client address.
CREATE TABLE login_failures (
    id      bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    email   text NOT NULL,
    address text NOT NULL,
    at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX login_failures_email ON login_failures (email, at);
CREATE INDEX login_failures_address ON login_failures (address, at);

-- The audit log: who did what to which record, and when. Rows are chained:
-- each row's hash covers the previous row's hash and its own content, so a
-- removed or altered row breaks the chain. audit_head holds the chain's end;
-- its row lock serialises appends.
CREATE TABLE audit_log (
    seq        bigint PRIMARY KEY,
    at         timestamptz NOT NULL,
    actor_id   bigint REFERENCES users (id),
    actor_role text,
    action     text NOT NULL CHECK (action ~ '^[a-z_]+\.[a-z_]+$'),
    entity     text NOT NULL,
    entity_id  bigint,
    patient_id bigint,
    request_id text NOT NULL DEFAULT '',
    address    text NOT NULL DEFAULT '',
    before     jsonb,
    after      jsonb,
    prev_hash  bytea NOT NULL,
    hash       bytea NOT NULL
);
CREATE INDEX audit_log_patient ON audit_log (patient_id, seq) WHERE patient_id IS NOT NULL;
CREATE INDEX audit_log_actor ON audit_log (actor_id, seq);

CREATE TABLE audit_head (
    id   boolean PRIMARY KEY DEFAULT true CHECK (id),
    seq  bigint NOT NULL,
    hash bytea NOT NULL
);
INSERT INTO audit_head (seq, hash) VALUES (0, decode(repeat('00', 32), 'hex'));

-- The hash of one row given the previous row's hash. Independent of the
-- session's time zone: the time is rendered in UTC.
CREATE FUNCTION audit_row_hash(prev bytea, r audit_log) RETURNS bytea
LANGUAGE sql STABLE AS $$
    SELECT sha256(prev || convert_to(concat_ws(E'\x1f',
        r.seq::text,
        to_char(r.at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
        coalesce(r.actor_id::text, ''),
        coalesce(r.actor_role, ''),
        r.action,
        r.entity,
        coalesce(r.entity_id::text, ''),
        coalesce(r.patient_id::text, ''),
        r.request_id,
        r.address,
        coalesce(r.before::text, ''),
        coalesce(r.after::text, '')), 'UTF8'))
$$;

-- Runs as the owner so the application role needs no write access to
-- audit_head; the time is the database's, not the caller's.
CREATE FUNCTION audit_chain() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    head audit_head;
BEGIN
    SELECT * INTO head FROM audit_head FOR UPDATE;
    NEW.at := now();
    NEW.seq := head.seq + 1;
    NEW.prev_hash := head.hash;
    NEW.hash := audit_row_hash(head.hash, NEW);
    UPDATE audit_head SET seq = NEW.seq, hash = NEW.hash;
    RETURN NEW;
END
$$;
CREATE TRIGGER audit_chain BEFORE INSERT ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_chain();

CREATE FUNCTION audit_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only' USING ERRCODE = 'insufficient_privilege';
END
$$;
CREATE TRIGGER audit_no_change BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_append_only();
CREATE TRIGGER audit_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_append_only();

GRANT SELECT, INSERT, UPDATE ON users TO infusiondesk_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON sessions, login_failures TO infusiondesk_app;
GRANT SELECT, INSERT ON audit_log TO infusiondesk_app;
GRANT SELECT ON audit_head TO infusiondesk_app;
GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO infusiondesk_app;
