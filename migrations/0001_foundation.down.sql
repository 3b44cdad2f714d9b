DROP FUNCTION audit_row_hash(bytea, audit_log);
DROP TABLE audit_log;
DROP FUNCTION audit_chain();
DROP FUNCTION audit_append_only();
DROP TABLE audit_head;
DROP TABLE login_failures;
DROP TABLE sessions;
DROP TABLE users;

REVOKE ALL ON schema_migrations FROM infusiondesk_app;
REVOKE ALL ON SCHEMA public FROM infusiondesk_app;

-- The role belongs to the whole cluster; drop it unless another database
-- still grants it something.
DO $$
BEGIN
    DROP ROLE IF EXISTS infusiondesk_app;
EXCEPTION WHEN dependent_objects_still_exist THEN
    RAISE NOTICE 'role infusiondesk_app kept: other databases still use it';
END
$$;
