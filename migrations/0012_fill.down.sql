DROP TRIGGER appointment_fills_move ON appointments;
DROP TRIGGER appointment_fills_insert ON appointments;
DROP FUNCTION appointment_fills();
DROP TRIGGER appointment_freed ON appointments;
DROP FUNCTION appointment_freed();
DROP TABLE freed_slots;
DELETE FROM messages WHERE kind = 'offer';
ALTER TABLE messages DROP CONSTRAINT messages_about,
    ADD CONSTRAINT messages_check1 CHECK ((kind = 'invitation') = (appointment_id IS NULL));
ALTER TABLE messages DROP CONSTRAINT messages_kind_check,
    ADD CONSTRAINT messages_kind_check CHECK (kind IN ('confirmation', 'reminder', 'moved', 'cancelled', 'invitation'));
ALTER TABLE messages DROP COLUMN offer_id;
DROP TABLE fill_offer_links;
DROP TABLE fill_offers;
DROP TABLE waitlist;
ALTER TABLE appointments DROP COLUMN placed_by;
ALTER TABLE patients DROP COLUMN fill_offers;
ALTER TABLE courses DROP COLUMN self_booking_days_before, DROP COLUMN self_booking_days_after;
