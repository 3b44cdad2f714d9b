-- How the clinic writes dates and times (pages, messages, calendar
-- entries), and each patient's language.
ALTER TABLE clinic
    ADD COLUMN clock      text NOT NULL DEFAULT '12h' CHECK (clock IN ('12h', '24h')),
    ADD COLUMN date_order text NOT NULL DEFAULT 'mdy' CHECK (date_order IN ('mdy', 'dmy'));

ALTER TABLE patients
    ADD COLUMN language text NOT NULL DEFAULT 'en' CHECK (language IN ('en', 'es'));
