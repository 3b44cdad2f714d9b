DELETE FROM messages WHERE kind = 'peg';
ALTER TABLE messages DROP CONSTRAINT messages_about,
    ADD CONSTRAINT messages_about CHECK ((kind IN ('invitation', 'offer')) = (appointment_id IS NULL)
        AND (kind = 'offer') = (offer_id IS NOT NULL));
ALTER TABLE messages DROP CONSTRAINT messages_kind_check,
    ADD CONSTRAINT messages_kind_check CHECK (kind IN ('confirmation', 'reminder', 'moved', 'cancelled', 'invitation', 'offer'));
ALTER TABLE journal_entries DROP COLUMN breakthrough_doses;
DROP TABLE peg_scores;
DROP INDEX appointments_held;
ALTER TABLE appointments DROP CONSTRAINT appointments_clearance, DROP CONSTRAINT appointments_screen,
    DROP COLUMN clear_reason, DROP COLUMN cleared_by, DROP COLUMN cleared_at, DROP COLUMN holds,
    DROP COLUMN screening, DROP COLUMN bp_diastolic, DROP COLUMN bp_systolic;
DROP TABLE kiosk_links;
DROP TABLE consent_signatures;
DROP TABLE consent_forms;
