ALTER TABLE patients DROP COLUMN language;
ALTER TABLE clinic DROP COLUMN clock, DROP COLUMN date_order;
