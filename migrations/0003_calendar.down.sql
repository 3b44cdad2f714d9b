DROP INDEX appointments_chair_active;
DROP INDEX patients_first_prefix;
DROP INDEX patients_last_prefix;
