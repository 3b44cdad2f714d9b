-- The calendar: patient search by name prefix, and the lookups booking makes.
-- Lower-cased with the ICU root collation, whatever the database's locale.
CREATE INDEX patients_last_prefix ON patients (lower(last_name COLLATE "und-x-icu") text_pattern_ops);
CREATE INDEX patients_first_prefix ON patients (lower(first_name COLLATE "und-x-icu") text_pattern_ops);
-- Active appointments by chair and time, for "which chairs are busy then".
CREATE INDEX appointments_chair_active ON appointments (chair_id, starts_at)
    WHERE status IN ('booked', 'checked_in', 'completed');
-- Closures are settings; removing one that was added by mistake is allowed
-- (and audited). Appointments are never deleted.
